package policy

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// rbacVerb is one RBAC verb the checks read, as the API server authorizes it. rbacVerbs is the one
// table of them: every verb a check names must be a row (NewRegistry refuses a check that names
// another), and bind-escalate-impersonate (4.1.8) judges exactly the rows marked escalation, on
// the resources each row says the API server asks about.
type rbacVerb struct {
	// verb as a rule writes it; a prefix ending in ":" (impersonate-on:<mode>:) stands for every
	// verb that starts with it.
	verb string
	// escalation: a subject holding the verb can gain permissions it lacks (4.1.8).
	escalation bool
	// on are the resources the API server authorizes the verb against. Empty: the resource of
	// whatever request is made (any resource).
	on []resourceRef
	// names is whether any of the verb's requests carries an object name: a rule limited by
	// resourceNames grants a verb whose requests never carry one nothing (RBAC's
	// ResourceNameMatches compares the request's name, k8s.io/kubernetes
	// pkg/apis/rbac/v1/evaluation_helpers.go:80), and grants one that some request names.
	names requestNames
	// notByStar: a rule's "*" verbs do not count as granting it for 4.1.8, because the verb
	// grants nothing alone (see the impersonate-on rows).
	notByStar bool
	// source is where Kubernetes authorizes the verb.
	source string
}

// requestNames is whether a verb's requests name an object.
type requestNames int

const (
	// named: some request with the verb carries the object's name (list and watch with a
	// metadata.name field selector; create by server-side apply or on update).
	named requestNames = iota
	// unnamed requests never carry one.
	unnamed
)

const (
	rbacGroup  = "rbac.authorization.k8s.io"
	authnGroup = "authentication.k8s.io"
	// impersonationSource is the file of the API server's impersonation filter.
	impersonationSource = "k8s.io/apiserver pkg/endpoints/filters/impersonation/mode.go"
)

// Constrained impersonation (KEP-5284): impersonate:<mode> authorizes whom, impersonate-on:<mode>:<verb>
// what the impersonated request may do; the modes are allImpersonationModes (mode.go:60).
var rbacVerbs = []rbacVerb{
	{verb: "get", source: "k8s.io/apiserver pkg/endpoints/request/requestinfo.go:215 (the name is the path's second part)"},
	{verb: "list", source: "requestinfo.go:221-250 (a GET without a name; a metadata.name field selector names the object)"},
	{verb: "watch", source: "requestinfo.go:221-250 (as list, with watch=true)"},
	// The RBAC documentation's "create cannot be restricted by resourceName" is about the POST
	// to the collection; a create that names the object is granted by a rule listing its name.
	{verb: "create",
		source: "k8s.io/apiserver pkg/endpoints/handlers/patch.go:214 (server-side apply of a missing object asks create with its name, any resource), " +
			"update.go:192 (so does a PUT to a missing object where the resource allows create on update); " +
			"requestinfo.go:209-218 (a POST to a subresource names its parent; only a POST to the collection has no name)"},
	{verb: "update", source: "requestinfo.go:215 (PUT names the object)"},
	{verb: "patch", source: "requestinfo.go:215 (PATCH names the object)"},
	{verb: "delete", source: "requestinfo.go:215 (DELETE names the object)"},
	{verb: "deletecollection", names: unnamed, source: "requestinfo.go:254-257 (a DELETE without a name is deletecollection)"},
	{verb: "proxy", source: "requestinfo.go:215 (nodes/NAME/proxy names the node)"},

	{verb: "bind", escalation: true, on: []resourceRef{
		// Checked in the binding's namespace, so a Role may grant binding a ClusterRole there.
		{group: rbacGroup, resource: "roles"}, {group: rbacGroup, resource: "clusterroles"}},
		source: "k8s.io/kubernetes pkg/registry/rbac/escalation_check.go:101 BindingAuthorized (Namespace: the binding's)"},
	{verb: "escalate", escalation: true, on: []resourceRef{
		{group: rbacGroup, resource: "roles"}, {group: rbacGroup, resource: "clusterroles", clusterScoped: true}},
		source: "k8s.io/kubernetes pkg/registry/rbac/escalation_check.go:55 RoleEscalationAuthorized (the written role's namespace)"},
	{verb: "impersonate", escalation: true, on: []resourceRef{
		{group: "", resource: "users", clusterScoped: true}, {group: "", resource: "groups", clusterScoped: true},
		{group: "", resource: "serviceaccounts"},
		{group: authnGroup, resource: "uids", clusterScoped: true}, {group: authnGroup, resource: "userextras/*", clusterScoped: true}},
		source: impersonationSource + ":224 legacyImpersonationMode, :378-498 (users, groups in core v1; serviceaccounts in the account's namespace; uids, userextras/<key> in authentication.k8s.io)"},
	{verb: "impersonate:user-info", escalation: true, on: []resourceRef{
		{group: authnGroup, resource: "users", clusterScoped: true}, {group: authnGroup, resource: "groups", clusterScoped: true},
		{group: authnGroup, resource: "uids", clusterScoped: true}, {group: authnGroup, resource: "userextras/*", clusterScoped: true}},
		source: impersonationSource + ":205 userInfoImpersonationMode, :249, :378-498 (every field but nodes and service accounts, in authentication.k8s.io)"},
	{verb: "impersonate:serviceaccount", escalation: true, on: []resourceRef{{group: authnGroup, resource: "serviceaccounts"}},
		source: impersonationSource + ":191 serviceAccountImpersonationMode, :395-398 (serviceaccounts in the account's namespace)"},
	{verb: "impersonate:arbitrary-node", escalation: true, on: []resourceRef{{group: authnGroup, resource: "nodes", clusterScoped: true}},
		source: impersonationSource + ":177 arbitraryNodeImpersonationMode, :382-384 (nodes)"},
	{verb: "impersonate:associated-node", escalation: true, on: []resourceRef{{group: authnGroup, resource: "nodes", clusterScoped: true}},
		source: impersonationSource + ":75 associatedNodeImpersonationMode, :143-146, :382-384 (nodes, any name)"},
	// impersonate-on:<mode>:<verb> is asked on the impersonated request's own resource (mode.go:284,
	// :555) and admits nothing without impersonate:<mode> (:288): named in a rule it is an
	// impersonation grant; implied by "*" verbs (on pods, say) it is none.
	{verb: "impersonate-on:user-info:", escalation: true, notByStar: true, source: impersonationSource + ":284, :555 impersonateOnAttributes.GetVerb"},
	{verb: "impersonate-on:serviceaccount:", escalation: true, notByStar: true, source: impersonationSource + ":284, :555 impersonateOnAttributes.GetVerb"},
	{verb: "impersonate-on:arbitrary-node:", escalation: true, notByStar: true, source: impersonationSource + ":284, :555 impersonateOnAttributes.GetVerb"},
	{verb: "impersonate-on:associated-node:", escalation: true, notByStar: true, source: impersonationSource + ":284, :555 impersonateOnAttributes.GetVerb"},
}

// verbRow is the table's row for a verb as a check names it.
func verbRow(verb string) (rbacVerb, bool) {
	i := slices.IndexFunc(rbacVerbs, func(v rbacVerb) bool { return v.verb == verb })
	if i < 0 {
		return rbacVerb{}, false
	}
	return rbacVerbs[i], true
}

// escalationVerbs are the rows 4.1.8 judges.
func escalationVerbs() []rbacVerb {
	var out []rbacVerb
	for _, v := range rbacVerbs {
		if v.escalation {
			out = append(out, v)
		}
	}
	return out
}

// ruleVerbs are the verbs of rule that grant row: the row's verb itself (every verb with its
// prefix, for a prefix row), or "*" unless the row says "*" does not count.
func (v rbacVerb) ruleVerbs(rule rbacv1.PolicyRule) []string {
	var out []string
	for _, rv := range rule.Verbs {
		switch {
		case rv == rbacv1.VerbAll && !v.notByStar,
			rv == v.verb,
			strings.HasSuffix(v.verb, ":") && strings.HasPrefix(rv, v.verb) && len(rv) > len(v.verb):
			out = append(out, rv)
		}
	}
	return out
}

// grantsOn reports whether the verb's requests can pass rule's resourceNames: a rule that
// lists names grants only requests that carry a name.
func (v rbacVerb) grantsOn(rule rbacv1.PolicyRule) bool {
	if len(rule.ResourceNames) == 0 {
		return true
	}
	return v.names != unnamed
}
