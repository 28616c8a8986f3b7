package policy

// create-pods: no Role or ClusterRole rule grants create (or "*") on core "pods" (or "*").

func init() {
	register(ruleCheck("create-pods", "no rule grants create on pods",
		"create on pods", []string{"create"}, resourceRef{group: "", resource: "pods"}))
}
