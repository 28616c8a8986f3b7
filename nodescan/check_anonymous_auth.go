package nodescan

func init() {
	register(&Check{
		Slug:     "anonymous-auth",
		Decides:  "effective authentication.anonymous.enabled (--anonymous-auth) is false",
		Evaluate: evaluateAnonymousAuth,
	})
}

// evaluateAnonymousAuth decides anonymous-auth: effective authentication.anonymous.enabled is
// false. Unset, it is false with a config file and true flags-only (--anonymous-auth defaults to
// true).
func evaluateAnonymousAuth(ev *Evidence) Outcome {
	const expected = "false"
	if o, ok := configUnavailable(ev, expected); ok {
		return o
	}
	s := anonymousAuth.effective(ev.Config)
	detail := "anonymous requests to the kubelet API are rejected"
	if s.Value {
		detail = "anonymous requests to the kubelet API are allowed"
	}
	return settingOutcome(s, !s.Value, expected, formatBool(s.Value), detail+s.unsetSuffix(ev.Config.Mode))
}
