package nodescan

import (
	"errors"
	"io/fs"
	"path"

	"github.com/cisgate/cisgate/report"
)

// Exit codes of `cisgate nodescan`, shared with the scheduler's pod failure policy: both mean the
// scan ran and wrote its report, so the Job fails at once instead of scanning again.
const (
	// ExitFindings: a check FAILed.
	ExitFindings = 1
	// ExitNotScanned: the scan could not read the kubelet's configuration (see NotScanned). It
	// is not 2, which is a usage error, nor 1: a node nobody could read is not a node that fails.
	ExitNotScanned = 3
)

// ExtraHostPathsValue is the Helm value that adds host paths to the scan Job's mounts; a
// not-scanned report names it, since a path outside the mounts is the usual cause.
const ExtraHostPathsValue = "nodeScan.extraHostPaths"

// notScanned decides whether the evidence is enough to scan the node: the kubelet, its
// configuration and its kubeconfig must all be readable. Files the kubelet itself reads
// exist on a running node, so one that is missing here is outside the scan's view.
func notScanned(ev *Evidence) *report.NotScanned {
	switch {
	case ev.Kubelet == nil:
		return &report.NotScanned{Reason: ev.KubeletErr.Error(),
			Hint: "run the scan with the node's PID namespace (hostPID) or mount the kubelet's config file and systemd units (" + ExtraHostPathsValue + ")"}
	case ev.ConfigErr != nil:
		n := &report.NotScanned{Reason: "cannot read the kubelet configuration: " + ev.ConfigErr.Error()}
		var pe *fs.PathError
		if errors.As(ev.ConfigErr, &pe) {
			n.Path = pe.Path
			n.Hint = mountHint(pe)
		}
		return n
	}
	if kc := ev.Kubelet.Kubeconfig; kc.Path != "" {
		if _, err := ev.Host.Stat(kc.Path); err != nil {
			n := &report.NotScanned{Reason: "cannot read the kubelet kubeconfig " + kc.Path + " (" + kc.From + "): " + unwrapPathError(err).Error(), Path: kc.Path}
			var pe *fs.PathError
			if errors.As(err, &pe) {
				n.Hint = mountHint(pe)
			}
			return n
		}
	}
	return nil
}

// mountHint names the host path to mount for a file the scan could not reach. Only a missing
// path is a mount gap; a permission error or a malformed file is not solved by mounting.
func mountHint(pe *fs.PathError) string {
	if !errors.Is(pe.Err, fs.ErrNotExist) {
		return ""
	}
	return "mount " + path.Dir(pe.Path) + " into the scan (Helm value " + ExtraHostPathsValue + ")"
}
