// capabilities-not-dropped (4.2.9 in eks-1.0.1/1.1.0, 4.2.8 in 1.2.0): every container drops
// ALL capabilities. Skipped for Windows pods.
package policy

func init() {
	register(&Check{
		Slug:    "capabilities-not-dropped",
		Decides: `every container sets securityContext.capabilities.drop to include "ALL"`,
		Targets: []Target{TargetPodSpec},
		Evaluate: func(in *Input) []Finding {
			if in.Pod.IsWindows() {
				return nil
			}
			var out []Finding
			VisitContainers(in.Pod, func(c Container) {
				if _, drop := capabilities(c); !dropsAll(drop) {
					out = append(out, fail(c.Field("securityContext.capabilities.drop"),
						c.Describe()+` must set securityContext.capabilities.drop: ["ALL"]`))
				}
			})
			return out
		},
	})
}
