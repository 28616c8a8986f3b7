package nodescan

func init() {
	register(&Check{
		Slug:     "kubeconfig-owner",
		Decides:  "the kubelet kubeconfig is owned by root:root",
		Evaluate: evaluateKubeconfigOwner,
	})
}

// evaluateKubeconfigOwner decides kubeconfig-owner: the kubelet's kubeconfig is owned by uid 0 and
// gid 0.
func evaluateKubeconfigOwner(ev *Evidence) Outcome {
	files, warn := kubeconfigFiles(ev, fileOwnership.expected)
	if warn != nil {
		return *warn
	}
	return evaluateFiles(ev.Host, files, fileOwnership)
}
