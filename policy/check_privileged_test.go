package policy_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/policy"
)

func TestPrivileged(t *testing.T) {
	priv := corev1.SecurityContext{Privileged: ptr.To(true)}
	podCheck(t, policy.EKS180, policy.DefaultSettings(), "privileged", "4.2.1", []podCase{
		{name: "no security context", spec: corev1.PodSpec{Containers: []corev1.Container{ctr("app")}}},
		{name: "privileged false", spec: corev1.PodSpec{Containers: []corev1.Container{withSC(ctr("app"), corev1.SecurityContext{Privileged: ptr.To(false)})}}},
		{
			name: "regular container",
			spec: corev1.PodSpec{Containers: []corev1.Container{ctr("sidecar"), withSC(ctr("app"), priv)}},
			want: []want{fails("containers[1].securityContext.privileged", `container "app" must not set securityContext.privileged=true`)},
		},
		{
			name: "init container",
			spec: corev1.PodSpec{InitContainers: []corev1.Container{withSC(ctr("setup"), priv)}, Containers: []corev1.Container{ctr("app")}},
			want: []want{fails("initContainers[0].securityContext.privileged", `init container "setup" must not set securityContext.privileged=true`)},
		},
		{
			name: "ephemeral container",
			spec: corev1.PodSpec{Containers: []corev1.Container{ctr("app")}, EphemeralContainers: []corev1.EphemeralContainer{ephemeral(withSC(ctr("debugger"), priv))}},
			want: []want{fails("ephemeralContainers[0].securityContext.privileged", `ephemeral container "debugger" must not set securityContext.privileged=true`)},
		},
		{
			name: "all three, in init, regular, ephemeral order",
			spec: corev1.PodSpec{
				InitContainers:      []corev1.Container{withSC(ctr("setup"), priv)},
				Containers:          []corev1.Container{withSC(ctr("app"), priv)},
				EphemeralContainers: []corev1.EphemeralContainer{ephemeral(withSC(ctr("debugger"), priv))},
			},
			want: []want{
				fails("initContainers[0].securityContext.privileged", `init container "setup" must not set securityContext.privileged=true`),
				fails("containers[0].securityContext.privileged", `container "app" must not set securityContext.privileged=true`),
				fails("ephemeralContainers[0].securityContext.privileged", `ephemeral container "debugger" must not set securityContext.privileged=true`),
			},
		},
		{
			// Windows HostProcess containers are the Windows form of privilege; a Linux-style
			// privileged flag is not one of the Linux-only fields the check skips.
			name: "windows pod still checked",
			spec: windows(corev1.PodSpec{Containers: []corev1.Container{withSC(ctr("app"), priv)}}),
			want: []want{fails("containers[0].securityContext.privileged", `container "app" must not set securityContext.privileged=true`)},
		},
	})
}

func TestResultMessage(t *testing.T) {
	results := evaluate(t, policy.EKS180, policy.DefaultSettings(), "Pod",
		workloads(testNamespace, corev1.PodSpec{Containers: []corev1.Container{withSC(ctr("app"), corev1.SecurityContext{Privileged: ptr.To(true)})}})[0].Obj,
		policy.OperationCreate, nil, "privileged")
	if len(results) != 1 {
		t.Fatalf("want one result, got %v", results)
	}
	if got, want := results[0].Message(), `[4.2.1] container "app" must not set securityContext.privileged=true`; got != want {
		t.Errorf("Message() = %q, want %q", got, want)
	}
	if got, want := results[0].Title, "Minimize the admission of privileged containers"; got != want {
		t.Errorf("Title = %q, want %q", got, want)
	}
}
