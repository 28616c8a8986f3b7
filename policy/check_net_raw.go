// net-raw (4.2.7 in eks-1.0.1 and 1.1.0): every container must drop NET_RAW (or ALL) and must
// not add it back. Skipped for Windows pods.
package policy

import "slices"

func init() {
	register(&Check{
		Slug:    "net-raw",
		Decides: "every container drops NET_RAW (or ALL) and does not add it",
		Targets: []Target{TargetPodSpec},
		Evaluate: func(in *Input) []Finding {
			if in.Pod.IsWindows() {
				return nil
			}
			var out []Finding
			VisitContainers(in.Pod, func(c Container) {
				add, drop := capabilities(c)
				if slices.Contains(add, "NET_RAW") || slices.Contains(add, "ALL") {
					out = append(out, fail(c.Field("securityContext.capabilities.add"),
						c.Describe()+" must not add capability NET_RAW"))
				}
				if !dropsAll(drop) && !slices.Contains(drop, "NET_RAW") {
					out = append(out, fail(c.Field("securityContext.capabilities.drop"),
						c.Describe()+` must drop capability NET_RAW (securityContext.capabilities.drop: ["ALL"] or ["NET_RAW"])`))
				}
			})
			return out
		},
	})
}
