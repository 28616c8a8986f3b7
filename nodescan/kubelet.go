package nodescan

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// layout is where an OS image keeps the kubelet's files, for scans that cannot see the process.
type layout struct {
	name       string
	config     string
	configDir  string
	kubeconfig string
}

// knownLayouts are tried in order when no kubelet process is visible; the first whose config
// file exists wins (docs/architecture.md, "A node scan").
var knownLayouts = []layout{
	{name: "Amazon Linux 2 (EKS AMI)", config: "/etc/kubernetes/kubelet/kubelet-config.json", kubeconfig: "/var/lib/kubelet/kubeconfig"},
	{name: "Amazon Linux 2023 (nodeadm)", config: "/etc/kubernetes/kubelet/config.json", configDir: "/etc/kubernetes/kubelet/config.json.d", kubeconfig: "/var/lib/kubelet/kubeconfig"},
	{name: "Bottlerocket", config: "/etc/kubernetes/kubelet/config", kubeconfig: "/etc/kubernetes/kubelet/kubeconfig"},
	{name: "kubeadm", config: "/var/lib/kubelet/config.yaml", kubeconfig: "/etc/kubernetes/kubelet.conf"},
}

// Located is a kubelet file and how the scan learnt its path.
type Located struct {
	// Path is the node path; empty when the kubelet uses none.
	Path string
	// From is `flag --config`, `flag --config via systemd ExecStart in PATH` or `layout NAME`.
	From string
}

// Kubelet is what the scan found out about the node's kubelet.
type Kubelet struct {
	// FoundBy says how: `process 1234`, `systemd ExecStart in PATH` or `layout NAME`.
	FoundBy    string
	Flags      KubeletFlags
	ConfigFile Located
	ConfigDir  Located
	Kubeconfig Located
}

// errKubeletNotFound is the reason every check is WARN on a host without a kubelet.
var errKubeletNotFound = errors.New("kubelet not found: no kubelet process under the proc root, no systemd unit running it and none of the known layouts (" + layoutNames() + ")")

func layoutNames() string {
	names := make([]string, len(knownLayouts))
	for i, l := range knownLayouts {
		names[i] = l.name + " " + l.config
	}
	return strings.Join(names, ", ")
}

// findKubelet finds the kubelet: its process when visible (authoritative: the files are the
// ones it names), else the systemd unit's command line, completed by the first known layout
// for any path the unit does not name.
func findKubelet(h Host) (*Kubelet, error) {
	procRoot := h.procRoot()
	proc, procErr := findKubeletProcess(procRoot)
	if proc != nil {
		flags, err := ParseKubeletFlags(proc.Args)
		if err != nil {
			return nil, fmt.Errorf("kubelet process %d: parse command line: %w", proc.PID, err)
		}
		k := &Kubelet{FoundBy: "process " + strconv.Itoa(proc.PID), Flags: flags}
		located := func(f Flag[string], name string) Located {
			if !f.Set || f.Value == "" {
				return Located{}
			}
			return Located{Path: resolveProcessPath(procRoot, proc.PID, f.Value), From: "flag --" + name}
		}
		k.ConfigFile = located(flags.Config, flagConfig)
		k.ConfigDir = located(flags.ConfigDir, flagConfigDir)
		k.Kubeconfig = located(flags.Kubeconfig, flagKubeconfig)
		return k, nil
	}

	unit, err := readKubeletUnit(h)
	if err != nil {
		return nil, fmt.Errorf("read the kubelet's systemd unit: %w", err)
	}
	k := &Kubelet{}
	if unit != nil {
		flags, err := ParseKubeletFlags(unit.Args)
		if err != nil {
			return nil, fmt.Errorf("%s: parse kubelet command line: %w", unit.Origin, err)
		}
		flags.Origin = unit.Origin
		k.Flags = flags
		if unit.ExecStart {
			k.FoundBy = unit.Origin
		}
		fromUnit := func(f Flag[string], name string) Located {
			if !f.Set || f.Value == "" {
				return Located{}
			}
			return Located{Path: f.Value, From: "flag --" + name + " via " + unit.Origin}
		}
		k.ConfigFile = fromUnit(flags.Config, flagConfig)
		k.ConfigDir = fromUnit(flags.ConfigDir, flagConfigDir)
		k.Kubeconfig = fromUnit(flags.Kubeconfig, flagKubeconfig)
	}
	if k.ConfigFile.Path == "" {
		for _, l := range knownLayouts {
			if !h.exists(l.config) {
				continue
			}
			from := "layout " + l.name
			if k.FoundBy == "" {
				k.FoundBy = from
			}
			// The layout stands in for the --config flag the kubelet was started with.
			k.Flags.Config = Flag[string]{Value: l.config, Set: true}
			k.ConfigFile = Located{Path: l.config, From: from}
			if k.ConfigDir.Path == "" && l.configDir != "" && h.exists(l.configDir) {
				k.Flags.ConfigDir = Flag[string]{Value: l.configDir, Set: true}
				k.ConfigDir = Located{Path: l.configDir, From: from}
			}
			if k.Kubeconfig.Path == "" {
				k.Kubeconfig = Located{Path: l.kubeconfig, From: from}
			}
			break
		}
	}
	if k.FoundBy == "" {
		if procErr != nil {
			return nil, fmt.Errorf("%w; reading the proc root: %w", errKubeletNotFound, unwrapPathError(procErr))
		}
		return nil, errKubeletNotFound
	}
	return k, nil
}
