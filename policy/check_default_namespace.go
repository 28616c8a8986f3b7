package policy

// default-namespace: no namespaced object lives in "default", except what the control plane
// itself keeps there: the Service, Endpoints and EndpointSlice "kubernetes", the ServiceAccount
// "default" and the ConfigMap "kube-root-ca.crt", and Events, which the control plane and
// controllers write there about cluster-scoped objects. Custom resources count like any other
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
	case in.Operation == OperationDelete || controlPlaneOwned(in.Kind, in.Name):
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

func controlPlaneOwned(kind, name string) bool {
	switch kind {
	case "Service", "Endpoints", "EndpointSlice":
		// The API server's own Service; its EndpointSlice is named "kubernetes" too.
		return name == "kubernetes"
	case "ServiceAccount":
		return name == "default"
	case "ConfigMap":
		return name == "kube-root-ca.crt"
	case "Event":
		return true
	}
	return false
}
