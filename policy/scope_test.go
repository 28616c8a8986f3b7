package policy_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/cisgate/cisgate/policy"
)

// subresourceBodies are built-in kinds with object metadata that are no API resource of their own:
// the bodies of subresources (pods/binding, */scale, pods/eviction, serviceaccounts/token) or
// of create-only reviews the generator sees through their "+genclient" tag anyway.
var subresourceBodies = map[string]bool{"Binding": true, "Scale": true, "TokenRequest": true, "RangeAllocation": true}

// TestScopeTableCoversEveryBuiltinKind ties zz_generated_scopes.go to the pinned k8s.io/api:
// every kind client-go's scheme registers from k8s.io/api that carries object metadata (an API
// object, not a List or an options type) has a scope. A k8s.io/api upgrade that adds a kind fails
// here until `go generate ./policy` is run.
func TestScopeTableCoversEveryBuiltinKind(t *testing.T) {
	objectMeta := reflect.TypeFor[metav1.ObjectMeta]()
	checked := 0
	for gvk, typ := range scheme.Scheme.AllKnownTypes() {
		if !strings.HasPrefix(typ.PkgPath(), "k8s.io/api/") || strings.HasSuffix(gvk.Kind, "List") || subresourceBodies[gvk.Kind] {
			continue
		}
		if f, ok := typ.FieldByName("ObjectMeta"); !ok || f.Type != objectMeta {
			continue
		}
		checked++
		assert.NotEqual(t, policy.ScopeUnknown, policy.ScopeOf(gvk.GroupKind()), "%s has no scope: run go generate ./policy", gvk)
	}
	assert.Greater(t, checked, 50, "the scheme's built-in kinds were found")
}

// #9 item 6: cluster-scoped kinds the old hand-written list missed.
func TestScopeOf(t *testing.T) {
	for gk, want := range map[schema.GroupKind]policy.Scope{
		{Group: "networking.k8s.io", Kind: "ServiceCIDR"}:          policy.ScopeCluster,
		{Group: "networking.k8s.io", Kind: "IPAddress"}:            policy.ScopeCluster,
		{Group: "storage.k8s.io", Kind: "VolumeAttributesClass"}:   policy.ScopeCluster,
		{Group: "resource.k8s.io", Kind: "DeviceClass"}:            policy.ScopeCluster,
		{Group: "resource.k8s.io", Kind: "ResourceSlice"}:          policy.ScopeCluster,
		{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle"}: policy.ScopeCluster,
		{Group: "", Kind: "Namespace"}:                             policy.ScopeCluster,
		{Group: "", Kind: "ConfigMap"}:                             policy.ScopeNamespaced,
		{Group: "apps", Kind: "Deployment"}:                        policy.ScopeNamespaced,
		{Group: "apps.openshift.io", Kind: "Deployment"}:           policy.ScopeUnknown,
		{Group: "cert-manager.io", Kind: "ClusterIssuer"}:          policy.ScopeUnknown,
	} {
		assert.Equal(t, want, policy.ScopeOf(gk), gk.String())
	}
}

// TestCustomResourceScopes: a definition among the objects gives its kind its spec.scope, and a
// cluster-scoped object loses the namespace its body names (the API server clears it); kinds
// cisgate knows keep their own scope.
func TestCustomResourceScopes(t *testing.T) {
	crd := func(kind string, scope apiextensionsv1.ResourceScope) policy.Object {
		return policy.NewObjectOf(schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}, &apiextensionsv1.CustomResourceDefinition{
			ObjectMeta: metav1.ObjectMeta{Name: strings.ToLower(kind) + "s.example.com"},
			Spec:       apiextensionsv1.CustomResourceDefinitionSpec{Group: "example.com", Scope: scope, Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: kind}},
		})
	}
	object := func(group, kind string) policy.Object {
		m := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: "default"}}
		m.SetGroupVersionKind(schema.GroupVersionKind{Group: group, Version: "v1", Kind: kind})
		return policy.NewObjectOf(schema.GroupKind{Group: group, Kind: kind}, m)
	}
	unstructuredCRD := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": map[string]any{"name": "services.example.com"},
		"spec": map[string]any{"group": "example.com", "scope": "Cluster", "names": map[string]any{"kind": "Service"}},
	}}
	scopes := policy.CustomResourceScopes([]policy.Object{crd("Gadget", apiextensionsv1.ClusterScoped), crd("Widget", apiextensionsv1.NamespaceScoped),
		policy.NewObject("CustomResourceDefinition", unstructuredCRD)})
	assert.Equal(t, map[schema.GroupKind]policy.Scope{
		{Group: "example.com", Kind: "Gadget"}: policy.ScopeCluster, {Group: "example.com", Kind: "Widget"}: policy.ScopeNamespaced, {Group: "example.com", Kind: "Service"}: policy.ScopeCluster,
	}, scopes)

	gadget := object("example.com", "Gadget")
	gadget.LearnScope(scopes)
	assert.Equal(t, policy.ScopeCluster, gadget.Scope)
	assert.False(t, gadget.Namespaced)
	assert.Empty(t, gadget.Namespace)

	widget := object("example.com", "Widget")
	widget.LearnScope(scopes)
	assert.Equal(t, policy.ScopeNamespaced, widget.Scope)
	assert.Equal(t, "default", widget.Namespace)

	other := object("other.example.com", "Gadget")
	other.LearnScope(scopes)
	assert.Equal(t, policy.ScopeUnknown, other.Scope, "the definition names its group")

	service := object("", "Service")
	service.LearnScope(scopes)
	assert.Equal(t, policy.ScopeNamespaced, service.Scope, "a built-in kind keeps its own scope")
}
