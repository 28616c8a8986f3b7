package controller

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/cisgate/cisgate/policy"
)

// TestAuditListsEveryCheckedKind ties the audit's typed lists to the table of checked kinds:
// every checked kind is listed, either for the lookups or to be judged, with a List that returns
// objects of the kind in the table's version; nothing else is listed that way.
func TestAuditListsEveryCheckedKind(t *testing.T) {
	var objs []runtime.Object
	var judged []string
	table := map[string]policy.CheckedKind{}
	for _, k := range policy.CheckedKinds() {
		table[k.Kind] = k
		if listedForLookups[k.Kind] {
			continue
		}
		judged = append(judged, k.Kind)
		obj, err := scheme.Scheme.New(k.GroupVersionKind())
		require.NoError(t, err)
		meta := obj.(metav1.Object)
		meta.SetName("x")
		if policy.ScopeOf(k.GroupVersionKind().GroupKind()) == policy.ScopeNamespaced {
			meta.SetNamespace("team-a")
		}
		objs = append(objs, obj)
	}
	for kind := range listedForLookups {
		assert.Contains(t, table, kind, "listed for the lookups but no checked kind")
	}
	client := fake.NewClientset(objs...)
	assert.ElementsMatch(t, judged, slices.Collect(maps.Keys(typedLists(client))), "typedLists lists exactly the checked kinds not listed for the lookups")

	kinds := evaluatedKinds(client)
	require.Len(t, kinds, len(judged))
	for i, k := range kinds {
		assert.Equal(t, judged[i], k.kind, "in the table's order")
		var visited []runtime.Object
		require.NoError(t, k.each(t.Context(), DefaultPageSize, func(obj runtime.Object) { visited = append(visited, obj) }), k.kind)
		require.Len(t, visited, 1, "%s: the List of the kind", k.kind)
		gvks, _, err := scheme.Scheme.ObjectKinds(visited[0])
		require.NoError(t, err)
		want := table[k.kind].GroupVersionKind()
		assert.Equal(t, []schema.GroupVersionKind{want}, gvks, "%s: listed in the table's version", k.kind)
		assert.Equal(t, want.GroupVersion().String(), k.apiVersion, "%s: the apiVersion of its Events", k.kind)
	}
}
