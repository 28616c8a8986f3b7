package policy_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestNetRaw(t *testing.T) {
	caps := func(name string, add, drop []corev1.Capability) corev1.Container {
		return withSC(ctr(name), corev1.SecurityContext{Capabilities: &corev1.Capabilities{Add: add, Drop: drop}})
	}
	const mustDrop = ` must drop capability NET_RAW (securityContext.capabilities.drop: ["ALL"] or ["NET_RAW"])`
	podCheck(t, policy.EKS101, policy.DefaultSettings(), "net-raw", "4.2.7", []podCase{
		{name: "drop ALL", spec: corev1.PodSpec{Containers: []corev1.Container{caps("app", nil, []corev1.Capability{"ALL"})}}},
		{name: "drop NET_RAW", spec: corev1.PodSpec{Containers: []corev1.Container{caps("app", nil, []corev1.Capability{"NET_RAW"})}}},
		// containerd pkg/cri/opts WithCapabilities: "ALL" in any case (util.InStringSlice uses
		// strings.EqualFold); every other entry x becomes "CAP_"+strings.ToUpper(x).
		{name: "drop lower-case net_raw", spec: corev1.PodSpec{Containers: []corev1.Container{caps("app", nil, []corev1.Capability{"net_raw"})}}},
		{name: "drop lower-case all", spec: corev1.PodSpec{Containers: []corev1.Container{caps("app", nil, []corev1.Capability{"all"})}}},
		{
			name: "drop CAP_NET_RAW drops nothing (CAP_CAP_NET_RAW)",
			spec: corev1.PodSpec{Containers: []corev1.Container{caps("app", nil, []corev1.Capability{"CAP_NET_RAW"})}},
			want: []want{fails("containers[0].securityContext.capabilities.drop", `container "app"`+mustDrop+
				` ("CAP_NET_RAW" has no effect: the runtime reads it as CAP_CAP_NET_RAW)`)},
		},
		{
			name: "drop CAP_ALL drops nothing (CAP_CAP_ALL)",
			spec: corev1.PodSpec{Containers: []corev1.Container{caps("app", nil, []corev1.Capability{"CAP_ALL"})}},
			want: []want{fails("containers[0].securityContext.capabilities.drop", `container "app"`+mustDrop+
				` ("CAP_ALL" has no effect: the runtime reads it as CAP_CAP_ALL)`)},
		},
		// The single drops come last: adding NET_RAW and dropping it by name leaves it out.
		{name: "add and drop NET_RAW by name", spec: corev1.PodSpec{Containers: []corev1.Container{caps("app", []corev1.Capability{"NET_RAW"}, []corev1.Capability{"NET_RAW"})}}},
		// add ALL comes before drop ALL: nothing is left.
		{name: "add ALL, drop ALL", spec: corev1.PodSpec{Containers: []corev1.Container{caps("app", []corev1.Capability{"ALL"}, []corev1.Capability{"all"})}}},
		{name: "drop ALL, add another", spec: corev1.PodSpec{Containers: []corev1.Container{caps("app", []corev1.Capability{"NET_BIND_SERVICE"}, []corev1.Capability{"ALL"})}}},
		{
			name: "nothing dropped",
			spec: corev1.PodSpec{Containers: []corev1.Container{ctr("app")}},
			want: []want{fails("containers[0].securityContext.capabilities.drop", `container "app"`+mustDrop)},
		},
		{
			name: "drops something else",
			spec: corev1.PodSpec{Containers: []corev1.Container{caps("app", nil, []corev1.Capability{"SYS_ADMIN"})}},
			want: []want{fails("containers[0].securityContext.capabilities.drop", `container "app"`+mustDrop)},
		},
		{
			name: "drops ALL but adds NET_RAW back",
			spec: corev1.PodSpec{Containers: []corev1.Container{caps("app", []corev1.Capability{"NET_RAW"}, []corev1.Capability{"ALL"})}},
			want: []want{fails("containers[0].securityContext.capabilities.add", `container "app" must not add capability NET_RAW`)},
		},
		{
			name: "adds ALL without dropping",
			spec: corev1.PodSpec{Containers: []corev1.Container{caps("app", []corev1.Capability{"ALL"}, nil)}},
			want: []want{
				fails("containers[0].securityContext.capabilities.add", `container "app" must not add capability NET_RAW`),
				fails("containers[0].securityContext.capabilities.drop", `container "app"`+mustDrop),
			},
		},
		{
			name: "init and ephemeral containers",
			spec: corev1.PodSpec{
				InitContainers:      []corev1.Container{caps("setup", []corev1.Capability{"net_raw"}, []corev1.Capability{"ALL"})},
				Containers:          []corev1.Container{caps("app", nil, []corev1.Capability{"ALL"})},
				EphemeralContainers: []corev1.EphemeralContainer{ephemeral(ctr("debugger"))},
			},
			want: []want{
				fails("initContainers[0].securityContext.capabilities.add", `init container "setup" must not add capability NET_RAW`),
				fails("ephemeralContainers[0].securityContext.capabilities.drop", `ephemeral container "debugger"`+mustDrop),
			},
		},
		{name: "windows pod skipped", spec: windows(corev1.PodSpec{Containers: []corev1.Container{caps("app", []corev1.Capability{"NET_RAW"}, nil)}})},
	})
}
