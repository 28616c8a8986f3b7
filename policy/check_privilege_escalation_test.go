package policy_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestPrivilegeEscalation(t *testing.T) {
	off := corev1.SecurityContext{AllowPrivilegeEscalation: ptr(false)}
	on := corev1.SecurityContext{AllowPrivilegeEscalation: ptr(true)}
	const unset = " must set securityContext.allowPrivilegeEscalation=false (unset defaults to true)"
	const set = " must set securityContext.allowPrivilegeEscalation=false, not true"
	podCheck(t, policy.EKS180, policy.DefaultSettings(), "privilege-escalation", "4.2.5", []podCase{
		{name: "false everywhere", spec: corev1.PodSpec{
			InitContainers:      []corev1.Container{withSC(ctr("setup"), off)},
			Containers:          []corev1.Container{withSC(ctr("app"), off)},
			EphemeralContainers: []corev1.EphemeralContainer{ephemeral(withSC(ctr("debugger"), off))},
		}},
		{
			name: "no security context says unset defaults to true",
			spec: corev1.PodSpec{Containers: []corev1.Container{ctr("app")}},
			want: []want{fails("containers[0].securityContext.allowPrivilegeEscalation", `container "app"`+unset)},
		},
		{
			name: "security context without the field",
			spec: corev1.PodSpec{Containers: []corev1.Container{withSC(ctr("app"), corev1.SecurityContext{RunAsNonRoot: ptr(true)})}},
			want: []want{fails("containers[0].securityContext.allowPrivilegeEscalation", `container "app"`+unset)},
		},
		{
			name: "explicit true",
			spec: corev1.PodSpec{Containers: []corev1.Container{withSC(ctr("app"), on)}},
			want: []want{fails("containers[0].securityContext.allowPrivilegeEscalation", `container "app"`+set)},
		},
		{
			name: "init and ephemeral containers",
			spec: corev1.PodSpec{
				InitContainers:      []corev1.Container{ctr("setup")},
				Containers:          []corev1.Container{withSC(ctr("app"), off)},
				EphemeralContainers: []corev1.EphemeralContainer{ephemeral(withSC(ctr("debugger"), on))},
			},
			want: []want{
				fails("initContainers[0].securityContext.allowPrivilegeEscalation", `init container "setup"`+unset),
				fails("ephemeralContainers[0].securityContext.allowPrivilegeEscalation", `ephemeral container "debugger"`+set),
			},
		},
		{name: "windows pod skipped", spec: windows(corev1.PodSpec{Containers: []corev1.Container{ctr("app"), withSC(ctr("b"), on)}})},
		{
			name: "os linux is checked",
			spec: corev1.PodSpec{OS: &corev1.PodOS{Name: corev1.Linux}, Containers: []corev1.Container{ctr("app")}},
			want: []want{fails("containers[0].securityContext.allowPrivilegeEscalation", `container "app"`+unset)},
		},
	})
}
