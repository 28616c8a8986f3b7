// 3.2.8 hostname-override (eks-1.0.1 to 1.2.0 only): --hostname-override is not set. It is a
// flag only; KubeletConfiguration has no such key.
package nodescan

func init() {
	register(&Check{
		Slug:    "hostname-override",
		Decides: "--hostname-override is not set",
		Evaluate: func(ev *Evidence) Outcome {
			const expected = "not set"
			if o, ok := configUnavailable(ev, expected); ok {
				return o
			}
			s := ev.Config.HostnameOverride
			if s.Source.Kind != SourceFlag {
				return settingOutcome(s, true, expected, expected, "the kubelet registers under the host's own name")
			}
			return settingOutcome(s, false, expected, s.Value,
				"the kubelet registers as "+s.Value+", which TLS between the API server and the kubelet may not match")
		},
	})
}
