package policy

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// resourceRef names an API resource (optionally a subresource, "nodes/proxy") in a group.
type resourceRef struct {
	group    string
	resource string
	// clusterScoped resources are granted by ClusterRoles only: a Role's rules apply inside its
	// namespace, so a Role listing "nodes/proxy" grants nothing (Kubernetes RBAC documentation,
	// "Role and ClusterRole": a Role grants access to resources within a single namespace).
	clusterScoped bool
}

// grantedVerbs returns which of verbs the rule grants on ref, following RBAC's own matching:
// "*" matches every group, resource and verb; "*/sub" matches a subresource of any resource.
// A rule that grants "*" verbs returns []string{"*"}.
func grantedVerbs(rule rbacv1.PolicyRule, ref resourceRef, verbs []string) []string {
	if !matchesGroup(rule.APIGroups, ref.group) || !matchesResource(rule.Resources, ref.resource) {
		return nil
	}
	if slices.Contains(rule.Verbs, rbacv1.VerbAll) {
		return []string{rbacv1.VerbAll}
	}
	var out []string
	for _, v := range verbs {
		if slices.Contains(rule.Verbs, v) {
			out = append(out, v)
		}
	}
	return out
}

func matchesGroup(groups []string, group string) bool {
	if group == rbacv1.APIGroupAll { // the ref asks for any group
		return len(groups) > 0
	}
	return slices.Contains(groups, rbacv1.APIGroupAll) || slices.Contains(groups, group)
}

// matchesResource follows the RBAC authorizer's ResourceMatches (k8s.io/kubernetes
// pkg/apis/rbac/v1/evaluation_helpers.go): "*" matches any resource, "*/sub" the subresource of
// any resource, and anything else only itself.
func matchesResource(resources []string, resource string) bool {
	if resource == rbacv1.ResourceAll { // the ref asks for any resource
		return len(resources) > 0
	}
	_, sub, hasSub := strings.Cut(resource, "/")
	for _, r := range resources {
		if r == rbacv1.ResourceAll || r == resource || (hasSub && r == "*/"+sub) {
			return true
		}
	}
	return false
}

// isResourceWildcard reports a resources entry RBAC reads as a wildcard: "*" or "*/sub".
func isResourceWildcard(r string) bool { return r == rbacv1.ResourceAll || strings.HasPrefix(r, "*/") }

// ruleCheck builds a check on Role and ClusterRole rules: each rule that grants any of verbs on
// any of refs fails, naming what it grants.
func ruleCheck(slug Slug, decides, forbidden string, verbs []string, refs ...resourceRef) *Check {
	return &Check{
		Slug:    slug,
		Decides: decides,
		Targets: []Target{TargetRole},
		Evaluate: func(in *Input) []Finding {
			rules, _ := in.rules()
			_, isRole := in.Raw.(*rbacv1.Role)
			var out []Finding
			for i, rule := range rules {
				for _, ref := range refs {
					if ref.clusterScoped && isRole {
						continue
					}
					if got := grantedVerbs(rule, ref, verbs); len(got) > 0 {
						path := indexed("rules", i)
						on := quote(ref.resource)
						if ref.resource == rbacv1.ResourceAll {
							// Any resource is forbidden: name the ones the rule grants on.
							on = quoteList(rule.Resources)
						}
						out = append(out, fail(path, path+" must not grant "+forbidden+
							" (grants "+quoteList(got)+" on "+on+")"))
						break
					}
				}
			}
			return out
		},
	}
}

// subjectString names a subject for messages: `Group "devs"`, `ServiceAccount "ns/name"`.
func subjectString(s rbacv1.Subject) string {
	name := s.Name
	if s.Kind == rbacv1.ServiceAccountKind && s.Namespace != "" {
		name = s.Namespace + "/" + s.Name
	}
	return s.Kind + " " + quote(name)
}

func sameSubject(a, b rbacv1.Subject) bool {
	return a.Kind == b.Kind && a.Name == b.Name && (a.Kind != rbacv1.ServiceAccountKind || a.Namespace == b.Namespace)
}
