package policy

// secrets-access: no Role or ClusterRole rule grants get, list or watch (or "*") on core
// "secrets" (or "*").

func init() {
	register(ruleCheck("secrets-access", "no rule grants get, list or watch on secrets",
		"get, list or watch on secrets", []string{"get", "list", "watch"}, resourceRef{group: "", resource: "secrets"}))
}
