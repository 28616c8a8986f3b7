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
	return boolSettingOutcome(ev, protectKernelDefaults, true,
		"the kubelet refuses to start when kernel tunables differ from its defaults", "the kubelet changes kernel tunables it needs instead of failing")
}
