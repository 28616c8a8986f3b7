package policy

// create-persistentvolumes: no Role or ClusterRole rule grants create (or "*") on core
// "persistentvolumes" (or "*"), resourceNames or not (a server-side apply creates the named
// volume: rbacVerbs, the create row).

func init() {
	register(ruleCheck("create-persistentvolumes", "no rule grants create on persistentvolumes",
		"create on persistentvolumes", []string{"create"}, resourceRef{group: "", resource: "persistentvolumes", clusterScoped: true}))
}
