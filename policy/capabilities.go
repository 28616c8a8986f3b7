package policy

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// capList is a container's capabilities.add or capabilities.drop as containerd (the runtime of
// EKS nodes) reads it, in containerd's pkg/cri/opts WithCapabilities: an entry "ALL" in any case
// (util.InStringSlice compares with strings.EqualFold) means every capability; every other entry
// x becomes "CAP_"+strings.ToUpper(x). So "net_raw" is CAP_NET_RAW, but "CAP_NET_RAW" becomes
// CAP_CAP_NET_RAW and "CAP_ALL" becomes CAP_CAP_ALL: capabilities that do not exist, entries
// with no effect. containerd applies add ALL, then drop ALL, then the single adds, then the single
// drops, so a single drop beats an add of the same capability.
type capList struct {
	all bool
	// caps are the capabilities named, as "CAP_" + upper case.
	caps []string
	// noEffect are the entries, as written, that name no Linux capability.
	noEffect []string
}

func readCaps(entries []corev1.Capability) capList {
	var l capList
	for _, e := range entries {
		if strings.EqualFold(string(e), "ALL") {
			l.all = true
			continue
		}
		name := "CAP_" + strings.ToUpper(string(e))
		if !linuxCapabilities[name] {
			l.noEffect = append(l.noEffect, string(e))
			continue
		}
		l.caps = append(l.caps, name)
	}
	return l
}

// names reports whether the list names the capability ("NET_RAW") itself, not through ALL.
func (l capList) names(capability string) bool { return slices.Contains(l.caps, "CAP_"+capability) }

// containerCaps are a container's add and drop lists as the runtime reads them.
type containerCaps struct{ add, drop capList }

// capabilitiesOf is the one place that reads a container's capabilities for the checks.
func capabilitiesOf(c Container) containerCaps {
	sc := c.SecurityContext
	if sc == nil || sc.Capabilities == nil {
		return containerCaps{}
	}
	return containerCaps{add: readCaps(sc.Capabilities.Add), drop: readCaps(sc.Capabilities.Drop)}
}

// adds reports whether the container ends up with a capability the runtime's default set does not
// give it: added by name or through ALL, and not dropped by name afterwards (containerd drops
// single entries last; a drop of ALL comes before the single adds).
func (cc containerCaps) adds(capability string) bool {
	if cc.drop.names(capability) {
		return false
	}
	return cc.add.names(capability) || (cc.add.all && !cc.drop.all)
}

// noEffect describes the entries of a list that have no effect, for a finding's detail:
// ` ("CAP_NET_RAW" has no effect: the runtime reads it as CAP_CAP_NET_RAW)`, or "".
func (l capList) noEffectNote() string {
	if len(l.noEffect) == 0 {
		return ""
	}
	var notes []string
	for _, e := range l.noEffect {
		notes = append(notes, quote(e)+" has no effect: the runtime reads it as CAP_"+strings.ToUpper(e))
	}
	return " (" + strings.Join(notes, "; ") + ")"
}

// linuxCapabilities are the capabilities of Linux 6.x (capabilities(7)); containerd's ALL is the
// set the kernel knows, and any other name is no capability.
var linuxCapabilities = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range []string{
		"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
		"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
		"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
		"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
		"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
		"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
	} {
		m["CAP_"+c] = true
	}
	return m
}()
