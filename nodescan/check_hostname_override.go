package nodescan

func init() {
	register(&Check{
		Slug:     "hostname-override",
		Decides:  "--hostname-override is not set",
		Evaluate: evaluateHostnameOverride,
	})
}

// evaluateHostnameOverride decides hostname-override: --hostname-override is not set. It is a flag
// only; KubeletConfiguration has no such key.
func evaluateHostnameOverride(ev *Evidence) Outcome {
	const expected = "not set"
	if o, ok := configUnavailable(ev, expected); ok {
		return o
	}
	s := hostnameOverride.effective(ev.Config)
	if s.Source.Kind != SourceFlag {
		return settingOutcome(s, true, expected, expected, "the kubelet registers under the host's own name")
	}
	return settingOutcome(s, false, expected, s.Value,
		"the kubelet registers as "+s.Value+", which TLS between the API server and the kubelet may not match")
}
