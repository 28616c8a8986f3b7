// 4.1.11 webhook-config-access: no Role or ClusterRole rule grants create, update, patch or delete
// (or "*") on validating or mutating webhook configurations.
package policy

func init() {
	register(ruleCheck("webhook-config-access", "no rule grants create, update, patch or delete on admission webhook configurations",
		"create, update, patch or delete on webhook configurations", []string{"create", "update", "patch", "delete"},
		resourceRef{"admissionregistration.k8s.io", "validatingwebhookconfigurations"}, resourceRef{"admissionregistration.k8s.io", "mutatingwebhookconfigurations"}))
}
