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
	return boolSettingOutcome(ev, makeIPTablesUtilChains, true,
		"the kubelet keeps its iptables utility chains in place", "the kubelet leaves iptables to other tools")
}
