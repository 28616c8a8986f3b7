package nodescan

func init() {
	register(&Check{
		Slug:     "kubelet-config-perms",
		Decides:  "the kubelet config file and each drop-in have no mode bit outside 0644",
		Evaluate: evaluateKubeletConfigPerms,
	})
}

// evaluateKubeletConfigPerms decides kubelet-config-perms: the --config file and every drop-in the
// kubelet loads from --config-dir have no mode bit outside 0644; a kubelet without either is WARN.
func evaluateKubeletConfigPerms(ev *Evidence) Outcome {
	files, warn := configFiles(ev, filePermissions.expected)
	if warn != nil {
		return *warn
	}
	return evaluateFiles(ev.Host, files, filePermissions)
}
