package nodescan

func init() {
	register(&Check{
		Slug:     "authorization-mode-webhook",
		Decides:  "effective authorization.mode (--authorization-mode) is Webhook",
		Evaluate: evaluateAuthorizationModeWebhook,
	})
}

// evaluateAuthorizationModeWebhook decides authorization-mode-webhook (eks-2.0.0 3.2.2): the
// effective authorization.mode is Webhook, so the API server authorizes each request through
// SubjectAccessReview. Anything else fails, AlwaysAllow as well as any other mode. Unset, it is
// Webhook with a config file and AlwaysAllow flags-only (the same resolution as
// authorization-mode).
func evaluateAuthorizationModeWebhook(ev *Evidence) Outcome {
	const expected = string(AuthorizationWebhook)
	if o, ok := configUnavailable(ev, expected); ok {
		return o
	}
	s := authorizationMode.effective(ev.Config)
	compliant := s.Value == AuthorizationWebhook
	detail := "the kubelet asks the API server to authorize each request (mode Webhook)"
	switch {
	case s.Value == AuthorizationAlwaysAllow:
		detail = "the kubelet authorizes every authenticated request (mode AlwaysAllow)"
	case !compliant:
		detail = "the kubelet authorizes requests with mode " + string(s.Value) + ", not Webhook"
	}
	return settingOutcome(s, compliant, expected, string(s.Value), detail+s.unsetSuffix(ev.Config.Mode))
}
