package policy

import rbacv1 "k8s.io/api/rbac/v1"

// bind-escalate-impersonate: no Role or ClusterRole rule grants the bind, escalate or
// impersonate verbs (or "*") on any resource.

func init() {
	register(ruleCheck("bind-escalate-impersonate", "no rule grants bind, escalate or impersonate",
		"bind, escalate or impersonate", []string{"bind", "escalate", "impersonate"}, resourceRef{group: rbacv1.APIGroupAll, resource: rbacv1.ResourceAll}))
}
