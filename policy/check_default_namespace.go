package policy

import "k8s.io/apimachinery/pkg/runtime/schema"

// default-namespace: no namespaced object lives in "default", except what the control plane
// itself keeps there: the Service, Endpoints and EndpointSlice "kubernetes", the ServiceAccount
// "default" and the ConfigMap "kube-root-ca.crt", and Events, which the control plane and
// controllers write there about cluster-scoped objects. The exceptions are those kinds in their
// own API groups: a Knative Service named "kubernetes" or a custom kind named Event is a user's.
// A custom resource's scope is its CustomResourceDefinition's (spec.scope): the webhook learns it
// from the API server, `check` from a definition among the manifests (CustomResourceScopes). Custom resources count like any other
// namespaced object (the benchmark's "resources in a Kubernetes cluster should be segregated by
// namespace" names no kind). A manifest object without a namespace goes where the client puts
// it (kubectl's context namespace, "default" unless set): WARN, never silence; `cisgate check
// --namespace` fills it in as `kubectl apply -n` does.

func init() {
	register(&Check{
		Slug:     "default-namespace",
		Decides:  `no namespaced object is created in namespace "default" (control-plane objects excepted); a manifest object without a namespace is WARN`,
		Targets:  []Target{TargetNamespaced},
		Evaluate: evaluateDefaultNamespace,
	})
}

func evaluateDefaultNamespace(in *Input) []Finding {
	switch {
	case in.Operation == OperationDelete || controlPlaneOwned(in.GroupKind(), in.Name):
		return nil
	case in.Namespace == "" && in.Operation == OperationNone:
		scope := ""
		if in.Scope == ScopeUnknown {
			scope = " (if " + in.Kind + " is namespaced)"
		}
		return []Finding{warn("metadata.namespace", in.Kind+" names no namespace: the namespace comes from the client"+scope+
			`, "default" unless its context says otherwise; set metadata.namespace (or check with --namespace)`)}
	case in.Namespace != "default":
		return nil
	}
	return []Finding{fail("metadata.namespace", in.Kind+` must not be created in namespace "default"; use a dedicated namespace`)}
}

// controlPlaneOwned reports an object the control plane keeps in every namespace, "default"
// included: the API server's Service "kubernetes" with its Endpoints and EndpointSlice
// (k8s.io/kubernetes pkg/controlplane/controller/kubernetesservice), the ServiceAccount "default"
// (pkg/controller/serviceaccount), the ConfigMap "kube-root-ca.crt" (pkg/controller/certificates/
// rootcacertpublisher) and Events of either group.
func controlPlaneOwned(gk schema.GroupKind, name string) bool {
	switch gk {
	case schema.GroupKind{Kind: "Service"}, schema.GroupKind{Kind: "Endpoints"}, schema.GroupKind{Group: "discovery.k8s.io", Kind: "EndpointSlice"}:
		return name == "kubernetes"
	case schema.GroupKind{Kind: "ServiceAccount"}:
		return name == "default"
	case schema.GroupKind{Kind: "ConfigMap"}:
		return name == "kube-root-ca.crt"
	case schema.GroupKind{Kind: "Event"}, schema.GroupKind{Group: "events.k8s.io", Kind: "Event"}:
		return true
	}
	return false
}
