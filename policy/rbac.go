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
	// clusterScoped: the authorization request for the verb on it carries no namespace, so only
	// ClusterRoles grant it: a Role listing "nodes/proxy" grants nothing (Kubernetes RBAC
	// documentation, "Role and ClusterRole": a Role grants access within a single namespace).
	// Mostly the resource's own scope, but not always: binding a ClusterRole is asked in the
	// RoleBinding's namespace (rbacVerbs, bind).
	clusterScoped bool
}

// grantedVerbs returns the verbs of rule that grant one of rows on ref, as RBAC's RuleAllows
// (k8s.io/kubernetes plugin/pkg/auth/authorizer/rbac/rbac.go:191) matches a request: "*" matches
// every group, resource and verb, "*/sub" a subresource of any resource, and resourceNames only a
// request that carries a name.
func grantedVerbs(rule rbacv1.PolicyRule, ref resourceRef, rows []rbacVerb) []string {
	if !matchesGroup(rule.APIGroups, ref.group) || !matchesResource(rule.Resources, ref.resource) {
		return nil
	}
	var out []string
	for _, row := range rows {
		if row.grantsOn(rule) {
			out = appendNew(out, row.ruleVerbs(rule)...)
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
	base, sub, hasSub := strings.Cut(resource, "/")
	for _, r := range resources {
		switch {
		case r == rbacv1.ResourceAll || r == resource || (hasSub && r == "*/"+sub):
			return true
		case hasSub && sub == "*":
			// The ref asks for any subresource of base (userextras/<key>).
			if rb, _, ok := strings.Cut(r, "/"); ok && (rb == base || rb == "*") {
				return true
			}
		}
	}
	return false
}

// matchingResources are the entries of resources that match ref (for messages).
func matchingResources(resources []string, ref resourceRef) []string {
	var out []string
	for _, r := range resources {
		if matchesResource([]string{r}, ref.resource) {
			out = append(out, r)
		}
	}
	return out
}

// isResourceWildcard reports a resources entry RBAC reads as a wildcard: "*" or "*/sub".
func isResourceWildcard(r string) bool { return r == rbacv1.ResourceAll || strings.HasPrefix(r, "*/") }

// ruleCheck builds a check on Role and ClusterRole rules: each rule that grants any of verbs on
// any of refs fails, naming what it grants. Without refs each verb is judged on the resources its
// row of rbacVerbs names. Every verb must be a row of rbacVerbs (NewRegistry refuses others).
func ruleCheck(slug Slug, decides, forbidden string, verbs []string, refs ...resourceRef) *Check {
	type target struct {
		ref  resourceRef
		rows []rbacVerb
	}
	var targets []target
	var rows []rbacVerb
	for _, v := range verbs {
		if row, ok := verbRow(v); ok {
			rows = append(rows, row)
		}
	}
	if len(refs) > 0 {
		for _, ref := range refs {
			targets = append(targets, target{ref, rows})
		}
	} else {
		for _, row := range rows {
			for _, ref := range row.on {
				targets = append(targets, target{ref, []rbacVerb{row}})
			}
			if len(row.on) == 0 {
				targets = append(targets, target{resourceRef{group: rbacv1.APIGroupAll, resource: rbacv1.ResourceAll}, []rbacVerb{row}})
			}
		}
	}
	return &Check{
		Slug:    slug,
		Decides: decides,
		Targets: []Target{TargetRole},
		verbs:   verbs,
		Evaluate: func(in *Input) []Finding {
			rules, _ := in.rules()
			_, isRole := in.Raw.(*rbacv1.Role)
			var out []Finding
			for i, rule := range rules {
				var granted, on []string
				for _, t := range targets {
					if t.ref.clusterScoped && isRole {
						// A Role's rules apply to requests in its namespace; this one carries none
						// (VisitRulesFor reads RoleBindings only for a namespace,
						// k8s.io/kubernetes pkg/registry/rbac/validation/rule.go:208).
						continue
					}
					got := grantedVerbs(rule, t.ref, t.rows)
					if len(got) == 0 {
						continue
					}
					granted = appendNew(granted, got...)
					if len(refs) > 0 && !strings.Contains(t.ref.resource, "*") {
						on = appendNew(on, t.ref.resource) // the check's own resource
					} else {
						on = appendNew(on, matchingResources(rule.Resources, t.ref)...)
					}
				}
				if len(refs) == 0 {
					// Name the rule's resources in the rule's order.
					slices.SortStableFunc(on, func(a, b string) int {
						return slices.Index(rule.Resources, a) - slices.Index(rule.Resources, b)
					})
				}
				if slices.Contains(granted, rbacv1.VerbAll) {
					granted = []string{rbacv1.VerbAll}
				}
				if len(granted) > 0 {
					path := indexed("rules", i)
					out = append(out, fail(path, path+" must not grant "+forbidden+
						" (grants "+quoteList(granted)+" on "+quoteList(on)+")"))
				}
			}
			return out
		},
	}
}

func appendNew(list []string, values ...string) []string {
	for _, v := range values {
		if !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
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
