package policy

// webhook-config-access: no ClusterRole rule grants a write (create, update, patch, delete,
// deletecollection, or "*") on validating or mutating webhook configurations: deleting them all
// at once switches admission control off as surely as deleting one. The configurations are
// cluster-scoped, so a Role cannot grant them.

func init() {
	register(ruleCheck("webhook-config-access", "no ClusterRole rule grants create, update, patch, delete or deletecollection on admission webhook configurations",
		"create, update, patch, delete or deletecollection on webhook configurations", []string{"create", "update", "patch", "delete", "deletecollection"},
		resourceRef{group: "admissionregistration.k8s.io", resource: "validatingwebhookconfigurations", clusterScoped: true}, resourceRef{group: "admissionregistration.k8s.io", resource: "mutatingwebhookconfigurations", clusterScoped: true}))
}
