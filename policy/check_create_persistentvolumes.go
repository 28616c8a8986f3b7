// 4.1.9 create-persistentvolumes: no Role or ClusterRole rule grants create (or "*") on core
// "persistentvolumes" (or "*").
package policy

func init() {
	register(ruleCheck("create-persistentvolumes", "no rule grants create on persistentvolumes",
		"create on persistentvolumes", []string{"create"}, resourceRef{"", "persistentvolumes"}))
}
