// 4.1.3 rbac-wildcards: no Role or ClusterRole rule uses "*" in apiGroups, resources or verbs.
package policy

import "slices"

func init() {
	register(&Check{
		Slug:    "rbac-wildcards",
		Decides: `no rule has "*" in apiGroups, resources or verbs`,
		Targets: []Target{TargetRole},
		Evaluate: func(in *Input) []Finding {
			rules, _ := in.rules()
			var out []Finding
			for i, rule := range rules {
				for _, field := range []struct {
					name   string
					values []string
				}{{"apiGroups", rule.APIGroups}, {"resources", rule.Resources}, {"verbs", rule.Verbs}} {
					if slices.Contains(field.values, "*") {
						path := indexed("rules", i) + "." + field.name
						out = append(out, fail(path, path+` must list its values explicitly, not "*"`))
					}
				}
			}
			return out
		},
	})
}
