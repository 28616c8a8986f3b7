// 4.1.4 create-pods: no Role or ClusterRole rule grants create (or "*") on core "pods" (or "*").
package policy

func init() {
	register(ruleCheck("create-pods", "no rule grants create on pods",
		"create on pods", []string{"create"}, resourceRef{"", "pods"}))
}
