package cloudscan

import (
	"context"

	"github.com/cisgate/cisgate/evidence"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// Check is the definition of one cloud item, decided on the evidence of a scan.
type Check = evidence.Check[Evidence]

// Outcome is what a check found.
type Outcome = evidence.Outcome

// AutoModeSection3 is what the report says of section 3 on an EKS Auto Mode cluster: its nodes
// allow no host access, so no node scan can run, and AWS manages the kubelet.
const AutoModeSection3 = "managed by AWS (Auto Mode)"

// checks are the cloud items of every benchmark version, added by each check's file.
var checks evidence.Registry[Evidence]

func register(c *Check) { checks.Register(c) }

// Checks lists the definitions, sorted by slug.
func Checks() []*Check { return checks.Checks() }

// Evaluate decides every cloud item the catalogue's benchmark carries.
func Evaluate(ev *Evidence, cat *policy.Catalogue) report.Scan {
	r := report.Scan{Benchmark: cat.Benchmark(), Results: checks.Evaluate(ev, cat),
		CloudCluster: &report.CloudCluster{Cluster: ev.Cluster, Region: ev.Region, Errors: ev.errorStrings(), Calls: ev.Calls}}
	if ev.EKS != nil {
		auto := autoMode(ev)
		r.AutoMode = &auto
		if auto {
			r.Section3 = AutoModeSection3
		}
	}
	return r
}

func autoMode(ev *Evidence) bool {
	cc := ev.EKS.ComputeConfig
	return cc != nil && cc.Enabled != nil && *cc.Enabled
}

// Scan reads a cluster's evidence and evaluates the cloud items of a benchmark on it.
func Scan(ctx context.Context, t Target, b policy.Benchmark) (report.Scan, error) {
	cat, err := policy.CatalogueFor(b)
	if err != nil {
		return report.Scan{}, err
	}
	if err := registerMetrics(); err != nil {
		return report.Scan{}, err
	}
	scansTotal.Inc()
	return Evaluate(Collect(ctx, t), cat), nil
}
