package policy_test

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestCreatePods(t *testing.T) {
	const prefix = " must not grant create on pods (grants "
	rbacTable(t, policy.EKS180, "create-pods", "4.1.4", []ruleCase{
		{name: "read pods", rules: []rbacv1.PolicyRule{rule(ss(""), ss("pods", "pods/log"), ss("get", "list", "watch"))}},
		{name: "exec is a subresource", rules: []rbacv1.PolicyRule{rule(ss(""), ss("pods/exec"), ss("create"))}},
		{name: "create deployments", rules: []rbacv1.PolicyRule{rule(ss("apps"), ss("deployments"), ss("create"))}},
		{name: "pods in another group", rules: []rbacv1.PolicyRule{rule(ss("metrics.k8s.io"), ss("pods"), ss("create"))}},
		{name: "create pods", rules: []rbacv1.PolicyRule{rule(ss(""), ss("pods"), ss("create", "delete"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"create" on "pods")`)}},
		{name: "* verbs", rules: []rbacv1.PolicyRule{rule(ss(""), ss("pods"), ss("*"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"*" on "pods")`)}},
		{name: "* resources and group", rules: []rbacv1.PolicyRule{rule(ss(""), ss("configmaps"), ss("get")), rule(ss("*"), ss("*"), ss("create"))},
			want: []want{fails("rules[1]", `rules[1]`+prefix+`"create" on "pods")`)}},
		// Server-side apply of a missing Pod asks create with the Pod's name (k8s.io/apiserver
		// pkg/endpoints/handlers/patch.go:214, createAuthorizerAttributes), which resourceNames
		// match (ResourceNameMatches, evaluation_helpers.go:80): the rule lets its holder create
		// Pod "web" (test/e2e/admission TestCreateByNameIsGranted proves it on a kube-apiserver).
		{name: "create limited by resourceNames", rules: []rbacv1.PolicyRule{{APIGroups: ss(""), Resources: ss("pods"), Verbs: ss("create", "patch"), ResourceNames: ss("web")}},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"create" on "pods")`)}},
		{name: "* verbs limited by resourceNames", rules: []rbacv1.PolicyRule{{APIGroups: ss(""), Resources: ss("pods"), Verbs: ss("create", "*"), ResourceNames: ss("web")}},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"*" on "pods")`)}},
	})
}
