package policy_test

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/cisgate/cisgate/policy"
)

// Webhook configurations are cluster-scoped (Kubernetes API reference,
// ValidatingWebhookConfiguration): a Role grants nothing on them, so only ClusterRoles fail.
func TestWebhookConfigAccess(t *testing.T) {
	const group = "admissionregistration.k8s.io"
	const prefix = " must not grant create, update, patch, delete or deletecollection on webhook configurations (grants "
	clusterRBACTable(t, policy.EKS180, "webhook-config-access", "4.1.11", []ruleCase{
		{name: "read", rules: []rbacv1.PolicyRule{rule(ss(group), ss("validatingwebhookconfigurations", "mutatingwebhookconfigurations"), ss("get", "list", "watch"))}},
		{name: "policies are not webhook configurations", rules: []rbacv1.PolicyRule{rule(ss(group), ss("validatingadmissionpolicies"), ss("create"))}},
		{name: "same name in the core group", rules: []rbacv1.PolicyRule{rule(ss(""), ss("validatingwebhookconfigurations"), ss("create"))}},
		{name: "patch validating", rules: []rbacv1.PolicyRule{rule(ss(group), ss("validatingwebhookconfigurations"), ss("get", "patch"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"patch" on "validatingwebhookconfigurations")`)}},
		{name: "create and delete mutating", rules: []rbacv1.PolicyRule{rule(ss(group), ss("mutatingwebhookconfigurations"), ss("delete", "create"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"create", "delete" on "mutatingwebhookconfigurations")`)}},
		{name: "both kinds report the rule once", rules: []rbacv1.PolicyRule{rule(ss(group), ss("validatingwebhookconfigurations", "mutatingwebhookconfigurations"), ss("update"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"update" on "validatingwebhookconfigurations", "mutatingwebhookconfigurations")`)}},
		// deletecollection removes every configuration at once: a write like delete.
		{name: "deletecollection", rules: []rbacv1.PolicyRule{rule(ss(group), ss("validatingwebhookconfigurations"), ss("deletecollection"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"deletecollection" on "validatingwebhookconfigurations")`)}},
		{name: "* group and resources", rules: []rbacv1.PolicyRule{rule(ss("*"), ss("*"), ss("update"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"update" on "validatingwebhookconfigurations", "mutatingwebhookconfigurations")`)}},
		// A deletecollection request carries no name (requestinfo.go:254-257), so resourceNames
		// leave it nothing to match (ResourceNameMatches, evaluation_helpers.go:80).
		{name: "deletecollection limited by resourceNames", rules: []rbacv1.PolicyRule{{APIGroups: ss(group), Resources: ss("validatingwebhookconfigurations"),
			Verbs: ss("deletecollection"), ResourceNames: ss("cisgate")}}},
		// Server-side apply of a missing configuration asks create with its name (k8s.io/apiserver
		// pkg/endpoints/handlers/patch.go:214), which resourceNames match.
		{name: "create limited by resourceNames", rules: []rbacv1.PolicyRule{{APIGroups: ss(group), Resources: ss("mutatingwebhookconfigurations"),
			Verbs: ss("create", "deletecollection"), ResourceNames: ss("cisgate")}},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"create" on "mutatingwebhookconfigurations")`)}},
		{name: "delete limited by resourceNames", rules: []rbacv1.PolicyRule{{APIGroups: ss(group), Resources: ss("validatingwebhookconfigurations"),
			Verbs: ss("delete", "deletecollection"), ResourceNames: ss("cisgate")}},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"delete" on "validatingwebhookconfigurations")`)}},
	})
}
