package cloudscan

// private-nodes (5.4.3, "Ensure clusters are created with Private Nodes"): no Node of the cluster
// reports an ExternalIP address (Node status.addresses; the kubelet's cloud provider lists a
// node's public IPv4 address as type ExternalIP). Decided in the cluster, not from the VPC: a
// node group in a public subnet with public IPs shows there. A cluster without Nodes decides
// nothing.

import (
	"strconv"

	"github.com/cisgate/cisgate/policy"
)

func init() {
	register(&Check{Slug: "private-nodes", Decides: "no Node reports an ExternalIP address in status.addresses", Evaluate: privateNodes})
}

func privateNodes(ev *Evidence) Outcome {
	const expected = "no Node with an ExternalIP address"
	if ev.NodesErr != nil {
		return unread(expected, sourceNodes, ev.NodesErr)
	}
	if len(ev.Nodes) == 0 {
		return Outcome{Status: policy.StatusWarn, Expected: expected, Actual: "0 Nodes", Source: sourceNodes, Detail: "the cluster has no Node to decide on"}
	}
	var public []string
	for _, n := range ev.Nodes {
		if len(n.ExternalIPs) > 0 {
			public = append(public, n.Name+" ("+listOrNone(n.ExternalIPs)+")")
		}
	}
	actual := strconv.Itoa(len(public)) + " of " + strconv.Itoa(len(ev.Nodes)) + " Nodes with an ExternalIP"
	if len(public) > 0 {
		return decided(false, expected, actual, sourceNodes, "Nodes must have no ExternalIP address in status.addresses (run them in private subnets): "+listOrNone(public))
	}
	return decided(true, expected, actual, sourceNodes, "no Node has an ExternalIP address")
}
