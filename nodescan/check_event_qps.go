package nodescan

func init() {
	register(&Check{
		Slug:     "event-qps",
		Decides:  "effective eventRecordQPS (--event-qps) is 0 or more; the value is reported",
		Evaluate: evaluateEventQps,
	})
}

// evaluateEventQps decides event-qps: effective eventRecordQPS is 0 (no limit) or above; the value
// is reported for review. Default 50 in both modes.
func evaluateEventQps(ev *Evidence) Outcome {
	const expected = "0 or more"
	if o, ok := configUnavailable(ev, expected); ok {
		return o
	}
	s := eventRecordQPS.effective(ev.Config)
	actual := formatInt32(s.Value)
	var detail string
	switch {
	case s.Value < 0:
		detail = "eventRecordQPS " + actual + " is negative"
	case s.Value == 0:
		detail = "eventRecordQPS is 0: event creation is not rate-limited"
	default:
		detail = "the kubelet records at most " + actual + " events per second; review that this captures the events you need"
	}
	return settingOutcome(s, s.Value >= 0, expected, actual, detail+s.unsetSuffix(ev.Config.Mode))
}
