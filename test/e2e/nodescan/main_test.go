// Package nodescan tests node scanning on a real kube-apiserver: `cisgate nodescan --report`
// writing the CISNodeScan Event and the node's report key, and the scheduler in a manager creating,
// pacing and cleaning up the scan Jobs.
package nodescan

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/nodescan/nodescantest"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

var env *framework.Env

func TestMain(m *testing.M) { os.Exit(framework.Main(m, framework.Options{}, &env)) }

// fixturesDir holds the node host-root fixtures.
const fixturesDir = "../../testdata/nodes"

// hostFixture copies a node fixture to a temporary host root with the modes and owners of a
// healthy node (0644, root:root).
func hostFixture(t *testing.T, name string) string {
	return nodescantest.CopyHost(t, filepath.Join(fixturesDir, name), nil)
}

// createNode creates a Ready Linux Node, as a joining kubelet leaves it, and deletes it when the
// test ends: Nodes are cluster-wide, and the scheduler test counts them all.
func createNode(t *testing.T, name string) *corev1.Node {
	t.Helper()
	ctx := context.Background()
	node, err := env.Clientset.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name:   name,
		Labels: map[string]string{corev1.LabelOSStable: "linux"},
	}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = env.Clientset.CoreV1().Nodes().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
	node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady"}}
	node.Status.NodeInfo.OSImage = "Amazon Linux 2023.6.20250115"
	node, err = env.Clientset.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	require.NoError(t, err)
	return node
}

// uniqueName makes cluster-wide names of one test distinct from another's.
func uniqueName(prefix string) string {
	return prefix + "-" + strconv.FormatInt(time.Now().UnixNano()%1_000_000, 36)
}
