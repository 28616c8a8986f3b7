// root-containers (4.2.6 in eks-1.0.1 to 1.2.0): every container must run as non-root: the
// effective runAsNonRoot (container over pod) is true, and no effective runAsUser is 0.
// Skipped for Windows pods.
package policy

import corev1 "k8s.io/api/core/v1"

func init() {
	register(&Check{
		Slug:    "root-containers",
		Decides: "every container runs with runAsNonRoot=true and no runAsUser=0",
		Targets: []Target{TargetPodSpec},
		Evaluate: func(in *Input) []Finding {
			if in.Pod.IsWindows() {
				return nil
			}
			podSC := in.Pod.Spec.SecurityContext
			if podSC == nil {
				podSC = &corev1.PodSecurityContext{}
			}
			var out []Finding
			VisitContainers(in.Pod, func(c Container) {
				nonRoot, user := podSC.RunAsNonRoot, podSC.RunAsUser
				userPath := in.Pod.Field("securityContext.runAsUser")
				if sc := c.SecurityContext; sc != nil {
					if sc.RunAsNonRoot != nil {
						nonRoot = sc.RunAsNonRoot
					}
					if sc.RunAsUser != nil {
						user, userPath = sc.RunAsUser, c.Field("securityContext.runAsUser")
					}
				}
				if user != nil && *user == 0 {
					out = append(out, fail(userPath, c.Describe()+" must not run as runAsUser=0"))
				}
				if nonRoot == nil || !*nonRoot {
					out = append(out, fail(c.Field("securityContext.runAsNonRoot"),
						c.Describe()+" must set securityContext.runAsNonRoot=true (on the container or the pod)"))
				}
			})
			return out
		},
	})
}
