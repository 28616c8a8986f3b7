package policy_test

import (
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/cisgate/cisgate/policy"
)

func TestCreatePersistentVolumes(t *testing.T) {
	const prefix = " must not grant create on persistentvolumes (grants "
	clusterRBACTable(t, policy.EKS180, "create-persistentvolumes", "4.1.9", []ruleCase{
		{name: "claims are not volumes", rules: []rbacv1.PolicyRule{rule(ss(""), ss("persistentvolumeclaims"), ss("create"))}},
		{name: "read volumes", rules: []rbacv1.PolicyRule{rule(ss(""), ss("persistentvolumes"), ss("get", "list", "watch"))}},
		{name: "create", rules: []rbacv1.PolicyRule{rule(ss(""), ss("persistentvolumes"), ss("create"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"create" on "persistentvolumes")`)}},
		// Server-side apply creates a missing PersistentVolume after asking create with its name
		// (k8s.io/apiserver pkg/endpoints/handlers/patch.go:214): resourceNames do not stop it.
		{name: "create limited by resourceNames", rules: []rbacv1.PolicyRule{{APIGroups: ss(""), Resources: ss("persistentvolumes"), Verbs: ss("create"), ResourceNames: ss("pv-1")}},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"create" on "persistentvolumes")`)}},
		{name: "* everything", rules: []rbacv1.PolicyRule{rule(ss("*"), ss("*"), ss("*"))},
			want: []want{fails("rules[0]", `rules[0]`+prefix+`"*" on "persistentvolumes")`)}},
	})
}
