package policy

import rbacv1 "k8s.io/api/rbac/v1"

// cluster-admin-binding: a RoleBinding or ClusterRoleBinding to the ClusterRole
// "cluster-admin" binds only subjects on the configured allow-list (rbac.clusterAdminSubjects,
// default Group "system:masters"). Each other subject fails.

func init() {
	register(&Check{
		Slug:    "cluster-admin-binding",
		Decides: `bindings to ClusterRole "cluster-admin" name only allowed subjects`,
		Targets: []Target{TargetBinding},
		Evaluate: func(in *Input) []Finding {
			ref, subjects, _ := in.binding()
			if ref.Kind != "ClusterRole" || ref.Name != "cluster-admin" {
				return nil
			}
			var out []Finding
			for i, s := range subjects {
				if !allowedClusterAdmin(in.Settings.ClusterAdminSubjects, s) {
					out = append(out, fail(indexed("subjects", i), `must not bind ClusterRole "cluster-admin" to `+
						subjectString(s)+" (allowed: rbac.clusterAdminSubjects)"))
				}
			}
			return out
		},
	})
}

func allowedClusterAdmin(allowed []rbacv1.Subject, s rbacv1.Subject) bool {
	for _, a := range allowed {
		if sameSubject(a, s) {
			return true
		}
	}
	return false
}
