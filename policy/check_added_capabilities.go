package policy

// added-capabilities: no container adds any capability. An entry that has no effect in the
// runtime (capabilities.go) still fails: the manifest asks for a capability, and its detail says
// the entry does nothing. Skipped for Windows pods, which have no Linux capabilities.

func init() {
	register(containerCheck("added-capabilities", "no container sets securityContext.capabilities.add", linuxPodOnly, addedCapabilities))
}

func addedCapabilities(_ *Input, c Container) []Finding {
	sc := c.SecurityContext
	if sc == nil || sc.Capabilities == nil || len(sc.Capabilities.Add) == 0 {
		return nil
	}
	add := make([]string, len(sc.Capabilities.Add))
	for i, a := range sc.Capabilities.Add {
		add[i] = string(a)
	}
	return []Finding{fail(c.Field("securityContext.capabilities.add"),
		c.Describe()+" must not add capabilities (adds "+quoteList(add)+")"+capabilitiesOf(c).add.noEffectNote())}
}
