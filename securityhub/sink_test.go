package securityhub_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/securityhub"
)

// TestSinkPublishesScans: as a report.Sink, a node scan's findings carry the Node's UID and EC2
// instance (the scan's subject); the cloud scan's are on the cluster. A Node that cannot be read
// is the report Publisher's error (reported once), and the findings are still imported.
func TestSinkPublishesScans(t *testing.T) {
	overlay := env(t)
	p := newPublisher(t, &clock{t: time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)})
	client := fake.NewClientset(&corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1", UID: "uid-n1"},
		Spec:       corev1.NodeSpec{ProviderID: "aws:///us-east-1a/i-0123456789abcdef0"},
	})
	publisher := report.NewPublisher(client, "cisgate-system", securityhub.Sink{Publisher: p})

	require.NoError(t, publisher.Publish(context.Background(), report.Scan{Benchmark: policy.EKS200, Time: time.Now(), Node: "n1", Results: nodeResults(policy.StatusFail)}))
	err := publisher.Publish(context.Background(), report.Scan{Benchmark: policy.EKS200, Time: time.Now(), Node: "gone", Results: nodeResults(policy.StatusFail)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `nodes "gone" not found`)
	// CIS EKS 2.0.0 2.1.1 "Enable EKS control plane logging", failing.
	require.NoError(t, publisher.Publish(context.Background(), report.Scan{Benchmark: policy.EKS200, Time: time.Now(),
		CloudCluster: &report.CloudCluster{Cluster: "prod", Region: "us-east-1"},
		Results:      []output.EvidenceResult{{ID: "2.1.1", Slug: "control-plane-logging", Status: policy.StatusFail, Expected: "api, audit, authenticator, controllerManager, scheduler", Actual: "api"}}}))

	findings := allFindings(t, overlay)
	require.Len(t, findings, 7)
	n1 := findings[securityhub.FindingID(identity, "anonymous-auth", securityhub.Resource{Kind: "Node", Name: "n1"})]
	assert.Equal(t, "uid-n1", n1.Resources[0].Details.Other["uid"])
	assert.Equal(t, "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0", aws.ToString(n1.Resources[1].Id))
	gone := findings[securityhub.FindingID(identity, "anonymous-auth", securityhub.Resource{Kind: "Node", Name: "gone"})]
	assert.NotContains(t, gone.Resources[0].Details.Other, "uid")
	assert.Equal(t, types.ComplianceStatusFailed, gone.Compliance.Status)
	cloud := findings[identity.ClusterARN()+"/cisgate/control-plane-logging/cluster"]
	assert.Equal(t, securityhub.ScopeCloud, cloud.ProductFields[securityhub.FieldScope])
	assert.Equal(t, "Enable EKS control plane logging: expected api, audit, authenticator, controllerManager, scheduler, found api",
		aws.ToString(cloud.Remediation.Recommendation.Text))
}
