// 5.1.4 approved-registries: every container image starts with one of the configured registry
// prefixes. With no prefixes configured the check is off (Config.ModeFor says so).
package policy

import (
	"strconv"
	"strings"
)

func init() {
	register(&Check{
		Slug:    "approved-registries",
		Decides: "every container image starts with a configured registry prefix",
		Targets: []Target{TargetPodSpec},
		Evaluate: func(in *Input) []Finding {
			prefixes := in.Settings.Registries
			if len(prefixes) == 0 {
				return nil
			}
			var out []Finding
			VisitContainers(in.Pod, func(c Container) {
				for _, p := range prefixes {
					if strings.HasPrefix(c.Image, p) {
						return
					}
				}
				out = append(out, fail(c.Field("image"), c.Describe()+" image "+strconv.Quote(c.Image)+
					" must come from an approved registry ("+strings.Join(quoteAll(prefixes), ", ")+")"))
			})
			return out
		},
	})
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}
