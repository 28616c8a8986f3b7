package policy_test

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestRBACWildcards(t *testing.T) {
	const explicit = ` must list its values explicitly, not "*" (or "*/subresource")`
	rbacTable(t, policy.EKS180, "rbac-wildcards", "4.1.3", []ruleCase{
		{name: "explicit", rules: []rbacv1.PolicyRule{rule(ss("", "apps"), ss("pods", "deployments"), ss("get", "list"))}},
		// The RBAC authorizer's ResourceMatches reads "*/scale" as the scale subresource of every
		// resource: a wildcard like "*" itself.
		{name: "*/scale is a wildcard", rules: []rbacv1.PolicyRule{rule(ss("apps"), ss("*/scale"), ss("update"))},
			want: []want{fails("rules[0].resources", "rules[0].resources"+explicit)}},
		// "pods/*" is no wildcard to RBAC: it matches only a subresource literally named "*".
		{name: "pods/* is literal", rules: []rbacv1.PolicyRule{rule(ss(""), ss("pods/*"), ss("get"))}},
		{name: "no rules", rules: nil},
		{name: "* group", rules: []rbacv1.PolicyRule{rule(ss(""), ss("pods"), ss("get")), rule(ss("*"), ss("pods"), ss("get"))},
			want: []want{fails("rules[1].apiGroups", "rules[1].apiGroups"+explicit)}},
		{name: "* resource among others", rules: []rbacv1.PolicyRule{rule(ss(""), ss("pods", "*"), ss("get"))},
			want: []want{fails("rules[0].resources", "rules[0].resources"+explicit)}},
		{name: "* verb", rules: []rbacv1.PolicyRule{rule(ss(""), ss("pods"), ss("*"))},
			want: []want{fails("rules[0].verbs", "rules[0].verbs"+explicit)}},
		{name: "all three, in field order", rules: []rbacv1.PolicyRule{rule(ss("*"), ss("*"), ss("*"))},
			want: []want{
				fails("rules[0].apiGroups", "rules[0].apiGroups"+explicit),
				fails("rules[0].resources", "rules[0].resources"+explicit),
				fails("rules[0].verbs", "rules[0].verbs"+explicit),
			}},
		{name: "non-resource URLs with * verbs", rules: []rbacv1.PolicyRule{{NonResourceURLs: ss("/metrics"), Verbs: ss("*")}},
			want: []want{fails("rules[0].verbs", "rules[0].verbs"+explicit)}},
		// The check decides on apiGroups, resources and verbs only (its spec, check_rbac_wildcards.go).
		{name: "non-resource URL wildcard", rules: []rbacv1.PolicyRule{{NonResourceURLs: ss("/healthz/*"), Verbs: ss("get")}}},
	})
}
