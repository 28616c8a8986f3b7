package policy

// privileged: no container of any kind (init, regular, ephemeral) sets
// securityContext.privileged=true. Applies to Windows pods as well.

func init() {
	register(containerCheck("privileged", "no container sets securityContext.privileged=true", allPods, privileged))
}

func privileged(_ *Input, c Container) []Finding {
	if sc := c.SecurityContext; sc != nil && sc.Privileged != nil && *sc.Privileged {
		return []Finding{fail(c.Field("securityContext.privileged"), c.Describe()+" must not set securityContext.privileged=true")}
	}
	return nil
}
