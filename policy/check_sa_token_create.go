package policy

// sa-token-create: no Role or ClusterRole rule grants create (or "*") on core
// "serviceaccounts/token" (or "*", "*/token").

func init() {
	register(ruleCheck("sa-token-create", "no rule grants create on serviceaccounts/token",
		"create on serviceaccounts/token", []string{"create"}, resourceRef{group: "", resource: "serviceaccounts/token"}))
}
