// 4.1.12 sa-token-create: no Role or ClusterRole rule grants create (or "*") on core
// "serviceaccounts/token" (or "*", "*/token").
package policy

func init() {
	register(ruleCheck("sa-token-create", "no rule grants create on serviceaccounts/token",
		"create on serviceaccounts/token", []string{"create"}, resourceRef{"", "serviceaccounts/token"}))
}
