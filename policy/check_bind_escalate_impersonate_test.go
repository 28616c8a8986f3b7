package policy_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/cisgate/cisgate/policy"
)

// TestBindEscalateImpersonate holds 4.1.8 to the resources the API server authorizes each verb
// on (policy/rbac_verbs.go cites where): a Role differs from a ClusterRole where the request
// carries no namespace (impersonating users, groups, uids, extras or nodes; escalating a
// ClusterRole), so each case says what each kind gets.
func TestBindEscalateImpersonate(t *testing.T) {
	const prefix = " must not grant bind, escalate or impersonate (grants "
	const authn = "authentication.k8s.io"
	fail0 := func(grants string) []want { return []want{fails("rules[0]", "rules[0]"+prefix+grants+")")} }
	cases := []struct {
		name              string
		rules             []rbacv1.PolicyRule
		role, clusterRole []want
	}{
		{name: "ordinary verbs", rules: []rbacv1.PolicyRule{rule(ss("rbac.authorization.k8s.io"), ss("roles", "rolebindings"), ss("get", "create", "update"))}},
		{name: "non-resource URLs with * verbs", rules: []rbacv1.PolicyRule{{NonResourceURLs: ss("/metrics"), Verbs: ss("*")}}},
		// BindingAuthorized asks in the binding's namespace: a Role may grant binding a ClusterRole.
		{name: "bind clusterroles", rules: []rbacv1.PolicyRule{rule(ss("rbac.authorization.k8s.io"), ss("clusterroles"), ss("get", "bind"))},
			role: fail0(`"bind" on "clusterroles"`), clusterRole: fail0(`"bind" on "clusterroles"`)},
		// Escalating a ClusterRole is a request without namespace: a Role grants nothing there.
		{name: "escalate and bind", rules: []rbacv1.PolicyRule{rule(ss("rbac.authorization.k8s.io"), ss("roles", "clusterroles"), ss("escalate", "bind"))},
			role: fail0(`"bind", "escalate" on "roles", "clusterroles"`), clusterRole: fail0(`"bind", "escalate" on "roles", "clusterroles"`)},
		{name: "escalate clusterroles", rules: []rbacv1.PolicyRule{rule(ss("rbac.authorization.k8s.io"), ss("clusterroles"), ss("escalate"))},
			clusterRole: fail0(`"escalate" on "clusterroles"`)},
		{name: "bind on the wrong group", rules: []rbacv1.PolicyRule{rule(ss(""), ss("roles"), ss("bind", "escalate"))}},
		{name: "impersonate users, groups, serviceaccounts", rules: []rbacv1.PolicyRule{rule(ss(""), ss("users", "groups", "serviceaccounts"), ss("impersonate"))},
			role: fail0(`"impersonate" on "serviceaccounts"`), clusterRole: fail0(`"impersonate" on "users", "groups", "serviceaccounts"`)},
		{name: "impersonate users", rules: []rbacv1.PolicyRule{rule(ss(""), ss("users"), ss("impersonate"))},
			clusterRole: fail0(`"impersonate" on "users"`)},
		{name: "impersonate uids and userextras", rules: []rbacv1.PolicyRule{rule(ss(authn), ss("uids", "userextras/scopes"), ss("impersonate"))},
			clusterRole: fail0(`"impersonate" on "uids", "userextras/scopes"`)},
		{name: "impersonate on * resources", rules: []rbacv1.PolicyRule{rule(ss(""), ss("*"), ss("impersonate"))},
			role: fail0(`"impersonate" on "*"`), clusterRole: fail0(`"impersonate" on "*"`)},
		{name: "impersonate on pods", rules: []rbacv1.PolicyRule{rule(ss(""), ss("pods"), ss("impersonate"))}},
		// Constrained impersonation (KEP-5284): its objects live in authentication.k8s.io.
		{name: "impersonate:user-info", rules: []rbacv1.PolicyRule{rule(ss(authn), ss("users", "groups"), ss("impersonate:user-info"))},
			clusterRole: fail0(`"impersonate:user-info" on "users", "groups"`)},
		{name: "impersonate:serviceaccount", rules: []rbacv1.PolicyRule{rule(ss(authn), ss("serviceaccounts"), ss("impersonate:serviceaccount"))},
			role: fail0(`"impersonate:serviceaccount" on "serviceaccounts"`), clusterRole: fail0(`"impersonate:serviceaccount" on "serviceaccounts"`)},
		{name: "impersonate:arbitrary-node", rules: []rbacv1.PolicyRule{rule(ss(authn), ss("nodes"), ss("impersonate:arbitrary-node"))},
			clusterRole: fail0(`"impersonate:arbitrary-node" on "nodes"`)},
		{name: "impersonate:associated-node", rules: []rbacv1.PolicyRule{rule(ss(authn), ss("nodes"), ss("impersonate:associated-node"))},
			clusterRole: fail0(`"impersonate:associated-node" on "nodes"`)},
		{name: "impersonate:serviceaccount in the core group", rules: []rbacv1.PolicyRule{rule(ss(""), ss("serviceaccounts"), ss("impersonate:serviceaccount"))}},
		{name: "impersonate-on", rules: []rbacv1.PolicyRule{rule(ss(""), ss("pods"), ss("impersonate-on:user-info:create", "impersonate-on:serviceaccount:get"))},
			role:        fail0(`"impersonate-on:user-info:create", "impersonate-on:serviceaccount:get" on "pods"`),
			clusterRole: fail0(`"impersonate-on:user-info:create", "impersonate-on:serviceaccount:get" on "pods"`)},
		{name: "impersonate-on nodes", rules: []rbacv1.PolicyRule{rule(ss(""), ss("nodes"), ss("impersonate-on:arbitrary-node:list", "impersonate-on:associated-node:patch"))},
			role:        fail0(`"impersonate-on:arbitrary-node:list", "impersonate-on:associated-node:patch" on "nodes"`),
			clusterRole: fail0(`"impersonate-on:arbitrary-node:list", "impersonate-on:associated-node:patch" on "nodes"`)},
		{name: "an unknown mode", rules: []rbacv1.PolicyRule{rule(ss(authn), ss("users"), ss("impersonate:everyone", "impersonate-on:everyone:get"))}},
		// "*" verbs reach bind and escalate only on roles, impersonate only on its own resources.
		{name: "* verbs on pods and secrets", rules: []rbacv1.PolicyRule{rule(ss(""), ss("pods", "secrets"), ss("*"))}},
		{name: "* verbs on deployments", rules: []rbacv1.PolicyRule{rule(ss("apps"), ss("deployments"), ss("*"))}},
		{name: "* verbs on roles", rules: []rbacv1.PolicyRule{rule(ss("rbac.authorization.k8s.io"), ss("roles"), ss("*"))},
			role: fail0(`"*" on "roles"`), clusterRole: fail0(`"*" on "roles"`)},
		{name: "* verbs on everything", rules: []rbacv1.PolicyRule{rule(ss("*"), ss("*"), ss("*"))},
			role: fail0(`"*" on "*"`), clusterRole: fail0(`"*" on "*"`)},
		{name: "impersonate a named user", rules: []rbacv1.PolicyRule{{APIGroups: ss(""), Resources: ss("users"), Verbs: ss("impersonate"), ResourceNames: ss("jane")}},
			clusterRole: fail0(`"impersonate" on "users"`)},
	}
	for _, b := range []policy.Benchmark{policy.EKS120, policy.EKS180} {
		for _, tc := range cases {
			for kind, wants := range map[string][]want{"Role": tc.role, "ClusterRole": tc.clusterRole} {
				t.Run(string(b)+"/"+tc.name+"/"+kind, func(t *testing.T) {
					var obj runtime.Object = &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "r"}, Rules: tc.rules}
					if kind == "Role" {
						obj = &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: testNamespace}, Rules: tc.rules}
					}
					expected := []got{}
					for _, w := range wants {
						expected = append(expected, got{ID: "4.1.8", Status: w.Status, Path: w.Path, Detail: w.Detail})
					}
					require.Equal(t, expected, gotOf(evaluate(t, b, policy.DefaultSettings(), kind, obj, policy.OperationCreate, nil, "bind-escalate-impersonate")))
				})
			}
		}
	}
}
