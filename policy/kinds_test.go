package policy

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

// checkedKind returns the table's entry of a kind.
func checkedKind(kind string) (CheckedKind, bool) {
	k, ok := checkedByKind[kind]
	return k, ok
}

// TestCheckedKindsAreServed: every kind of the table is a built-in kind in the version and under
// the resource given, its scope is known, and what it controls is in the table with a pod spec.
func TestCheckedKindsAreServed(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range checkedKinds {
		gvk := k.GroupVersionKind()
		assert.False(t, seen[k.Kind], "%s is in the table twice: kinds are looked up by name", k.Kind)
		seen[k.Kind] = true
		assert.True(t, scheme.Scheme.Recognizes(gvk), "%s is no built-in kind", gvk)
		plural, _ := meta.UnsafeGuessKindToResource(gvk)
		assert.Equal(t, plural.Resource, k.Resource, "%s: resource", gvk)
		assert.NotEqual(t, ScopeUnknown, ScopeOf(gvk.GroupKind()), "%s: scope", gvk)
		for _, c := range k.Controls {
			created, ok := checkedKind(c)
			assert.True(t, ok && created.PodSpec != "", "%s controls %s, which is no checked kind with a pod spec", k.Kind, c)
			assert.NotEmpty(t, k.PodSpec, "%s controls %s but has no pod template to create it from", k.Kind, c)
		}
	}
}

// builtinKinds are the API kinds of k8s.io/api that client-go's scheme registers: types with
// object metadata, not Lists.
func builtinKinds(t *testing.T) []schema.GroupVersionKind {
	t.Helper()
	objectMeta := reflect.TypeFor[metav1.ObjectMeta]()
	var out []schema.GroupVersionKind
	for gvk, typ := range scheme.Scheme.AllKnownTypes() {
		if !strings.HasPrefix(typ.PkgPath(), "k8s.io/api/") || strings.HasSuffix(gvk.Kind, "List") {
			continue
		}
		if f, ok := typ.FieldByName("ObjectMeta"); ok && f.Type == objectMeta {
			out = append(out, gvk)
		}
	}
	require.Greater(t, len(out), 50, "the scheme's built-in kinds were found")
	return out
}

// newTyped builds an object of a built-in kind; where the table has a pod spec for it, one
// container is set at that path, so the object carries a pod spec only if the extractor finds
// it there.
func newTyped(t *testing.T, gvk schema.GroupVersionKind) runtime.Object {
	t.Helper()
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(gvk)
	u.SetNamespace("team-a")
	u.SetName("x")
	if k, ok := checkedKind(gvk.Kind); ok && k.PodSpec != "" && gvk == k.GroupVersionKind() {
		containers := []any{map[string]any{"name": "app", "image": "registry.example/app:1"}}
		require.NoError(t, unstructured.SetNestedSlice(u.Object, containers, append(strings.Split(k.PodSpec, "."), "containers")...))
	}
	obj, err := scheme.Scheme.New(gvk)
	require.NoError(t, err)
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj), gvk.String())
	return obj
}

// TestExtractPodSpecFollowsCheckedKinds ties ExtractPodSpec's typed switch to the table: every
// kind with a pod spec in the table is extracted at its path, and no other built-in kind is.
func TestExtractPodSpecFollowsCheckedKinds(t *testing.T) {
	for _, gvk := range builtinKinds(t) {
		k, checked := checkedKind(gvk.Kind)
		want := checked && k.PodSpec != "" && gvk == k.GroupVersionKind()
		p, ok := ExtractPodSpec(newTyped(t, gvk))
		if !assert.Equal(t, want, ok, "%s: pod spec extracted", gvk) || !ok {
			continue
		}
		assert.Equal(t, k.PodSpec, p.Path, "%s: the table and the extractor disagree on the path", gvk)
		assert.Len(t, p.Spec.Containers, 1, "%s: the spec at %s", gvk, k.PodSpec)
	}
}

// TestCheckTargetsFollowCheckedKinds ties the checks' targets to the table: a check applies to
// every kind of the table, and to no other built-in kind, except through TargetNamespaced (4.5.2
// judges every namespaced object in default, of any kind). Targets match kinds by name, so an
// older version of a checked kind (extensions/v1beta1 Ingress) matches too; `check` and the
// webhook's rules only let the served one through.
func TestCheckTargetsFollowCheckedKinds(t *testing.T) {
	var checks []*Check
	for _, c := range builtin {
		c := *c
		c.Targets = slices.DeleteFunc(slices.Clone(c.Targets), func(t Target) bool { return t == TargetNamespaced })
		checks = append(checks, &c)
	}
	targeted := func(o Object) bool {
		return slices.ContainsFunc(checks, func(c *Check) bool { return c.AppliesTo(o) })
	}
	for _, gvk := range builtinKinds(t) {
		o := NewObjectOf(gvk.GroupKind(), newTyped(t, gvk))
		if targeted(o) {
			assert.Contains(t, CheckedKindNames(), gvk.Kind, "a check targets %s: add it to the table of checked kinds", gvk)
		}
	}
	for _, k := range checkedKinds {
		assert.True(t, targeted(NewObjectOf(k.GroupVersionKind().GroupKind(), newTyped(t, k.GroupVersionKind()))),
			"no check targets %s: remove it from the table of checked kinds", k.Kind)
	}
}

func TestDecidedOnDelete(t *testing.T) {
	assert.True(t, DecidedOnDelete("NetworkPolicy"))
	for _, kind := range []string{"Pod", "Deployment", "Namespace", "ConfigMap", ""} {
		assert.False(t, DecidedOnDelete(kind), kind)
	}
}
