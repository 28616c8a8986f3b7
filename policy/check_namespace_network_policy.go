package policy

import "strconv"

// namespace-network-policy: workloads run only in namespaces that have a NetworkPolicy,
// and the last NetworkPolicy of a namespace is not deleted. Both need cluster state from the
// Lookup; without it the result is WARN. The background audit decides it per namespace.

func init() {
	register(&Check{
		Slug:    "namespace-network-policy",
		Decides: "a workload's namespace has a NetworkPolicy; a namespace's last NetworkPolicy is not deleted",
		Targets: []Target{TargetPodSpec, TargetNetworkPolicy},
		Evaluate: func(in *Input) []Finding {
			if (in.Pod == nil) != (in.Operation == OperationDelete) {
				// Only a workload being written, or a NetworkPolicy being deleted, is decided:
				// deleting a workload never needs a NetworkPolicy.
				return nil
			}
			ns := strconv.Quote(in.Namespace)
			if in.Lookup == nil || in.Namespace == "" {
				return []Finding{warn("metadata.namespace", "needs cluster state: cannot tell whether the namespace has a NetworkPolicy")}
			}
			n, err := in.Lookup.NetworkPolicyCount(in.Namespace)
			switch {
			case err != nil:
				return []Finding{warn("metadata.namespace", "cannot count NetworkPolicies in namespace "+ns+": "+err.Error())}
			case in.Pod != nil && n == 0:
				return []Finding{fail("metadata.namespace", "namespace "+ns+" has no NetworkPolicy; add one before running workloads there")}
			case in.Pod == nil && n <= 1:
				return []Finding{fail("metadata.name", "deleting NetworkPolicy "+strconv.Quote(in.Name)+" would leave namespace "+ns+" without any NetworkPolicy")}
			}
			return nil
		},
	})
}
