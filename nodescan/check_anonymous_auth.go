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
	return boolSettingOutcome(ev, anonymousAuth, false,
		"anonymous requests to the kubelet API are allowed", "anonymous requests to the kubelet API are rejected")
}
