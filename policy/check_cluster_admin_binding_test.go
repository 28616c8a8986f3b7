package policy_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/cisgate/cisgate/policy"
)

// bindings returns a ClusterRoleBinding and a RoleBinding with the same roleRef and subjects.
func bindings(roleKind, roleName string, subjects ...rbacv1.Subject) map[string]runtime.Object {
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: roleKind, Name: roleName}
	return map[string]runtime.Object{
		"ClusterRoleBinding": &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"}, RoleRef: ref, Subjects: subjects},
		"RoleBinding":        &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: testNamespace}, RoleRef: ref, Subjects: subjects},
	}
}

var (
	masters  = rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:masters"}
	devs     = rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "devs"}
	alice    = rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "alice@example.com"}
	deployer = rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "deployer", Namespace: "ci"}
)

// TestClusterAdminBindingLocalServiceAccount: a RoleBinding's ServiceAccount subject without a
// namespace is the account in the binding's namespace (appliesToUser, k8s.io/kubernetes
// pkg/registry/rbac/validation/rule.go:289-295), so it matches an allow-list entry there.
func TestClusterAdminBindingLocalServiceAccount(t *testing.T) {
	local := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: "deployer"}
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ci"}, RoleRef: ref, Subjects: []rbacv1.Subject{local}}
	allowDeployer := policy.DefaultSettings()
	allowDeployer.ClusterAdminSubjects = append(allowDeployer.ClusterAdminSubjects, deployer)
	require.Equal(t, []got{}, gotOf(evaluate(t, policy.EKS180, allowDeployer, "RoleBinding", rb, policy.OperationCreate, nil, "cluster-admin-binding")))
	require.Empty(t, rb.Subjects[0].Namespace, "the object itself is left as it came")

	other := rb.DeepCopy()
	other.Namespace = "prod"
	require.Equal(t, []got{{"4.1.1", policy.StatusFail, "subjects[0]", `must not bind ClusterRole "cluster-admin" to ServiceAccount "prod/deployer" (allowed: rbac.clusterAdminSubjects)`}},
		gotOf(evaluate(t, policy.EKS180, allowDeployer, "RoleBinding", other, policy.OperationCreate, nil, "cluster-admin-binding")))
}

func TestClusterAdminBinding(t *testing.T) {
	allowDeployer := policy.DefaultSettings()
	allowDeployer.ClusterAdminSubjects = append(allowDeployer.ClusterAdminSubjects, deployer)
	for _, tc := range []struct {
		name     string
		roleKind string
		roleName string
		subjects []rbacv1.Subject
		settings policy.Settings
		want     []got
	}{
		{"system:masters is allowed by default", "ClusterRole", "cluster-admin", []rbacv1.Subject{masters}, policy.DefaultSettings(), []got{}},
		{"another ClusterRole", "ClusterRole", "view", []rbacv1.Subject{devs, alice}, policy.DefaultSettings(), []got{}},
		{"a Role named cluster-admin", "Role", "cluster-admin", []rbacv1.Subject{devs}, policy.DefaultSettings(), []got{}},
		{"a group", "ClusterRole", "cluster-admin", []rbacv1.Subject{masters, devs}, policy.DefaultSettings(), []got{
			{"4.1.1", policy.StatusFail, "subjects[1]", `must not bind ClusterRole "cluster-admin" to Group "devs" (allowed: rbac.clusterAdminSubjects)`}}},
		{"a user and a ServiceAccount", "ClusterRole", "cluster-admin", []rbacv1.Subject{alice, deployer}, policy.DefaultSettings(), []got{
			{"4.1.1", policy.StatusFail, "subjects[0]", `must not bind ClusterRole "cluster-admin" to User "alice@example.com" (allowed: rbac.clusterAdminSubjects)`},
			{"4.1.1", policy.StatusFail, "subjects[1]", `must not bind ClusterRole "cluster-admin" to ServiceAccount "ci/deployer" (allowed: rbac.clusterAdminSubjects)`}}},
		{"an allow-listed ServiceAccount", "ClusterRole", "cluster-admin", []rbacv1.Subject{deployer}, allowDeployer, []got{}},
		{"the allow-listed ServiceAccount's name in another namespace", "ClusterRole", "cluster-admin",
			[]rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "deployer", Namespace: "prod"}}, allowDeployer, []got{
				{"4.1.1", policy.StatusFail, "subjects[0]", `must not bind ClusterRole "cluster-admin" to ServiceAccount "prod/deployer" (allowed: rbac.clusterAdminSubjects)`}}},
		{"a User named system:masters is not the group", "ClusterRole", "cluster-admin", []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "system:masters"}}, policy.DefaultSettings(), []got{
			{"4.1.1", policy.StatusFail, "subjects[0]", `must not bind ClusterRole "cluster-admin" to User "system:masters" (allowed: rbac.clusterAdminSubjects)`}}},
		{"an empty allow-list", "ClusterRole", "cluster-admin", []rbacv1.Subject{masters}, policy.Settings{}, []got{
			{"4.1.1", policy.StatusFail, "subjects[0]", `must not bind ClusterRole "cluster-admin" to Group "system:masters" (allowed: rbac.clusterAdminSubjects)`}}},
	} {
		for kind, obj := range bindings(tc.roleKind, tc.roleName, tc.subjects...) {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				require.Equal(t, tc.want, gotOf(evaluate(t, policy.EKS180, tc.settings, kind, obj, policy.OperationCreate, nil, "cluster-admin-binding")))
			})
		}
	}
}
