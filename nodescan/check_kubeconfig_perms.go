package nodescan

func init() {
	register(&Check{
		Slug:     "kubeconfig-perms",
		Decides:  "the kubelet kubeconfig's mode has no bit outside 0644",
		Evaluate: evaluateKubeconfigPerms,
	})
}

// evaluateKubeconfigPerms decides kubeconfig-perms: the kubelet's kubeconfig (--kubeconfig, else
// the layout's) has no mode bit outside 0644. A missing file is WARN, never PASS.
func evaluateKubeconfigPerms(ev *Evidence) Outcome {
	files, warn := kubeconfigFiles(ev, filePermissions.expected)
	if warn != nil {
		return *warn
	}
	return evaluateFiles(ev.Host, files, filePermissions)
}
