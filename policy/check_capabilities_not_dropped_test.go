package policy_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestCapabilitiesNotDropped(t *testing.T) {
	drop := func(name string, drop ...corev1.Capability) corev1.Container {
		return withSC(ctr(name), corev1.SecurityContext{Capabilities: &corev1.Capabilities{Drop: drop}})
	}
	const need = ` must set securityContext.capabilities.drop: ["ALL"]`
	cases := []podCase{
		{name: "drops ALL", spec: corev1.PodSpec{Containers: []corev1.Container{drop("app", "ALL")}}},
		{name: "drops lower-case all among others", spec: corev1.PodSpec{Containers: []corev1.Container{drop("app", "NET_RAW", "all")}}},
		{
			name: "no security context",
			spec: corev1.PodSpec{Containers: []corev1.Container{ctr("app")}},
			want: []want{fails("containers[0].securityContext.capabilities.drop", `container "app"`+need)},
		},
		{
			name: "drops some but not ALL",
			spec: corev1.PodSpec{Containers: []corev1.Container{drop("app", "NET_RAW", "SYS_ADMIN")}},
			want: []want{fails("containers[0].securityContext.capabilities.drop", `container "app"`+need)},
		},
		{
			name: "init and ephemeral containers",
			spec: corev1.PodSpec{
				InitContainers:      []corev1.Container{ctr("setup")},
				Containers:          []corev1.Container{drop("app", "ALL")},
				EphemeralContainers: []corev1.EphemeralContainer{ephemeral(drop("debugger", "NET_RAW"))},
			},
			want: []want{
				fails("initContainers[0].securityContext.capabilities.drop", `init container "setup"`+need),
				fails("ephemeralContainers[0].securityContext.capabilities.drop", `ephemeral container "debugger"`+need),
			},
		},
		{name: "windows pod skipped", spec: windows(corev1.PodSpec{Containers: []corev1.Container{ctr("app")}})},
	}
	// capabilities-not-dropped is 4.2.9 in eks-1.0.1/1.1.0 and 4.2.8 in eks-1.2.0.
	t.Run("eks-1.1.0", func(t *testing.T) {
		podCheck(t, policy.EKS110, policy.DefaultSettings(), "capabilities-not-dropped", "4.2.9", cases)
	})
	t.Run("eks-1.2.0", func(t *testing.T) {
		podCheck(t, policy.EKS120, policy.DefaultSettings(), "capabilities-not-dropped", "4.2.8", cases)
	})
}
