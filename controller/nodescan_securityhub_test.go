package controller

import (
	"context"
	"testing"
	"time"

	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/internal/moto"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/securityhub"
)

// The scan Jobs get serve's --securityhub flags and publish their own node's findings.
func TestNodeScanJobPassesSecurityHubFlags(t *testing.T) {
	opts := testNodeScanOptions()
	sh := securityhub.NewOptions()
	sh.Enabled, sh.Cluster, sh.Region = true, "prod", "us-east-1"
	opts.SecurityHubArgs = sh.Args()
	job := renderNodeScanJob(readyScanNode("n1", ""), scanNamespace, opts, policy.EKS200, nil)
	args := job.Spec.Template.Spec.Containers[0].Args
	assert.Equal(t, sh.Args(), args[len(args)-len(sh.Args()):])
	assert.Contains(t, args, "--securityhub-cluster=prod")

	off := renderNodeScanJob(readyScanNode("n1", ""), scanNamespace, testNodeScanOptions(), policy.EKS200, nil)
	for _, a := range off.Spec.Template.Spec.Containers[0].Args {
		assert.NotContains(t, a, "securityhub")
	}
}

// A deleted node can no longer scan itself: the scheduler archives its findings (moto's Security
// Hub through the overlay) when it cleans up after it, and leaves the other nodes' alone.
func TestSchedulerRetiresADeletedNodesSecurityHubFindings(t *testing.T) {
	m := moto.StartT(t)
	m.Env(t)
	overlay := moto.NewSecurityHubOverlay(t, m)
	t.Setenv("AWS_ENDPOINT_URL", overlay.URL)
	publisher := securityhub.New(t.Context(), securityhub.Config{Cluster: "prod", QPS: 50, Burst: 10, Logger: logr.Discard()})
	cat, err := policy.CatalogueFor(policy.EKS200)
	require.NoError(t, err)
	// What the scans of n1 and n2 published (CIS EKS 2.0.0 3.2.1 failing on both).
	for _, node := range []string{"n1", "n2"} {
		rows := securityhub.NodeRows(cat, securityhub.NodeScan{Node: node, Results: []output.EvidenceResult{
			{ID: "3.2.1", Slug: "anonymous-auth", Status: policy.StatusFail, Expected: "false", Actual: "true"}}})
		require.NoError(t, publisher.Publish(t.Context(), securityhub.NodeScope(node), rows).Err())
	}

	h := startSchedulerWith(t, testNodeScanOptions(), func(s *NodeScanScheduler) { s.RetireSecurityHubFindings(publisher) },
		readyScanNode("n1", ""), readyScanNode("n2", ""))
	h.waitForJobs(t, 2)
	require.NoError(t, h.client.CoreV1().Nodes().Delete(context.Background(), "n1", metav1.DeleteOptions{}))
	h.waitForJobs(t, 1)

	id := securityhub.Identity{Partition: "aws", Account: moto.AccountID, Region: moto.Region, Cluster: "prod"}
	n1 := securityhub.FindingID(id, "anonymous-auth", securityhub.Resource{Kind: "Node", Name: "n1"})
	n2 := securityhub.FindingID(id, "anonymous-auth", securityhub.Resource{Kind: "Node", Name: "n2"})
	require.Eventually(t, func() bool {
		// Archived by the import, then resolved by the workflow update.
		f, ok := securityHubFindings(t, overlay)[n1]
		return ok && f.RecordState == shtypes.RecordStateArchived && f.Workflow.Status == shtypes.WorkflowStatusResolved
	}, 20*time.Second, 50*time.Millisecond)
	f, ok := securityHubFindings(t, overlay)[n2]
	require.True(t, ok, "n2's finding is still there")
	assert.Equal(t, shtypes.RecordStateActive, f.RecordState)
	assert.Equal(t, shtypes.WorkflowStatusNew, f.Workflow.Status)
}
