// 4.2.1 privileged: a container of any kind (init, regular, ephemeral) that sets
// securityContext.privileged=true fails. Applies to Windows pods as well.
package policy

func init() {
	register(&Check{
		Slug:    "privileged",
		Decides: "no container sets securityContext.privileged=true",
		Targets: []Target{TargetPodSpec},
		Evaluate: func(in *Input) []Finding {
			var out []Finding
			VisitContainers(in.Pod, func(c Container) {
				if sc := c.SecurityContext; sc != nil && sc.Privileged != nil && *sc.Privileged {
					out = append(out, fail(c.Field("securityContext.privileged"),
						c.Describe()+" must not set securityContext.privileged=true"))
				}
			})
			return out
		},
	})
}
