package policy_test

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestSecretsAccess(t *testing.T) {
	const prefix = " must not grant get, list or watch on secrets (grants "
	rbacTable(t, policy.EKS180, "secrets-access", "4.1.2", []ruleCase{
		{name: "configmaps", rules: []rbacv1.PolicyRule{rule(ss(""), ss("configmaps"), ss("get", "list", "watch"))}},
		{name: "create and delete secrets only", rules: []rbacv1.PolicyRule{rule(ss(""), ss("secrets"), ss("create", "delete"))}},
		{name: "secrets in another group", rules: []rbacv1.PolicyRule{rule(ss("external-secrets.io"), ss("secrets"), ss("get"))}},
		{name: "a subresource of secrets is not secrets", rules: []rbacv1.PolicyRule{rule(ss(""), ss("*/status"), ss("get"))}},
		{name: "non-resource URLs", rules: []rbacv1.PolicyRule{{NonResourceURLs: ss("/healthz", "*"), Verbs: ss("get")}}},
		{name: "get and list", rules: []rbacv1.PolicyRule{rule(ss(""), ss("configmaps"), ss("get")), rule(ss(""), ss("pods", "secrets"), ss("get", "list", "create"))},
			want: []want{fails("rules[1]", `rules[1]`+prefix+`"get", "list" on "secrets")`)}},
		{name: "watch with resourceNames", rules: []rbacv1.PolicyRule{{APIGroups: ss(""), Resources: ss("secrets"), ResourceNames: ss("tls"), Verbs: ss("watch")}},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"watch" on "secrets")`)}},
		{name: "* verbs", rules: []rbacv1.PolicyRule{rule(ss(""), ss("secrets"), ss("*"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"*" on "secrets")`)}},
		{name: "* resources", rules: []rbacv1.PolicyRule{rule(ss(""), ss("*"), ss("list"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"list" on "secrets")`)}},
		{name: "* group", rules: []rbacv1.PolicyRule{rule(ss("*"), ss("secrets"), ss("get"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"get" on "secrets")`)}},
		{name: "everything", rules: []rbacv1.PolicyRule{rule(ss("*"), ss("*"), ss("*"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"*" on "secrets")`)}},
	})
}
