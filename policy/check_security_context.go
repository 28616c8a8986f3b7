// security-context (4.6.2 in eks-1.0.1 to 1.2.0, 4.5.2 in 1.5.0): every container runs under a
// seccomp profile of type RuntimeDefault or Localhost, set on the container or the pod.
// Skipped for Windows pods.
package policy

import corev1 "k8s.io/api/core/v1"

func init() {
	register(&Check{
		Slug:    "security-context",
		Decides: "every container has seccompProfile.type RuntimeDefault or Localhost (container or pod)",
		Targets: []Target{TargetPodSpec},
		Evaluate: func(in *Input) []Finding {
			if in.Pod.IsWindows() {
				return nil
			}
			var podProfile *corev1.SeccompProfile
			if sc := in.Pod.Spec.SecurityContext; sc != nil {
				podProfile = sc.SeccompProfile
			}
			var out []Finding
			VisitContainers(in.Pod, func(c Container) {
				profile := podProfile
				if sc := c.SecurityContext; sc != nil && sc.SeccompProfile != nil {
					profile = sc.SeccompProfile
				}
				if profile == nil || (profile.Type != corev1.SeccompProfileTypeRuntimeDefault && profile.Type != corev1.SeccompProfileTypeLocalhost) {
					out = append(out, fail(c.Field("securityContext.seccompProfile.type"),
						c.Describe()+" must set securityContext.seccompProfile.type to RuntimeDefault or Localhost (on the container or the pod)"))
				}
			})
			return out
		},
	})
}
