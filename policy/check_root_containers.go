package policy

// root-containers: every container runs as non-root: the effective runAsNonRoot (container over
// pod) is true, and no effective runAsUser is 0. Skipped for Windows pods.

func init() {
	register(containerCheck("root-containers", "every container runs with runAsNonRoot=true and no runAsUser=0", linuxPodOnly, rootContainers))
}

func rootContainers(in *Input, c Container) []Finding {
	var nonRoot *bool
	var user *int64
	userPath := in.Pod.Field("securityContext.runAsUser")
	if podSC := in.Pod.Spec.SecurityContext; podSC != nil {
		nonRoot, user = podSC.RunAsNonRoot, podSC.RunAsUser
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsNonRoot != nil {
			nonRoot = sc.RunAsNonRoot
		}
		if sc.RunAsUser != nil {
			user, userPath = sc.RunAsUser, c.Field("securityContext.runAsUser")
		}
	}
	var out []Finding
	if user != nil && *user == 0 {
		out = append(out, fail(userPath, c.Describe()+" must not run as runAsUser=0"))
	}
	if nonRoot == nil || !*nonRoot {
		out = append(out, fail(c.Field("securityContext.runAsNonRoot"),
			c.Describe()+" must set securityContext.runAsNonRoot=true (on the container or the pod)"))
	}
	return out
}
