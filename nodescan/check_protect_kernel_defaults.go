// 3.2.6 protect-kernel-defaults (eks-1.0.1 to 1.2.0 only): effective protectKernelDefaults is
// true. The kubelet defaults it to false in both modes.
package nodescan

func init() {
	register(&Check{
		Slug:    "protect-kernel-defaults",
		Decides: "effective protectKernelDefaults (--protect-kernel-defaults) is true",
		Evaluate: func(ev *Evidence) Outcome {
			const expected = "true"
			if o, ok := configUnavailable(ev, expected); ok {
				return o
			}
			s := ev.Config.ProtectKernelDefaults
			detail := "the kubelet refuses to start when kernel tunables differ from its defaults"
			if !s.Value {
				detail = "the kubelet changes kernel tunables it needs instead of failing"
			}
			return settingOutcome(s, s.Value, expected, formatBool(s.Value), detail+s.unsetSuffix(ev.Config.Mode))
		},
	})
}
