package policy

// bind-escalate-impersonate: no Role or ClusterRole rule grants an escalation verb of the table of
// RBAC verbs (rbacVerbs: bind, escalate, impersonate and constrained impersonation's
// impersonate:<mode> and impersonate-on:<mode>:<verb>) on a resource the API server authorizes
// that verb on: bind and escalate on roles and clusterroles, impersonate on users, groups,
// serviceaccounts, uids and userextras. "*" verbs count where they reach those resources, so "*" on
// pods is no finding here (rbac-wildcards reports it). A Role grants nothing on what its
// namespace cannot hold: impersonating users or groups, escalating ClusterRoles.

func init() {
	var verbs []string
	for _, v := range escalationVerbs() {
		verbs = append(verbs, v.verb)
	}
	register(ruleCheck("bind-escalate-impersonate", "no rule grants bind, escalate or impersonate (constrained impersonation's verbs included) on what those verbs act on",
		"bind, escalate or impersonate", verbs))
}
