package policy

// create-pods: no Role or ClusterRole rule grants create (or "*") on core "pods" (or "*").
// resourceNames do not narrow the grant to nothing: a server-side apply that creates a Pod asks
// create with its name (rbacVerbs, the create row), so the rule lets its holder create those Pods.

func init() {
	register(ruleCheck("create-pods", "no rule grants create on pods",
		"create on pods", []string{"create"}, resourceRef{group: "", resource: "pods"}))
}
