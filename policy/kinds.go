package policy

import (
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// CheckedKind is one kind of object the checks decide on. Everything else that names kinds
// follows the table of them (CheckedKinds): the webhook's rules and the chart's (generated into
// charts/cisgate/templates/_checkedkinds.tpl), the chart's RBAC, the kinds the background audit
// lists, the API versions `cisgate check` accepts, the owner rule (ControlledByCheckedKind) and
// the help texts. Tests tie the pod-spec extractor and the checks' targets to it. A kind's scope
// is not repeated here: ScopeOf has it from k8s.io/api.
type CheckedKind struct {
	// Group, Version and Kind are the API version Kubernetes serves the kind in; an older one
	// is refused (the checks would not find the pod template where they look).
	Group, Version, Kind string
	// Resource is the kind's resource, as webhook rules and RBAC rules name it.
	Resource string
	// Subresources are sent to the webhook too, because a write to them changes what a check
	// reads: pods/ephemeralcontainers adds containers to a running Pod.
	Subresources []string
	// PodSpec is the field path of the kind's pod spec from the object's root (ExtractPodSpec's
	// Path), "" for a kind without one.
	PodSpec string
	// Controls are the kinds (of this table) the kind's controller creates from its pod
	// template: their findings are this object's, so the webhook raises no Event for them and
	// the audit leaves them to it.
	Controls []string
	// DeleteOnly kinds are decided on DELETE, and only then: the checks read nothing in a
	// NetworkPolicy, but deleting a namespace's last one fails 4.3.2.
	DeleteOnly bool
}

// GroupVersionKind is the kind in the version Kubernetes serves it.
func (k CheckedKind) GroupVersionKind() schema.GroupVersionKind {
	return schema.GroupVersionKind{Group: k.Group, Version: k.Version, Kind: k.Kind}
}

// checkedKinds is the table; its order is the order of webhook rules, RBAC rules and the audit.
var checkedKinds = []CheckedKind{
	{Group: "", Version: "v1", Kind: "Namespace", Resource: "namespaces"},
	{Group: "", Version: "v1", Kind: "Pod", Resource: "pods", Subresources: []string{"ephemeralcontainers"}, PodSpec: "spec"},
	{Group: "", Version: "v1", Kind: "ReplicationController", Resource: "replicationcontrollers", PodSpec: "spec.template.spec", Controls: []string{"Pod"}},
	{Group: "", Version: "v1", Kind: "PodTemplate", Resource: "podtemplates", PodSpec: "template.spec"},
	{Group: "", Version: "v1", Kind: "ServiceAccount", Resource: "serviceaccounts"},
	{Group: "", Version: "v1", Kind: "Service", Resource: "services"},
	{Group: "apps", Version: "v1", Kind: "Deployment", Resource: "deployments", PodSpec: "spec.template.spec", Controls: []string{"ReplicaSet"}},
	{Group: "apps", Version: "v1", Kind: "ReplicaSet", Resource: "replicasets", PodSpec: "spec.template.spec", Controls: []string{"Pod"}},
	{Group: "apps", Version: "v1", Kind: "StatefulSet", Resource: "statefulsets", PodSpec: "spec.template.spec", Controls: []string{"Pod"}},
	{Group: "apps", Version: "v1", Kind: "DaemonSet", Resource: "daemonsets", PodSpec: "spec.template.spec", Controls: []string{"Pod"}},
	{Group: "batch", Version: "v1", Kind: "Job", Resource: "jobs", PodSpec: "spec.template.spec", Controls: []string{"Pod"}},
	{Group: "batch", Version: "v1", Kind: "CronJob", Resource: "cronjobs", PodSpec: "spec.jobTemplate.spec.template.spec", Controls: []string{"Job"}},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "Role", Resource: "roles"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRole", Resource: "clusterroles"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "RoleBinding", Resource: "rolebindings"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Kind: "ClusterRoleBinding", Resource: "clusterrolebindings"},
	{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress", Resource: "ingresses"},
	{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy", Resource: "networkpolicies", DeleteOnly: true},
}

// CheckedKinds is the table of the kinds the checks decide on, in a fixed order.
func CheckedKinds() []CheckedKind { return slices.Clone(checkedKinds) }

// CheckedKindNames are the kinds of the table, in its order, for help texts.
func CheckedKindNames() []string {
	names := make([]string, len(checkedKinds))
	for i, k := range checkedKinds {
		names[i] = k.Kind
	}
	return names
}

// DecidedOnDelete reports a kind whose DELETE the checks decide on (CheckedKind.DeleteOnly); the
// DELETE of any other kind needs no decision.
func DecidedOnDelete(kind string) bool {
	k, ok := checkedByKind[kind]
	return ok && k.DeleteOnly
}

// checkedByKind is the table by kind name (unique in it).
var checkedByKind = func() map[string]CheckedKind {
	m := make(map[string]CheckedKind, len(checkedKinds))
	for _, k := range checkedKinds {
		m[k.Kind] = k
	}
	return m
}()

// controllers are, for each kind a checked controller creates, the kinds that create it.
var controllers = func() map[schema.GroupKind]map[schema.GroupKind]bool {
	m := map[schema.GroupKind]map[schema.GroupKind]bool{}
	for _, owner := range checkedKinds {
		for _, kind := range owner.Controls {
			created := schema.GroupKind{Group: checkedByKind[kind].Group, Kind: kind}
			if m[created] == nil {
				m[created] = map[schema.GroupKind]bool{}
			}
			m[created][schema.GroupKind{Group: owner.Group, Kind: owner.Kind}] = true
		}
	}
	return m
}()
