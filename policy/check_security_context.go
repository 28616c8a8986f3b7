package policy

import corev1 "k8s.io/api/core/v1"

// security-context: every container runs under a seccomp profile of type RuntimeDefault or
// Localhost, set on the container or the pod. Skipped for Windows pods.

func init() {
	register(containerCheck("security-context",
		"every container has seccompProfile.type RuntimeDefault or Localhost (container or pod)", linuxPodOnly, securityContext))
}

func securityContext(in *Input, c Container) []Finding {
	var profile *corev1.SeccompProfile
	if sc := in.Pod.Spec.SecurityContext; sc != nil {
		profile = sc.SeccompProfile
	}
	if sc := c.SecurityContext; sc != nil && sc.SeccompProfile != nil {
		profile = sc.SeccompProfile
	}
	if profile == nil || (profile.Type != corev1.SeccompProfileTypeRuntimeDefault && profile.Type != corev1.SeccompProfileTypeLocalhost) {
		return []Finding{fail(c.Field("securityContext.seccompProfile.type"),
			c.Describe()+" must set securityContext.seccompProfile.type to RuntimeDefault or Localhost (on the container or the pod)")}
	}
	return nil
}
