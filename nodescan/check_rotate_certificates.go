package nodescan

func init() {
	register(&Check{
		Slug:     "rotate-certificates",
		Decides:  "effective rotateCertificates (--rotate-certificates) is not explicitly false",
		Evaluate: evaluateRotateCertificates,
	})
}

// evaluateRotateCertificates decides rotate-certificates: rotateCertificates is not explicitly
// false. The benchmark accepts it unset, though the kubelet's own default is false.
func evaluateRotateCertificates(ev *Evidence) Outcome {
	const expected = "true or not set"
	if o, ok := configUnavailable(ev, expected); ok {
		return o
	}
	s := rotateCertificates.effective(ev.Config)
	switch {
	case s.Source.Kind == SourceDefault:
		return settingOutcome(s, true, expected, "not set",
			"rotateCertificates is not set, which the benchmark accepts; note the kubelet then does not rotate its client certificate")
	case s.Value:
		return settingOutcome(s, true, expected, formatBool(s.Value), "the kubelet rotates its client certificate before it expires")
	}
	return settingOutcome(s, false, expected, formatBool(s.Value), "client certificate rotation is explicitly disabled")
}
