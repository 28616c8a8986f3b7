package policy

// capabilities-not-dropped: every container drops ALL capabilities, as the runtime reads the
// drop list (capabilities.go): "all" in any case counts, "CAP_ALL" does not. Skipped for
// Windows pods.

func init() {
	register(containerCheck("capabilities-not-dropped", `every container sets securityContext.capabilities.drop to include "ALL" (any case; "CAP_ALL" drops nothing)`, linuxPodOnly, capabilitiesNotDropped))
}

func capabilitiesNotDropped(_ *Input, c Container) []Finding {
	drop := capabilitiesOf(c).drop
	if drop.all {
		return nil
	}
	return []Finding{fail(c.Field("securityContext.capabilities.drop"),
		c.Describe()+` must set securityContext.capabilities.drop: ["ALL"]`+drop.noEffectNote())}
}
