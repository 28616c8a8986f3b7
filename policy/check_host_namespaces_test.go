package policy_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestHostNamespaces(t *testing.T) {
	app := []corev1.Container{hardened("app")}
	for _, tc := range []struct {
		slug  policy.Slug
		id    string
		field string
		set   func(*corev1.PodSpec)
	}{
		{"host-pid", "4.2.2", "hostPID", func(s *corev1.PodSpec) { s.HostPID = true }},
		{"host-ipc", "4.2.3", "hostIPC", func(s *corev1.PodSpec) { s.HostIPC = true }},
		{"host-network", "4.2.4", "hostNetwork", func(s *corev1.PodSpec) { s.HostNetwork = true }},
	} {
		t.Run(string(tc.slug), func(t *testing.T) {
			shared := corev1.PodSpec{Containers: app}
			tc.set(&shared)
			// Every host namespace at once: each check reports only its own field.
			all := corev1.PodSpec{Containers: app, HostPID: true, HostIPC: true, HostNetwork: true}
			podCheck(t, policy.EKS180, policy.DefaultSettings(), tc.slug, tc.id, []podCase{
				{name: "not shared", spec: corev1.PodSpec{Containers: app}},
				{name: "shared", spec: shared, want: []want{fails(tc.field, "pod must not set "+tc.field+"=true")}},
				{name: "all shared", spec: all, want: []want{fails(tc.field, "pod must not set "+tc.field+"=true")}},
				{name: "windows pod still checked", spec: windows(shared), want: []want{fails(tc.field, "pod must not set "+tc.field+"=true")}},
			})
		})
	}
}
