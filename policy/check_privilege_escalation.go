package policy

// privilege-escalation: every container runs with allowPrivilegeEscalation false, as the API
// defines it (Kubernetes API reference, SecurityContext.allowPrivilegeEscalation: "always true
// when the container is: 1) run as Privileged 2) has CAP_SYS_ADMIN"). So the field must be set
// to false explicitly (unset means true), and a privileged container or one that adds SYS_ADMIN
// in any spelling the runtime accepts ("sys_admin", or ALL: capabilities.go) fails whatever the
// field says. Skipped for Windows pods, which cannot set it (as Pod Security Admission does).

func init() {
	register(containerCheck("privilege-escalation",
		"every container sets securityContext.allowPrivilegeEscalation=false, and is neither privileged nor adds SYS_ADMIN (which make it true)",
		linuxPodOnly, privilegeEscalation))
}

func privilegeEscalation(_ *Input, c Container) []Finding {
	var problem string
	sc := c.SecurityContext
	switch {
	case sc == nil || sc.AllowPrivilegeEscalation == nil:
		problem = " must set securityContext.allowPrivilegeEscalation=false (unset defaults to true)"
	case *sc.AllowPrivilegeEscalation:
		problem = " must set securityContext.allowPrivilegeEscalation=false, not true"
	case sc.Privileged != nil && *sc.Privileged:
		problem = " escalates privileges whatever allowPrivilegeEscalation says: it sets securityContext.privileged=true"
	case capabilitiesOf(c).adds("SYS_ADMIN"):
		problem = " escalates privileges whatever allowPrivilegeEscalation says: it adds capability SYS_ADMIN"
	default:
		return nil // the path is built only for a finding: this runs for every container
	}
	return []Finding{fail(c.Field("securityContext.allowPrivilegeEscalation"), c.Describe()+problem)}
}
