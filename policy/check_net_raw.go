package policy

// net-raw: no container runs with NET_RAW, which the runtime grants by default. A container must
// drop it (by name or through ALL, as the runtime reads the list: capabilities.go) and must not
// add it back (by name or through ALL). Skipped for Windows pods.

func init() {
	register(containerCheck("net-raw", "every container drops NET_RAW (or ALL) and does not add it, as containerd reads the lists", linuxPodOnly, netRaw))
}

func netRaw(_ *Input, c Container) []Finding {
	cc := capabilitiesOf(c)
	var out []Finding
	if cc.adds("NET_RAW") {
		out = append(out, fail(c.Field("securityContext.capabilities.add"),
			c.Describe()+" must not add capability NET_RAW"))
	}
	if !cc.drop.all && !cc.drop.names("NET_RAW") {
		out = append(out, fail(c.Field("securityContext.capabilities.drop"),
			c.Describe()+` must drop capability NET_RAW (securityContext.capabilities.drop: ["ALL"] or ["NET_RAW"])`+cc.drop.noEffectNote()))
	}
	return out
}
