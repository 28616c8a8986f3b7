// 4.2.5 privilege-escalation: every container must set securityContext.allowPrivilegeEscalation
// to false explicitly; unset means true for a Linux container. Skipped for Windows pods, which
// cannot set it (as Pod Security Admission does).
package policy

func init() {
	register(&Check{
		Slug:    "privilege-escalation",
		Decides: "every container sets securityContext.allowPrivilegeEscalation=false",
		Targets: []Target{TargetPodSpec},
		Evaluate: func(in *Input) []Finding {
			if in.Pod.IsWindows() {
				return nil
			}
			var out []Finding
			VisitContainers(in.Pod, func(c Container) {
				sc := c.SecurityContext
				switch {
				case sc == nil || sc.AllowPrivilegeEscalation == nil:
					out = append(out, fail(c.Field("securityContext.allowPrivilegeEscalation"),
						c.Describe()+" must set securityContext.allowPrivilegeEscalation=false (unset defaults to true)"))
				case *sc.AllowPrivilegeEscalation:
					out = append(out, fail(c.Field("securityContext.allowPrivilegeEscalation"),
						c.Describe()+" must set securityContext.allowPrivilegeEscalation=false, not true"))
				}
			})
			return out
		},
	})
}
