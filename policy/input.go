package policy

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Operation is what is being done to the object. Manifests and the background audit use
// OperationNone; at admission it is the request's operation.
type Operation int

const (
	OperationNone Operation = iota
	OperationCreate
	OperationUpdate
	OperationDelete
)

// Lookup is read-only cluster state for the few checks that need more than the object.
// A nil Lookup means no cluster is there (manifests in CI): those checks answer WARN.
type Lookup interface {
	// NetworkPolicyCount is the number of NetworkPolicies in a namespace.
	NetworkPolicyCount(namespace string) (int, error)
	// ServiceAccount returns a ServiceAccount, or found=false when it does not exist.
	ServiceAccount(namespace, name string) (sa *corev1.ServiceAccount, found bool, err error)
	// IngressClasses are the cluster's IngressClasses (cluster-scoped, a handful): which one
	// serves an Ingress is ServingIngressClass's to say.
	IngressClasses() ([]networkingv1.IngressClass, error)
}

// Settings are the parts of the config that checks decide with.
type Settings struct {
	// Registries are the approved image prefixes of 5.1.4.
	Registries []string
	// ClusterAdminSubjects may be bound to cluster-admin (4.1.1).
	ClusterAdminSubjects []rbacv1.Subject

	// registries are Registries parsed, by NewEvaluator; entries that do not parse are left out
	// (Config.Compile refuses them first).
	registries []registry
}

// DefaultSettings allows Group system:masters to hold cluster-admin and approves no registry list.
func DefaultSettings() Settings {
	return Settings{ClusterAdminSubjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, Name: "system:masters"}}}
}

// Object is one object as the checks see it. Build it with NewObject.
type Object struct {
	// Group is the API group of the object's kind ("" for core); Kind its kind, e.g. "Deployment".
	Group     string
	Kind      string
	Namespace string
	Name      string
	// Scope is the kind's scope (ScopeOf); Namespaced is false for cluster-scoped kinds only, so
	// a custom resource of unknown scope counts as namespaced.
	Scope      Scope
	Namespaced bool
	// Raw is the typed object when cisgate knows the kind, else *unstructured.Unstructured or
	// *metav1.PartialObjectMetadata: enough for the metadata-only checks.
	Raw runtime.Object
	// Annotations and Labels of the object itself.
	Annotations map[string]string
	Labels      map[string]string

	Pod *PodSpec

	// IngressClass is the IngressClass that serves an Ingress (ServingIngressClass) when the
	// caller knows it without a Lookup: `cisgate check` finds it in the same manifests. Nil:
	// looked up through the Lookup, when there is one.
	IngressClass *networkingv1.IngressClass
}

// NewObject describes raw for the checks. kind must be the object's kind; typed objects decoded by
// a deserializer may have an empty TypeMeta, so it is passed rather than read, and its group is
// taken from the TypeMeta when set, else from the built-in kind of that name.
func NewObject(kind string, raw runtime.Object) Object {
	return NewObjectOf(groupKindOf(kind, raw), raw)
}

// NewObjectOf describes raw, an object of the given group and kind, for the checks.
func NewObjectOf(gk schema.GroupKind, raw runtime.Object) Object {
	scope := ScopeOf(gk)
	o := Object{Group: gk.Group, Kind: gk.Kind, Raw: raw, Scope: scope, Namespaced: scope != ScopeCluster}
	if acc, err := meta.Accessor(raw); err == nil {
		o.Namespace, o.Name, o.Annotations, o.Labels = acc.GetNamespace(), acc.GetName(), acc.GetAnnotations(), acc.GetLabels()
	}
	o.Pod, _ = ExtractPodSpec(raw)
	return o
}

// GroupKind is the object's API group and kind. An Object built without NewObjectOf may leave
// Group empty: its kind is then the built-in (or checked) kind of that name.
func (o Object) GroupKind() schema.GroupKind {
	if o.Group != "" {
		return schema.GroupKind{Group: o.Group, Kind: o.Kind}
	}
	return groupKindOf(o.Kind, o.Raw)
}

// Input is what one evaluation sees.
type Input struct {
	Object
	Operation Operation
	Lookup    Lookup
	Settings  *Settings
}

// rules returns the policy rules of a Role or ClusterRole.
func (o Object) rules() ([]rbacv1.PolicyRule, bool) {
	switch r := o.Raw.(type) {
	case *rbacv1.Role:
		return r.Rules, true
	case *rbacv1.ClusterRole:
		return r.Rules, true
	}
	return nil, false
}

// binding returns the roleRef and subjects of a RoleBinding or ClusterRoleBinding, as the
// authorizer reads them: a RoleBinding's ServiceAccount subject without a namespace is the
// account of that name in the binding's namespace (appliesToUser, k8s.io/kubernetes
// pkg/registry/rbac/validation/rule.go:289-295).
func (o Object) binding() (rbacv1.RoleRef, []rbacv1.Subject, bool) {
	switch b := o.Raw.(type) {
	case *rbacv1.RoleBinding:
		subjects, cloned := b.Subjects, false
		for i, s := range b.Subjects {
			if s.Kind == rbacv1.ServiceAccountKind && s.Namespace == "" && o.Namespace != "" {
				if !cloned {
					subjects, cloned = slices.Clone(b.Subjects), true // never change the object itself
				}
				subjects[i].Namespace = o.Namespace
			}
		}
		return b.RoleRef, subjects, true
	case *rbacv1.ClusterRoleBinding:
		return b.RoleRef, b.Subjects, true
	}
	return rbacv1.RoleRef{}, nil, false
}
