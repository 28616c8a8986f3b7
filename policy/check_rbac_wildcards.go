package policy

import "slices"

// rbac-wildcards: no Role or ClusterRole rule uses "*" in apiGroups, resources or verbs.

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
					name     string
					values   []string
					wildcard func(string) bool
				}{{"apiGroups", rule.APIGroups, isAll}, {"resources", rule.Resources, isResourceWildcard}, {"verbs", rule.Verbs, isAll}} {
					if slices.ContainsFunc(field.values, field.wildcard) {
						path := indexed("rules", i) + "." + field.name
						out = append(out, fail(path, path+` must list its values explicitly, not "*" (or "*/subresource")`))
					}
				}
			}
			return out
		},
	})
}

// isAll is RBAC's only wildcard in apiGroups and verbs: "*" itself (APIGroupMatches, VerbMatches).
func isAll(v string) bool { return v == "*" }
