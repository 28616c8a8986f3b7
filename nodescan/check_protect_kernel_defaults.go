package nodescan

func init() {
	register(&Check{
		Slug:     "protect-kernel-defaults",
		Decides:  "effective protectKernelDefaults (--protect-kernel-defaults) is true",
		Evaluate: evaluateProtectKernelDefaults,
	})
}

// evaluateProtectKernelDefaults decides protect-kernel-defaults: effective protectKernelDefaults is
// true. The kubelet defaults it to false in both modes.
func evaluateProtectKernelDefaults(ev *Evidence) Outcome {
	const expected = "true"
	if o, ok := configUnavailable(ev, expected); ok {
		return o
	}
	s := protectKernelDefaults.effective(ev.Config)
	detail := "the kubelet refuses to start when kernel tunables differ from its defaults"
	if !s.Value {
		detail = "the kubelet changes kernel tunables it needs instead of failing"
	}
	return settingOutcome(s, s.Value, expected, formatBool(s.Value), detail+s.unsetSuffix(ev.Config.Mode))
}
