package nodescan

func init() {
	register(&Check{
		Slug:     "iptables-util-chains",
		Decides:  "effective makeIPTablesUtilChains (--make-iptables-util-chains) is true",
		Evaluate: evaluateIptablesUtilChains,
	})
}

// evaluateIptablesUtilChains decides iptables-util-chains: effective makeIPTablesUtilChains is
// true, its default in both modes.
func evaluateIptablesUtilChains(ev *Evidence) Outcome {
	const expected = "true"
	if o, ok := configUnavailable(ev, expected); ok {
		return o
	}
	s := makeIPTablesUtilChains.effective(ev.Config)
	detail := "the kubelet keeps its iptables utility chains in place"
	if !s.Value {
		detail = "the kubelet leaves iptables to other tools"
	}
	return settingOutcome(s, s.Value, expected, formatBool(s.Value), detail+s.unsetSuffix(ev.Config.Mode))
}
