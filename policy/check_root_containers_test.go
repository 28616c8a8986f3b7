package policy_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/policy"
)

func TestRootContainers(t *testing.T) {
	nonRoot := corev1.SecurityContext{RunAsNonRoot: ptr.To(true)}
	podSC := func(sc corev1.PodSecurityContext, cs ...corev1.Container) corev1.PodSpec {
		return corev1.PodSpec{SecurityContext: &sc, Containers: cs}
	}
	const needNonRoot = " must set securityContext.runAsNonRoot=true (on the container or the pod)"
	podCheck(t, policy.EKS120, policy.DefaultSettings(), "root-containers", "4.2.6", []podCase{
		{name: "container runAsNonRoot", spec: corev1.PodSpec{Containers: []corev1.Container{withSC(ctr("app"), nonRoot)}}},
		{name: "pod runAsNonRoot and a non-zero user", spec: podSC(corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(int64(1000))}, ctr("app"))},
		{name: "container user overrides pod root user", spec: podSC(corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(int64(0))},
			withSC(ctr("app"), corev1.SecurityContext{RunAsUser: ptr.To(int64(65532))}))},
		{
			name: "nothing set",
			spec: corev1.PodSpec{Containers: []corev1.Container{ctr("app")}},
			want: []want{fails("containers[0].securityContext.runAsNonRoot", `container "app"`+needNonRoot)},
		},
		{
			name: "container runAsNonRoot=false overrides the pod's true",
			spec: podSC(corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true)}, withSC(ctr("app"), corev1.SecurityContext{RunAsNonRoot: ptr.To(false)})),
			want: []want{fails("containers[0].securityContext.runAsNonRoot", `container "app"`+needNonRoot)},
		},
		{
			name: "pod runAsUser 0 names the pod field",
			spec: podSC(corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To(int64(0))}, ctr("app")),
			want: []want{fails("securityContext.runAsUser", `container "app" must not run as runAsUser=0`)},
		},
		{
			name: "container runAsUser 0 names the container field",
			spec: corev1.PodSpec{Containers: []corev1.Container{withSC(ctr("app"), corev1.SecurityContext{RunAsUser: ptr.To(int64(0))})}},
			want: []want{
				fails("containers[0].securityContext.runAsUser", `container "app" must not run as runAsUser=0`),
				fails("containers[0].securityContext.runAsNonRoot", `container "app"`+needNonRoot),
			},
		},
		{
			name: "init and ephemeral containers",
			spec: corev1.PodSpec{
				InitContainers:      []corev1.Container{ctr("setup")},
				Containers:          []corev1.Container{withSC(ctr("app"), nonRoot)},
				EphemeralContainers: []corev1.EphemeralContainer{ephemeral(ctr("debugger"))},
			},
			want: []want{
				fails("initContainers[0].securityContext.runAsNonRoot", `init container "setup"`+needNonRoot),
				fails("ephemeralContainers[0].securityContext.runAsNonRoot", `ephemeral container "debugger"`+needNonRoot),
			},
		},
		{name: "windows pod skipped", spec: windows(corev1.PodSpec{Containers: []corev1.Container{ctr("app")}})},
	})
}
