package policy

import corev1 "k8s.io/api/core/v1"

// default-service-account: a pod spec must name a dedicated ServiceAccount (its
// serviceAccountName is neither empty nor "default"); the ServiceAccount "default" itself must
// set automountServiceAccountToken=false. The latter is advisory: never denied at admission,
// since the control plane creates that ServiceAccount in every namespace.

func init() {
	register(&Check{
		Slug:    "default-service-account",
		Decides: `pods name a ServiceAccount other than "default"; ServiceAccount "default" sets automountServiceAccountToken=false`,
		Targets: []Target{TargetPodSpec, TargetServiceAccount},
		Evaluate: func(in *Input) []Finding {
			if in.Pod != nil {
				if name := serviceAccountName(in.Pod); name == "default" {
					return []Finding{fail(in.Pod.Field("serviceAccountName"),
						`pod must set serviceAccountName to a dedicated ServiceAccount, not "default" (empty means "default")`)}
				}
				return nil
			}
			sa, ok := in.Raw.(*corev1.ServiceAccount)
			if !ok || sa.Name != "default" || isFalse(sa.AutomountServiceAccountToken) {
				return nil
			}
			f := fail("automountServiceAccountToken", `ServiceAccount "default" must set automountServiceAccountToken=false`)
			f.Advisory = true
			return []Finding{f}
		},
	})
}

// serviceAccountName is the ServiceAccount a pod runs as: "default" when none is named.
func serviceAccountName(p *PodSpec) string {
	switch {
	case p.Spec.ServiceAccountName != "":
		return p.Spec.ServiceAccountName
	case p.Spec.DeprecatedServiceAccount != "":
		return p.Spec.DeprecatedServiceAccount
	}
	return "default"
}

func isFalse(b *bool) bool { return b != nil && !*b }
