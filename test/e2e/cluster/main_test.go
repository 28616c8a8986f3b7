// Package cluster tests cisgate as it really runs: its image, imported into a real one-node
// cluster (test/cluster: kubelet with containerd, kube-proxy, the control plane), installed by
// its chart with helm, called by the API server through its Service, and scanning the node's
// real kubelet. One cluster serves the whole package; every test installs and uninstalls its
// own release.
//
//	make cluster-test      (root; builds the cluster tools, the image and the pause image)
package cluster

import (
	"os"
	"testing"

	"github.com/cisgate/cisgate/test/cluster"
	"github.com/cisgate/cisgate/test/cluster/clustertest"
)

var c *cluster.Cluster

func TestMain(m *testing.M) { os.Exit(clustertest.Main(m, cluster.Options{}, &c)) }
