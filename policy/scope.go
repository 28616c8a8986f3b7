package policy

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

//go:generate go run ./internal/genscopes -o zz_generated_scopes.go

// Scope is whether a kind's objects live in a namespace.
type Scope int

const (
	// ScopeUnknown: a kind cisgate has no table entry for (a custom resource). Without the
	// cluster's discovery it counts as namespaced, so an object of it in "default" is judged.
	ScopeUnknown Scope = iota
	ScopeNamespaced
	ScopeCluster
)

// ScopeOf is the scope of a built-in kind, from the table generated from the pinned k8s.io/api
// (zz_generated_scopes.go); ScopeUnknown for any other. The webhook and the audit, which have
// the API server, learn custom kinds' scope from the request or from discovery instead.
func ScopeOf(gk schema.GroupKind) Scope {
	cluster, ok := builtinScopes[gk]
	if !ok {
		cluster, ok = apiServerScopes[gk]
	}
	switch {
	case !ok:
		return ScopeUnknown
	case cluster:
		return ScopeCluster
	}
	return ScopeNamespaced
}

// apiServerScopes are the kinds kube-apiserver serves itself whose types live outside k8s.io/api
// (k8s.io/apiextensions-apiserver, k8s.io/kube-aggregator): both cluster-scoped.
var apiServerScopes = map[schema.GroupKind]bool{
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}: true,
	{Group: "apiregistration.k8s.io", Kind: "APIService"}:             true,
}

// builtinByKind resolves a bare kind name to its built-in group, where the name is unique among
// the built-in kinds (callers that know the group use ScopeOf).
var builtinByKind = func() map[string]schema.GroupKind {
	m := map[string]schema.GroupKind{}
	dup := map[string]bool{}
	for gk := range builtinScopes {
		if _, seen := m[gk.Kind]; seen {
			dup[gk.Kind] = true
		}
		m[gk.Kind] = gk
	}
	for k := range dup {
		// Eviction is in policy and lifecycle, both namespaced; a kind whose scope differs by
		// group is left out (there is none in k8s.io/api today).
		if builtinScopes[m[k]] != scopeOfAny(k) {
			delete(m, k)
		}
	}
	return m
}()

func scopeOfAny(kind string) bool {
	for gk, cluster := range builtinScopes {
		if gk.Kind == kind && cluster {
			return true
		}
	}
	return false
}

// groupKindOf is the object's GroupKind: from its TypeMeta when set, else the checked kind of
// that name, else the built-in kind of that name. (A name in two groups, ReplicaSet in apps and
// extensions, is the checked kind's group, which decoders give the typed objects the checks read.)
func groupKindOf(kind string, raw runtime.Object) schema.GroupKind {
	if raw != nil {
		if gvk := raw.GetObjectKind().GroupVersionKind(); gvk.Kind == kind {
			return gvk.GroupKind()
		}
	}
	if k, ok := checkedByKind[kind]; ok {
		return schema.GroupKind{Group: k.Group, Kind: k.Kind}
	}
	if gk, ok := builtinByKind[kind]; ok {
		return gk
	}
	return schema.GroupKind{Kind: kind}
}

// CustomResourceScopes are the scopes the CustomResourceDefinitions among objects give their
// kinds (spec.group, spec.names.kind, spec.scope): what the API server serves once they are
// applied, so `check` judges a bundle's custom resources as the cluster will hold them.
func CustomResourceScopes(objects []Object) map[schema.GroupKind]Scope {
	scopes := map[schema.GroupKind]Scope{}
	for _, o := range objects {
		var group, kind, scope string
		switch crd := o.Raw.(type) {
		case *apiextensionsv1.CustomResourceDefinition:
			group, kind, scope = crd.Spec.Group, crd.Spec.Names.Kind, string(crd.Spec.Scope)
		case *unstructured.Unstructured:
			// A reader that keeps kinds outside client-go's scheme unstructured.
			if o.GroupKind() != (schema.GroupKind{Group: apiextensionsv1.GroupName, Kind: "CustomResourceDefinition"}) {
				continue
			}
			group, _, _ = unstructured.NestedString(crd.Object, "spec", "group")
			kind, _, _ = unstructured.NestedString(crd.Object, "spec", "names", "kind")
			scope, _, _ = unstructured.NestedString(crd.Object, "spec", "scope")
		default:
			continue
		}
		switch apiextensionsv1.ResourceScope(scope) {
		case apiextensionsv1.ClusterScoped:
			scopes[schema.GroupKind{Group: group, Kind: kind}] = ScopeCluster
		case apiextensionsv1.NamespaceScoped:
			scopes[schema.GroupKind{Group: group, Kind: kind}] = ScopeNamespaced
		}
	}
	return scopes
}

// LearnScope gives an object of a kind cisgate has no table entry for the scope scopes name for
// it. A cluster-scoped object keeps no namespace: the API server clears what its body says
// (k8s.io/apiserver pkg/registry/rest EnsureObjectNamespaceMatchesRequestNamespace).
func (o *Object) LearnScope(scopes map[schema.GroupKind]Scope) {
	s, ok := scopes[schema.GroupKind{Group: o.Group, Kind: o.Kind}]
	if o.Scope != ScopeUnknown || !ok {
		return
	}
	o.Scope, o.Namespaced = s, s != ScopeCluster
	if s == ScopeCluster {
		o.Namespace = ""
	}
}
