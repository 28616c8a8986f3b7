package nodescan

func init() {
	register(&Check{
		Slug:     "streaming-idle-timeout",
		Decides:  "effective streamingConnectionIdleTimeout (--streaming-connection-idle-timeout) is above 0",
		Evaluate: evaluateStreamingIdleTimeout,
	})
}

// evaluateStreamingIdleTimeout decides streaming-idle-timeout: effective
// streamingConnectionIdleTimeout is above zero. The default is 4h in both modes; a zero in a config
// file or drop-in is re-defaulted to 4h by the kubelet, while --streaming-connection-idle-timeout=0
// really disables the timeout.
func evaluateStreamingIdleTimeout(ev *Evidence) Outcome {
	const expected = "greater than 0s"
	if o, ok := configUnavailable(ev, expected); ok {
		return o
	}
	s := streamingConnectionIdleTimeout.effective(ev.Config)
	detail := "idle streaming connections (exec, attach, port-forward) are closed after " + formatDuration(s.Value)
	if s.Value <= 0 {
		detail = "idle streaming connections are never closed"
	}
	return settingOutcome(s, s.Value > 0, expected, formatDuration(s.Value), detail+s.unsetSuffix(ev.Config.Mode))
}
