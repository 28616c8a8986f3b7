package policy_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestSystemMastersBinding(t *testing.T) {
	for _, tc := range []struct {
		name     string
		roleName string
		subjects []rbacv1.Subject
		want     []got
	}{
		{"other subjects", "view", []rbacv1.Subject{devs, alice, deployer}, []got{}},
		{"a User named system:masters", "view", []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: "system:masters"}}, []got{}},
		{"system:masters to any role", "view", []rbacv1.Subject{devs, masters}, []got{
			{"4.1.7", policy.StatusFail, "subjects[1]", `must not bind Group "system:masters"`}}},
		{"system:masters to cluster-admin", "cluster-admin", []rbacv1.Subject{masters}, []got{
			{"4.1.7", policy.StatusFail, "subjects[0]", `must not bind Group "system:masters"`}}},
	} {
		for _, b := range []policy.Benchmark{policy.EKS120, policy.EKS150} {
			for kind, obj := range bindings("ClusterRole", tc.roleName, tc.subjects...) {
				t.Run(tc.name+"/"+string(b)+"/"+kind, func(t *testing.T) {
					require.Equal(t, tc.want, gotOf(evaluate(t, b, policy.DefaultSettings(), kind, obj, policy.OperationCreate, nil, "system-masters-binding")))
				})
			}
		}
	}
	t.Run("not in other versions", func(t *testing.T) {
		for _, b := range []policy.Benchmark{policy.EKS101, policy.EKS110, policy.EKS170, policy.EKS180} {
			for kind, obj := range bindings("ClusterRole", "view", masters) {
				require.Empty(t, evaluate(t, b, policy.DefaultSettings(), kind, obj, policy.OperationCreate, nil, "system-masters-binding"), "%s %s", b, kind)
			}
		}
	})
}
