package admission

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRBACAsTheAuthorizerReadsIt: roles are judged by what the authorizer would grant
// (policy/rbac_verbs.go cites where): constrained impersonation's verbs are impersonation; "*"
// verbs on pods and secrets are no bind, escalate or impersonate; a namespaced Role cannot
// impersonate users; resourceNames leave deletecollection nothing; a RoleBinding's
// ServiceAccount subject without a namespace is the binding's namespace's.
func TestRBACAsTheAuthorizerReadsIt(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns := prepareNamespace(t, "rbac", "")
	cs, _ := userClient(t, "")
	dry := metav1.CreateOptions{DryRun: dryRun}
	clusterRole := func(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
	}
	role := func(name string, rules ...rbacv1.PolicyRule) *rbacv1.Role {
		return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules}
	}

	_, err := cs.RbacV1().ClusterRoles().Create(ctx, clusterRole("constrained", rbacv1.PolicyRule{
		APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"users", "groups"}, Verbs: []string{"impersonate:user-info"}}), dry)
	requireDenied(t, err, `[4.1.8] rules[0] must not grant bind, escalate or impersonate (grants "impersonate:user-info" on "users", "groups")`)

	_, err = cs.RbacV1().ClusterRoles().Create(ctx, clusterRole("impersonate-on", rbacv1.PolicyRule{
		APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"impersonate-on:serviceaccount:list"}}), dry)
	requireDenied(t, err, `[4.1.8] rules[0] must not grant bind, escalate or impersonate (grants "impersonate-on:serviceaccount:list" on "pods")`)

	_, err = cs.RbacV1().Roles(ns).Create(ctx, role("star", rbacv1.PolicyRule{
		APIGroups: []string{""}, Resources: []string{"pods", "secrets"}, Verbs: []string{"*"}}), dry)
	requireDenied(t, err, "[4.1.2]", "[4.1.3]", "[4.1.4]")
	assert.NotContains(t, err.Error(), "[4.1.8]")

	_, err = cs.RbacV1().Roles(ns).Create(ctx, role("impersonate-users", rbacv1.PolicyRule{
		APIGroups: []string{""}, Resources: []string{"users", "groups"}, Verbs: []string{"impersonate"}}), dry)
	require.NoError(t, err, "a Role cannot impersonate users or groups: the request carries no namespace")

	_, err = cs.RbacV1().ClusterRoles().Create(ctx, clusterRole("deletecollection-named", rbacv1.PolicyRule{
		APIGroups: []string{"admissionregistration.k8s.io"}, Resources: []string{"validatingwebhookconfigurations"},
		ResourceNames: []string{"cisgate"}, Verbs: []string{"deletecollection"}}), dry)
	require.NoError(t, err, "deletecollection carries no name: resourceNames leave it nothing")

	_, err = cs.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "deployer-admin"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "deployer"}},
	}, dry)
	requireDenied(t, err, `[4.1.1] must not bind ClusterRole "cluster-admin" to ServiceAccount "`+ns+`/deployer"`)
}
