package policy

import rbacv1 "k8s.io/api/rbac/v1"

// system-masters-binding: no RoleBinding or ClusterRoleBinding
// names the Group "system:masters" as a subject.

func init() {
	register(&Check{
		Slug:    "system-masters-binding",
		Decides: `no binding has subject Group "system:masters"`,
		Targets: []Target{TargetBinding},
		Evaluate: func(in *Input) []Finding {
			_, subjects, _ := in.binding()
			var out []Finding
			for i, s := range subjects {
				if s.Kind == rbacv1.GroupKind && s.Name == "system:masters" {
					out = append(out, fail(indexed("subjects", i), `must not bind Group "system:masters"`))
				}
			}
			return out
		},
	})
}
