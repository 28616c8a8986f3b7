package nodescan

func init() {
	register(&Check{
		Slug:     "read-only-port",
		Decides:  "effective readOnlyPort (--read-only-port) is 0",
		Evaluate: evaluateReadOnlyPort,
	})
}

// evaluateReadOnlyPort decides read-only-port: effective readOnlyPort is 0. Unset, it is 0 with a
// config file and 10255 flags-only.
func evaluateReadOnlyPort(ev *Evidence) Outcome {
	const expected = "0"
	if o, ok := configUnavailable(ev, expected); ok {
		return o
	}
	s := readOnlyPort.effective(ev.Config)
	detail := "the unauthenticated read-only port is disabled"
	if s.Value != 0 {
		detail = "the kubelet serves its API without authentication on port " + formatInt32(s.Value)
	}
	return settingOutcome(s, s.Value == 0, expected, formatInt32(s.Value), detail+s.unsetSuffix(ev.Config.Mode))
}
