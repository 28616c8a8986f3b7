// added-capabilities (4.2.8 in eks-1.0.1/1.1.0, 4.2.7 in 1.2.0): no container adds any
// capability. Skipped for Windows pods.
package policy

import (
	"strconv"
	"strings"
)

func init() {
	register(&Check{
		Slug:    "added-capabilities",
		Decides: "no container sets securityContext.capabilities.add",
		Targets: []Target{TargetPodSpec},
		Evaluate: func(in *Input) []Finding {
			if in.Pod.IsWindows() {
				return nil
			}
			var out []Finding
			VisitContainers(in.Pod, func(c Container) {
				if add, _ := capabilities(c); len(add) > 0 {
					quoted := make([]string, len(add))
					for i, a := range add {
						quoted[i] = strconv.Quote(a)
					}
					out = append(out, fail(c.Field("securityContext.capabilities.add"),
						c.Describe()+" must not add capabilities (adds "+strings.Join(quoted, ", ")+")"))
				}
			})
			return out
		},
	})
}
