package policy

// host-pid, host-ipc, host-network: a pod spec that sets hostPID, hostIPC or
// hostNetwork to true fails the matching check.

func init() {
	register(hostNamespaceCheck("host-pid", "hostPID", func(in *Input) bool { return in.Pod.Spec.HostPID }))
	register(hostNamespaceCheck("host-ipc", "hostIPC", func(in *Input) bool { return in.Pod.Spec.HostIPC }))
	register(hostNamespaceCheck("host-network", "hostNetwork", func(in *Input) bool { return in.Pod.Spec.HostNetwork }))
}

func hostNamespaceCheck(slug Slug, field string, shares func(*Input) bool) *Check {
	return &Check{
		Slug:    slug,
		Decides: "the pod spec does not set " + field + "=true",
		Targets: []Target{TargetPodSpec},
		Evaluate: func(in *Input) []Finding {
			if !shares(in) {
				return nil
			}
			return []Finding{fail(in.Pod.Field(field), "pod must not set "+field+"=true")}
		},
	}
}
