package policy

// default-namespace: no namespaced object lives
// in "default", except what the control plane itself keeps there: the Service, Endpoints and
// EndpointSlice "kubernetes", the ServiceAccount "default" and the ConfigMap "kube-root-ca.crt",
// and Events, which the control plane and controllers write there about cluster-scoped objects.
// An object without a namespace (a manifest that takes kubectl's) is not judged.

func init() {
	register(&Check{
		Slug:    "default-namespace",
		Decides: `no namespaced object is created in namespace "default" (control-plane objects excepted)`,
		Targets: []Target{TargetNamespaced},
		Evaluate: func(in *Input) []Finding {
			if in.Namespace != "default" || in.Operation == OperationDelete || controlPlaneOwned(in.Kind, in.Name) {
				return nil
			}
			return []Finding{fail("metadata.namespace", in.Kind+` must not be created in namespace "default"; use a dedicated namespace`)}
		},
	})
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
