package policy_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestAddedCapabilities(t *testing.T) {
	caps := func(name string, add ...corev1.Capability) corev1.Container {
		return withSC(ctr(name), corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: add, Drop: []corev1.Capability{"ALL"}}})
	}
	cases := []podCase{
		{name: "no capabilities", spec: corev1.PodSpec{Containers: []corev1.Container{ctr("app")}}},
		{name: "drop only", spec: corev1.PodSpec{Containers: []corev1.Container{caps("app")}}},
		{
			// containerd WithCapabilities: "CAP_"+strings.ToUpper(x), so "net_bind_service" works.
			name: "adds one in lower case",
			spec: corev1.PodSpec{Containers: []corev1.Container{caps("app", "net_bind_service")}},
			want: []want{fails("containers[0].securityContext.capabilities.add", `container "app" must not add capabilities (adds "net_bind_service")`)},
		},
		{
			// The same code turns "cap_net_bind_service" into CAP_CAP_NET_BIND_SERVICE: no
			// capability. It still asks for one, so it fails, and the detail says it does nothing.
			name: "an entry with no effect still fails, and says so",
			spec: corev1.PodSpec{Containers: []corev1.Container{caps("app", "cap_net_bind_service")}},
			want: []want{fails("containers[0].securityContext.capabilities.add",
				`container "app" must not add capabilities (adds "cap_net_bind_service") ("cap_net_bind_service" has no effect: the runtime reads it as CAP_CAP_NET_BIND_SERVICE)`)},
		},
		{
			name: "init, regular and ephemeral containers",
			spec: corev1.PodSpec{
				InitContainers:      []corev1.Container{caps("setup", "CHOWN")},
				Containers:          []corev1.Container{caps("app", "NET_ADMIN", "SYS_TIME")},
				EphemeralContainers: []corev1.EphemeralContainer{ephemeral(caps("debugger", "SYS_PTRACE"))},
			},
			want: []want{
				fails("initContainers[0].securityContext.capabilities.add", `init container "setup" must not add capabilities (adds "CHOWN")`),
				fails("containers[0].securityContext.capabilities.add", `container "app" must not add capabilities (adds "NET_ADMIN", "SYS_TIME")`),
				fails("ephemeralContainers[0].securityContext.capabilities.add", `ephemeral container "debugger" must not add capabilities (adds "SYS_PTRACE")`),
			},
		},
		{name: "windows pod skipped", spec: windows(corev1.PodSpec{Containers: []corev1.Container{caps("app", "NET_ADMIN")}})},
	}
	// added-capabilities is 4.2.8 in eks-1.0.1/1.1.0 and 4.2.7 in eks-1.2.0.
	t.Run("eks-1.0.1", func(t *testing.T) {
		podCheck(t, policy.EKS101, policy.DefaultSettings(), "added-capabilities", "4.2.8", cases)
	})
	t.Run("eks-1.2.0", func(t *testing.T) {
		podCheck(t, policy.EKS120, policy.DefaultSettings(), "added-capabilities", "4.2.7", cases)
	})
}
