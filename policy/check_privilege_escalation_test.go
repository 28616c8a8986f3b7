package policy_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/policy"
)

func TestPrivilegeEscalation(t *testing.T) {
	off := corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false)}
	on := corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(true)}
	const unset = " must set securityContext.allowPrivilegeEscalation=false (unset defaults to true)"
	const set = " must set securityContext.allowPrivilegeEscalation=false, not true"
	const escalates = " escalates privileges whatever allowPrivilegeEscalation says: "
	addsCaps := func(sc corev1.SecurityContext, add ...corev1.Capability) corev1.Container {
		if sc.Capabilities == nil {
			sc.Capabilities = &corev1.Capabilities{}
		}
		sc.Capabilities.Add = add
		return withSC(ctr("app"), sc)
	}
	withDrop := func(sc corev1.SecurityContext, drop ...corev1.Capability) corev1.SecurityContext {
		sc.Capabilities = &corev1.Capabilities{Drop: drop}
		return sc
	}
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
			spec: corev1.PodSpec{Containers: []corev1.Container{withSC(ctr("app"), corev1.SecurityContext{RunAsNonRoot: ptr.To(true)})}},
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
		// Kubernetes API reference, SecurityContext.allowPrivilegeEscalation: "AllowPrivilegeEscalation
		// is true always when the container is: 1) run as Privileged 2) has CAP_SYS_ADMIN".
		{
			name: "privileged with the field false",
			spec: corev1.PodSpec{Containers: []corev1.Container{withSC(ctr("app"), corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), Privileged: ptr.To(true)})}},
			want: []want{fails("containers[0].securityContext.allowPrivilegeEscalation", `container "app"`+escalates+"it sets securityContext.privileged=true")},
		},
		{
			name: "adds SYS_ADMIN with the field false",
			spec: corev1.PodSpec{Containers: []corev1.Container{addsCaps(off, "SYS_ADMIN")}},
			want: []want{fails("containers[0].securityContext.allowPrivilegeEscalation", `container "app"`+escalates+"it adds capability SYS_ADMIN")},
		},
		{
			// containerd upper-cases every entry ("CAP_"+strings.ToUpper(x)).
			name: "adds sys_admin in lower case",
			spec: corev1.PodSpec{Containers: []corev1.Container{addsCaps(off, "sys_admin")}},
			want: []want{fails("containers[0].securityContext.allowPrivilegeEscalation", `container "app"`+escalates+"it adds capability SYS_ADMIN")},
		},
		{
			// add ALL (any case, util.InStringSlice) grants every capability, SYS_ADMIN included.
			name: "adds all",
			spec: corev1.PodSpec{Containers: []corev1.Container{addsCaps(off, "all")}},
			want: []want{fails("containers[0].securityContext.allowPrivilegeEscalation", `container "app"`+escalates+"it adds capability SYS_ADMIN")},
		},
		{name: "adds all but drops ALL afterwards", spec: corev1.PodSpec{Containers: []corev1.Container{addsCaps(withDrop(off, "ALL"), "ALL")}}},
		{name: "adds SYS_ADMIN and drops it by name", spec: corev1.PodSpec{Containers: []corev1.Container{addsCaps(withDrop(off, "SYS_ADMIN"), "SYS_ADMIN")}}},
		// "CAP_SYS_ADMIN" is CAP_CAP_SYS_ADMIN to containerd: no capability is added.
		{name: "CAP_SYS_ADMIN has no effect", spec: corev1.PodSpec{Containers: []corev1.Container{addsCaps(off, "CAP_SYS_ADMIN")}}},
		{
			name: "os linux is checked",
			spec: corev1.PodSpec{OS: &corev1.PodOS{Name: corev1.Linux}, Containers: []corev1.Container{ctr("app")}},
			want: []want{fails("containers[0].securityContext.allowPrivilegeEscalation", `container "app"`+unset)},
		},
	})
}
