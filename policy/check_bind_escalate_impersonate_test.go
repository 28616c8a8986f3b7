package policy_test

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestBindEscalateImpersonate(t *testing.T) {
	const prefix = " must not grant bind, escalate or impersonate (grants "
	cases := []ruleCase{
		{name: "ordinary verbs", rules: []rbacv1.PolicyRule{rule(ss("rbac.authorization.k8s.io"), ss("roles", "rolebindings"), ss("get", "create", "update"))}},
		{name: "non-resource URLs with * verbs", rules: []rbacv1.PolicyRule{{NonResourceURLs: ss("/metrics"), Verbs: ss("*")}}},
		{name: "bind", rules: []rbacv1.PolicyRule{rule(ss("rbac.authorization.k8s.io"), ss("clusterroles"), ss("get", "bind"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"bind" on "clusterroles")`)}},
		{name: "escalate and bind", rules: []rbacv1.PolicyRule{rule(ss("rbac.authorization.k8s.io"), ss("roles", "clusterroles"), ss("escalate", "bind"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"bind", "escalate" on "roles", "clusterroles")`)}},
		{name: "impersonate", rules: []rbacv1.PolicyRule{rule(ss(""), ss("users", "groups", "serviceaccounts"), ss("impersonate"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"impersonate" on "users", "groups", "serviceaccounts")`)}},
		{name: "* verbs on anything", rules: []rbacv1.PolicyRule{rule(ss("apps"), ss("deployments"), ss("*"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"*" on "deployments")`)}},
	}
	for _, b := range []policy.Benchmark{policy.EKS120, policy.EKS150, policy.EKS170, policy.EKS180} {
		t.Run(string(b), func(t *testing.T) { rbacTable(t, b, "bind-escalate-impersonate", "4.1.8", cases) })
	}
}
