package nodescan

func init() {
	register(&Check{
		Slug:     "kubelet-config-owner",
		Decides:  "the kubelet config file and each drop-in are owned by root:root",
		Evaluate: evaluateKubeletConfigOwner,
	})
}

// evaluateKubeletConfigOwner decides kubelet-config-owner: the --config file and every drop-in are
// owned by root:root.
func evaluateKubeletConfigOwner(ev *Evidence) Outcome {
	files, warn := configFiles(ev, fileOwnership.expected)
	if warn != nil {
		return *warn
	}
	return evaluateFiles(ev.Host, files, fileOwnership)
}
