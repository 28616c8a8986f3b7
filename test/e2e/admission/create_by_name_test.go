package admission

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/test/e2e/fixtures"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

// TestCreateByNameIsGranted: a create limited by resourceNames grants creating the named object.
// Server-side apply of a missing object is authorized as create with the object's name
// (k8s.io/apiserver pkg/endpoints/handlers/patch.go, createAuthorizerAttributes), and so is a PUT
// to a missing object of a resource that allows create on update (update.go; Leases do); RBAC's
// ResourceNameMatches then compares that name (k8s.io/kubernetes
// pkg/apis/rbac/v1/evaluation_helpers.go). Only the POST to the collection carries no name. So
// the kube-apiserver lets a user holding such a Role create Pod "by-name", and cisgate denies the
// Role under 4.1.4 (policy/rbac_verbs.go, the create row).
func TestCreateByNameIsGranted(t *testing.T) {
	serve(t)
	ctx := context.Background()
	ns := prepareNamespace(t, "create-by-name", "")
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pod-by-name"}, Rules: []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"patch"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, ResourceNames: []string{"by-name"}, Verbs: []string{"create"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"update"}},
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, ResourceNames: []string{"held"}, Verbs: []string{"create"}},
	}}

	// cisgate's verdict on the Role: rule 1 grants creating Pod "by-name".
	admin, _ := userClient(t, "")
	_, err := admin.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{DryRun: dryRun})
	requireDenied(t, err, `[4.1.4] rules[1] must not grant create on pods (grants "create" on "pods")`)

	// What the API server makes of it: ci-bot is exempt in this suite's config, so the Role exists.
	bot, _ := userClient(t, "ci-bot")
	_, err = bot.RbacV1().Roles(ns).Create(ctx, role, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = bot.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "pod-by-name"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "pod-by-name"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "pod-maker"}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)

	// pod-maker holds nothing else: no system:masters.
	cfg := rest.CopyConfig(env.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "pod-maker", Groups: []string{"system:authenticated"}}
	maker, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)

	apply := func(name string) error {
		pod := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: fixtures.HardenedPodSpec()}
		body, err := json.Marshal(pod)
		require.NoError(t, err)
		_, err = maker.CoreV1().Pods(ns).Patch(ctx, name, types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: "pod-maker"})
		return err
	}
	// The RoleBinding reaches the authorizer's cache shortly.
	framework.WaitFor(t, 20*time.Second, `server-side apply of Pod "by-name" as pod-maker`, func() error { return apply("by-name") })
	got, err := admin.CoreV1().Pods(ns).Get(ctx, "by-name", metav1.GetOptions{})
	require.NoError(t, err, "the apply created the Pod")
	assert.Equal(t, "pod-maker", got.ManagedFields[0].Manager)

	err = apply("other-name")
	require.True(t, apierrors.IsForbidden(err), "another name: %v", err)
	assert.Contains(t, err.Error(), `pods "other-name" is forbidden: User "pod-maker" cannot create resource "pods" in API group "" in the namespace "`+ns+`"`)

	// The POST to the collection carries no name, so resourceNames grant it nothing: the RBAC
	// documentation's "create cannot be restricted by resourceName" is about this request.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "by-name"}, Spec: fixtures.HardenedPodSpec()}
	_, err = maker.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{DryRun: dryRun})
	require.True(t, apierrors.IsForbidden(err), "POST: %v", err)
	assert.Contains(t, err.Error(), `User "pod-maker" cannot create resource "pods" in API group "" in the namespace "`+ns+`"`)

	// A PUT to a missing Lease creates it (the Lease registry allows create on update) after
	// asking create with its name.
	lease := func(name string) *coordinationv1.Lease {
		return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("pod-maker")}}
	}
	_, err = maker.CoordinationV1().Leases(ns).Update(ctx, lease("held"), metav1.UpdateOptions{})
	require.NoError(t, err, "PUT creates Lease \"held\"")
	_, err = admin.CoordinationV1().Leases(ns).Get(ctx, "held", metav1.GetOptions{})
	require.NoError(t, err)
	_, err = maker.CoordinationV1().Leases(ns).Update(ctx, lease("other"), metav1.UpdateOptions{})
	require.True(t, apierrors.IsForbidden(err), "PUT of another Lease: %v", err)
	assert.Contains(t, err.Error(), `leases.coordination.k8s.io "other" is forbidden: User "pod-maker" cannot create resource "leases"`)
}
