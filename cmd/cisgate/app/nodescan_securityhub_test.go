package app

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/cisgate/cisgate/internal/moto"
	"github.com/cisgate/cisgate/report"
)

// TestNodeScanPublishesToSecurityHub runs `nodescan --report --securityhub` as the scan Job does
// on the flags-only-insecure node (7 FAIL, 2 WARN, 3 PASS under eks-2.0.0), against moto's
// Security Hub through the overlay. A denied import is logged and loses nothing: the exit code,
// the report key and the Event are the same; the next scan imports every result.
func TestNodeScanPublishesToSecurityHub(t *testing.T) {
	m := moto.StartT(t)
	m.Env(t)
	overlay := moto.NewSecurityHubOverlay(t, m)
	t.Setenv("AWS_ENDPOINT_URL", overlay.URL)
	root := rootOwnedFixture(t, "flags-only-insecure")
	const node, namespace = "ip-10-0-1-1", "cisgate-system"
	client := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node, UID: "uid-1"},
		Spec: corev1.NodeSpec{ProviderID: "aws:///us-east-1a/i-0abcdef1234567890"}})

	scan := func() (int, string) {
		o := NewNodeScanOptions()
		o.HostRoot, o.NodeName, o.Report, o.Namespace = root, node, true, namespace
		o.SecurityHub.Enabled, o.SecurityHub.Cluster = true, "prod"
		require.Empty(t, o.Validate())
		o.newPublisher = func(o *NodeScanOptions) (ScanPublisher, error) {
			return newNodeScanPublisherFor(client, nil, namespace, o.securityHubSinks()...)
		}
		var out, errOut bytes.Buffer
		err := o.Run(t.Context(), IOStreams{Out: &out, ErrOut: &errOut})
		var exit *ExitError
		require.ErrorAs(t, err, &exit)
		return exit.Code, errOut.String()
	}

	overlay.Fail(moto.PathBatchImportFindings, 1, moto.AccessDenied)
	code, logged := scan()
	assert.Equal(t, ExitFindings, code, "the scan's exit code, not Security Hub's")
	assert.Contains(t, logged, "access denied to securityhub:BatchImportFindings")
	cm, err := client.CoreV1().ConfigMaps(namespace).Get(t.Context(), report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Contains(t, cm.Data, "node."+node+".json")
	events, err := client.EventsV1().Events(metav1.NamespaceDefault).List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, events.Items, 1)

	code, logged = scan()
	assert.Equal(t, ExitFindings, code)
	assert.NotContains(t, logged, "Security Hub")
	found, err := overlay.Findings(context.Background())
	require.NoError(t, err)
	byStatus := map[string]int{}
	for _, f := range found {
		byStatus[string(f.Compliance.Status)]++
		assert.Equal(t, "node/"+node, f.ProductFields["cisgate/Scope"])
		assert.Equal(t, "uid-1", f.Resources[0].Details.Other["uid"])
		assert.Equal(t, "arn:aws:ec2:us-east-1:123456789012:instance/i-0abcdef1234567890", aws.ToString(f.Resources[1].Id))
	}
	assert.Equal(t, map[string]int{"FAILED": 7, "WARNING": 2, "PASSED": 3}, byStatus)
}

func TestNodeScanSecurityHubNeedsReport(t *testing.T) {
	code, _, stderr := runCLI(t, "nodescan", "--host-root", t.TempDir(), "--node-name", "n", "--securityhub", "--securityhub-cluster", "prod")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr, "--securityhub needs --report")
}
