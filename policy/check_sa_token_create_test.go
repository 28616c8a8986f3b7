package policy_test

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestSATokenCreate(t *testing.T) {
	const prefix = " must not grant create on serviceaccounts/token (grants "
	rbacTable(t, policy.EKS180, "sa-token-create", "4.1.12", []ruleCase{
		{name: "create serviceaccounts", rules: []rbacv1.PolicyRule{rule(ss(""), ss("serviceaccounts"), ss("create", "get"))}},
		{name: "get the token subresource", rules: []rbacv1.PolicyRule{rule(ss(""), ss("serviceaccounts/token"), ss("get"))}},
		{name: "serviceaccounts/* is not a wildcard", rules: []rbacv1.PolicyRule{rule(ss(""), ss("serviceaccounts/*"), ss("create"))}},
		{name: "create a token", rules: []rbacv1.PolicyRule{rule(ss(""), ss("serviceaccounts/token"), ss("create"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"create" on "serviceaccounts/token")`)}},
		{name: "*/token", rules: []rbacv1.PolicyRule{rule(ss(""), ss("*/token"), ss("create"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"create" on "serviceaccounts/token")`)}},
		// A token request names its ServiceAccount (POST .../serviceaccounts/NAME/token), so
		// resourceNames limit it to those accounts and still grant it.
		{name: "create a named account's token", rules: []rbacv1.PolicyRule{{APIGroups: ss(""), Resources: ss("serviceaccounts/token"), Verbs: ss("create"), ResourceNames: ss("app")}},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"create" on "serviceaccounts/token")`)}},
		{name: "* verbs", rules: []rbacv1.PolicyRule{rule(ss(""), ss("serviceaccounts/token"), ss("*"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"*" on "serviceaccounts/token")`)}},
	})
}
