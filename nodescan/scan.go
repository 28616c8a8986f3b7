package nodescan

import (
	"github.com/cisgate/cisgate/evidence"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// Evidence is everything a scan read from one host; checks decide on it and nothing else.
type Evidence struct {
	Host Host
	// Kubelet is nil when KubeletErr says why it was not found.
	Kubelet    *Kubelet
	KubeletErr error
	// ConfigFiles are the --config file and the drop-ins the kubelet loads, in order (the
	// --config-dir itself when it cannot be listed).
	ConfigFiles []Located
	// Config is the effective configuration; ConfigErr says why it could not be resolved (an
	// unreadable or malformed config file or drop-in).
	Config    Config
	ConfigErr error
}

// Collect reads a host: finds the kubelet and resolves its effective configuration.
func Collect(h Host) *Evidence {
	ev := &Evidence{Host: h}
	ev.Kubelet, ev.KubeletErr = findKubelet(h)
	if ev.Kubelet == nil {
		return ev
	}
	k := ev.Kubelet
	if k.ConfigFile.Path != "" {
		ev.ConfigFiles = append(ev.ConfigFiles, k.ConfigFile)
	}
	var dropIns []string
	var dirErr error
	if k.ConfigDir.Path != "" {
		if dropIns, dirErr = listDropIns(h, k.ConfigDir.Path); dirErr != nil {
			// 3.1.3 then reports the directory itself (e.g. "not found at").
			ev.ConfigFiles = append(ev.ConfigFiles, k.ConfigDir)
		}
		for _, p := range dropIns {
			ev.ConfigFiles = append(ev.ConfigFiles, Located{Path: p, From: k.ConfigDir.From})
		}
	}
	// The kubelet reads --config before it walks --config-dir, so a config file error wins.
	layers, err := loadConfigLayers(h, k.ConfigFile.Path, dropIns)
	if err == nil {
		err = dirErr
	}
	if err != nil {
		ev.ConfigErr = err
		return ev
	}
	ev.Config = resolveConfig(ev.Kubelet.Flags, layers)
	return ev
}

// Check is the definition of one section 3 check, decided on a host's evidence.
type Check = evidence.Check[Evidence]

// Outcome is what a check found on one host.
type Outcome = evidence.Outcome

// checks are the section 3 checks of every benchmark version, added by each check's file.
var checks evidence.Registry[Evidence]

func register(c *Check) { checks.Register(c) }

// Checks lists the definitions, sorted by slug.
func Checks() []*Check { return checks.Checks() }

// Evaluate decides every section 3 check the catalogue's benchmark carries.
func Evaluate(ev *Evidence, cat *policy.Catalogue, node string) report.Scan {
	return report.Scan{Benchmark: cat.Benchmark(), Node: node, NotScanned: notScanned(ev), Results: checks.Evaluate(ev, cat)}
}

// Scan reads a host and evaluates section 3 of a benchmark on it.
func Scan(h Host, b policy.Benchmark, node string) (report.Scan, error) {
	cat, err := policy.CatalogueFor(b)
	if err != nil {
		return report.Scan{}, err
	}
	return Evaluate(Collect(h), cat, node), nil
}
