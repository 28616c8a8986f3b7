package policy_test

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestNodeProxy(t *testing.T) {
	const prefix = " must not grant any verb on nodes/proxy (grants "
	clusterRBACTable(t, policy.EKS180, "node-proxy", "4.1.10", []ruleCase{
		{name: "nodes itself", rules: []rbacv1.PolicyRule{rule(ss(""), ss("nodes", "nodes/status"), ss("get", "list", "watch"))}},
		// RBAC has no "resource/*" wildcard: nodes/* names a subresource literally called "*".
		{name: "nodes/* does not match nodes/proxy", rules: []rbacv1.PolicyRule{rule(ss(""), ss("nodes/*"), ss("get"))}},
		{name: "*/status does not match nodes/proxy", rules: []rbacv1.PolicyRule{rule(ss(""), ss("*/status"), ss("get"))}},
		{name: "nodes/proxy in another group", rules: []rbacv1.PolicyRule{rule(ss("metrics.k8s.io"), ss("nodes/proxy"), ss("get"))}},
		{name: "get nodes/proxy", rules: []rbacv1.PolicyRule{rule(ss(""), ss("nodes"), ss("get")), rule(ss(""), ss("nodes/proxy"), ss("get"))},
			want: []want{fails("rules[1]", `rules[1]`+prefix+`"get" on "nodes/proxy")`)}},
		{name: "create nodes/proxy (websocket exec)", rules: []rbacv1.PolicyRule{rule(ss(""), ss("nodes/proxy"), ss("create", "get"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"get", "create" on "nodes/proxy")`)}},
		{name: "*/proxy", rules: []rbacv1.PolicyRule{rule(ss(""), ss("*/proxy"), ss("get"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"get" on "nodes/proxy")`)}},
		{name: "* resources", rules: []rbacv1.PolicyRule{rule(ss(""), ss("*"), ss("list"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"list" on "nodes/proxy")`)}},
		{name: "* group, * verbs", rules: []rbacv1.PolicyRule{rule(ss("*"), ss("nodes/proxy"), ss("*"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"*" on "nodes/proxy")`)}},
	})
}
