package nodescan

func init() {
	register(&Check{
		Slug:     "authorization-mode",
		Decides:  "effective authorization.mode (--authorization-mode) is not AlwaysAllow",
		Evaluate: evaluateAuthorizationMode,
	})
}

// evaluateAuthorizationMode decides authorization-mode: effective authorization.mode is not
// AlwaysAllow. Unset, it is Webhook with a config file and AlwaysAllow flags-only.
func evaluateAuthorizationMode(ev *Evidence) Outcome {
	const expected = "not AlwaysAllow"
	if o, ok := configUnavailable(ev, expected); ok {
		return o
	}
	s := authorizationMode.effective(ev.Config)
	compliant := s.Value != AuthorizationAlwaysAllow
	detail := "the kubelet authorizes requests with mode " + string(s.Value)
	if !compliant {
		detail = "the kubelet authorizes every authenticated request"
	}
	return settingOutcome(s, compliant, expected, string(s.Value), detail+s.unsetSuffix(ev.Config.Mode))
}
