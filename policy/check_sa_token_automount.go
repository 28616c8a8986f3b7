package policy

import "strconv"

// sa-token-automount: a pod mounts a ServiceAccount token only where it must: it fails
// when the pod spec does not set automountServiceAccountToken=false and its ServiceAccount does
// not either. The ServiceAccount comes from the Lookup; without one (or when it cannot be read)
// the result is WARN, never PASS.

func init() {
	register(&Check{
		Slug:    "sa-token-automount",
		Decides: "the pod spec or its ServiceAccount sets automountServiceAccountToken=false",
		Targets: []Target{TargetPodSpec},
		Evaluate: func(in *Input) []Finding {
			path := in.Pod.Field("automountServiceAccountToken")
			switch auto := in.Pod.Spec.AutomountServiceAccountToken; {
			case isFalse(auto):
				return nil
			case auto != nil:
				return []Finding{fail(path, "pod must set automountServiceAccountToken=false, not true, unless it needs the API token")}
			}
			name := serviceAccountName(in.Pod)
			quoted := strconv.Quote(name)
			if in.Lookup == nil || in.Namespace == "" {
				return []Finding{warn(path, "needs cluster state: pod leaves automountServiceAccountToken unset and ServiceAccount "+
					quoted+" cannot be read here; set automountServiceAccountToken=false on the pod to decide it")}
			}
			sa, found, err := in.Lookup.ServiceAccount(in.Namespace, name)
			switch {
			case err != nil:
				return []Finding{warn(path, "cannot read ServiceAccount "+quoted+": "+err.Error())}
			case !found:
				return []Finding{warn(path, "ServiceAccount "+quoted+" not found in namespace "+strconv.Quote(in.Namespace)+"; cannot tell whether it mounts its token")}
			case isFalse(sa.AutomountServiceAccountToken):
				return nil
			}
			return []Finding{fail(path, "pod must set automountServiceAccountToken=false (neither it nor ServiceAccount "+quoted+" does)")}
		},
	})
}
