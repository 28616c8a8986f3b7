package admission

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cisgate/cisgate/test/e2e/framework"
)

// TestDefaultNamespaceCustomResources: 4.5.2 judges custom resources by the scope the API server
// gives them and by their API group. A cluster-scoped kind's objects are in no namespace (the API
// server clears what the body says and never sends them to the default-namespace webhook); a
// namespaced kind's objects in default are denied, even when the kind is named like one of the
// control plane's (Service "kubernetes", Event).
func TestDefaultNamespaceCustomResources(t *testing.T) {
	serve(t)
	ctx := context.Background()
	const group = "e2e.cisgate.io"
	crds := []*apiextensionsv1.CustomResourceDefinition{
		crd(group, "gadgets", "Gadget", apiextensionsv1.ClusterScoped),
		crd(group, "widgets", "Widget", apiextensionsv1.NamespaceScoped),
		crd(group, "services", "Service", apiextensionsv1.NamespaceScoped),
		crd(group, "events", "Event", apiextensionsv1.NamespaceScoped),
	}
	for _, c := range crds {
		err := env.Client.Create(ctx, c)
		if !isAlreadyExists(err) {
			require.NoError(t, err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), c) })
	}
	for _, c := range crds {
		framework.WaitFor(t, 30*time.Second, "CRD "+c.Name+" established", func() error {
			var got apiextensionsv1.CustomResourceDefinition
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(c), &got); err != nil {
				return err
			}
			for _, cond := range got.Status.Conditions {
				if cond.Type == apiextensionsv1.Established && cond.Status == apiextensionsv1.ConditionTrue {
					return nil
				}
			}
			return fmt.Errorf("not established yet")
		})
	}

	create := func(kind, name, namespace string) error {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(schema.GroupVersionKind{Group: group, Version: "v1", Kind: kind})
		u.SetName(name)
		u.SetNamespace(namespace)
		var err error
		// The client learns the new kinds through discovery, which may lag the CRD by a moment.
		framework.WaitFor(t, 30*time.Second, kind+" served", func() error {
			err = env.Client.Create(ctx, u, client.DryRunAll)
			if err != nil && strings.Contains(err.Error(), "no matches for kind") {
				return err
			}
			return nil
		})
		return err
	}
	denied := func(err error) {
		t.Helper()
		require.Error(t, err, "the request should have been denied")
		require.True(t, apierrors.IsForbidden(err), "want a 403 denial, got %v", err)
		assert.Contains(t, err.Error(), `[4.5.2]`)
		assert.Contains(t, err.Error(), `must not be created in namespace "default"`)
	}

	require.NoError(t, create("Gadget", "g", "default"), "a cluster-scoped custom resource is in no namespace, whatever its body says")
	require.NoError(t, create("Gadget", "g2", ""))
	denied(create("Widget", "w", "default"))
	denied(create("Service", "kubernetes", "default"))
	denied(create("Event", "deploy-finished", "default"))
	ns := prepareNamespace(t, "custom", "")
	require.NoError(t, create("Widget", "w", ns), "outside default a namespaced custom resource is admitted")
}

func crd(group, plural, kind string, scope apiextensionsv1.ResourceScope) *apiextensionsv1.CustomResourceDefinition {
	preserve := true
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group, Scope: scope,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: plural, Singular: strings.ToLower(kind), Kind: kind, ListKind: kind + "List"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: &preserve}},
			}},
		},
	}
}
