package policy

// node-proxy: no Role or ClusterRole rule grants any verb on core "nodes/proxy" (or "*",
// "*/proxy").

func init() {
	register(ruleCheck("node-proxy", "no rule grants any verb on nodes/proxy",
		"any verb on nodes/proxy", []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "proxy"}, resourceRef{group: "", resource: "nodes/proxy", clusterScoped: true}))
}
