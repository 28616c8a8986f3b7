package nodescan

func init() {
	register(&Check{
		Slug:     "client-ca",
		Decides:  "effective authentication.x509.clientCAFile (--client-ca-file) is set",
		Evaluate: evaluateClientCa,
	})
}

// evaluateClientCa decides client-ca: effective authentication.x509.clientCAFile is non-empty. The
// kubelet has no default for it in either mode.
func evaluateClientCa(ev *Evidence) Outcome {
	const expected = "a CA file path"
	if o, ok := configUnavailable(ev, expected); ok {
		return o
	}
	s := clientCAFile.effective(ev.Config)
	if s.Value == "" {
		return settingOutcome(s, false, expected, "",
			"no client CA file: the kubelet cannot authenticate client certificates")
	}
	detail := "client certificates are verified against " + s.Value
	if !ev.Host.exists(s.Value) {
		detail += " (the file is not present on the host)"
	}
	return settingOutcome(s, true, expected, s.Value, detail)
}
