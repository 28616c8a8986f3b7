package policy_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestSecurityContext(t *testing.T) {
	seccomp := func(typ corev1.SeccompProfileType) *corev1.SeccompProfile { return &corev1.SeccompProfile{Type: typ} }
	podSeccomp := func(typ corev1.SeccompProfileType, cs ...corev1.Container) corev1.PodSpec {
		return corev1.PodSpec{SecurityContext: &corev1.PodSecurityContext{SeccompProfile: seccomp(typ)}, Containers: cs}
	}
	ctrSeccomp := func(name string, typ corev1.SeccompProfileType) corev1.Container {
		return withSC(ctr(name), corev1.SecurityContext{SeccompProfile: seccomp(typ)})
	}
	const need = " must set securityContext.seccompProfile.type to RuntimeDefault or Localhost (on the container or the pod)"
	cases := []podCase{
		{name: "pod RuntimeDefault", spec: podSeccomp(corev1.SeccompProfileTypeRuntimeDefault, ctr("app"), ctr("sidecar"))},
		{name: "pod Localhost", spec: podSeccomp(corev1.SeccompProfileTypeLocalhost, ctr("app"))},
		{name: "container RuntimeDefault", spec: corev1.PodSpec{Containers: []corev1.Container{ctrSeccomp("app", corev1.SeccompProfileTypeRuntimeDefault)}}},
		{name: "container overrides an unconfined pod", spec: podSeccomp(corev1.SeccompProfileTypeUnconfined, ctrSeccomp("app", corev1.SeccompProfileTypeLocalhost))},
		{
			name: "nothing set",
			spec: corev1.PodSpec{Containers: []corev1.Container{ctr("app")}},
			want: []want{fails("containers[0].securityContext.seccompProfile.type", `container "app"`+need)},
		},
		{
			name: "pod Unconfined",
			spec: podSeccomp(corev1.SeccompProfileTypeUnconfined, ctr("app")),
			want: []want{fails("containers[0].securityContext.seccompProfile.type", `container "app"`+need)},
		},
		{
			name: "container Unconfined overrides a RuntimeDefault pod",
			spec: podSeccomp(corev1.SeccompProfileTypeRuntimeDefault, ctr("app"), ctrSeccomp("debug", corev1.SeccompProfileTypeUnconfined)),
			want: []want{fails("containers[1].securityContext.seccompProfile.type", `container "debug"`+need)},
		},
		{
			name: "init and ephemeral containers",
			spec: corev1.PodSpec{
				InitContainers:      []corev1.Container{ctr("setup")},
				Containers:          []corev1.Container{ctrSeccomp("app", corev1.SeccompProfileTypeRuntimeDefault)},
				EphemeralContainers: []corev1.EphemeralContainer{ephemeral(ctr("debugger"))},
			},
			want: []want{
				fails("initContainers[0].securityContext.seccompProfile.type", `init container "setup"`+need),
				fails("ephemeralContainers[0].securityContext.seccompProfile.type", `ephemeral container "debugger"`+need),
			},
		},
		{name: "windows pod skipped", spec: windows(corev1.PodSpec{Containers: []corev1.Container{ctr("app")}})},
	}
	// security-context is 4.6.2 up to eks-1.2.0 and 4.5.2 in eks-1.5.0.
	t.Run("eks-1.2.0", func(t *testing.T) {
		podCheck(t, policy.EKS120, policy.DefaultSettings(), "security-context", "4.6.2", cases)
	})
	t.Run("eks-1.5.0", func(t *testing.T) {
		podCheck(t, policy.EKS150, policy.DefaultSettings(), "security-context", "4.5.2", cases)
	})
}
