package policy

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// capabilities returns a container's added and dropped capabilities, upper-cased and without a
// CAP_ prefix, as the runtime reads them.
func capabilities(c Container) (add, drop []string) {
	sc := c.SecurityContext
	if sc == nil || sc.Capabilities == nil {
		return nil, nil
	}
	return normaliseCaps(sc.Capabilities.Add), normaliseCaps(sc.Capabilities.Drop)
}

func normaliseCaps(caps []corev1.Capability) []string {
	out := make([]string, 0, len(caps))
	for _, c := range caps {
		out = append(out, strings.TrimPrefix(strings.ToUpper(string(c)), "CAP_"))
	}
	return out
}

func dropsAll(drop []string) bool { return slices.Contains(drop, "ALL") }
