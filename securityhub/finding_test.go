package securityhub_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/securityhub"
)

var at = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

func catalogue(t *testing.T, b policy.Benchmark) *policy.Catalogue {
	t.Helper()
	cat, err := policy.CatalogueFor(b)
	require.NoError(t, err)
	return cat
}

func TestFindingIDStaysWithinASFFLimit(t *testing.T) {
	// Kubernetes names are up to 253 characters: a namespaced object can pass the ASFF's 512.
	long := securityhub.Resource{Kind: "ClusterRoleBinding", Name: strings.Repeat("b", 253)}
	longer := securityhub.Resource{Kind: "RoleBinding", Namespace: strings.Repeat("n", 63), Name: strings.Repeat("b", 253) + "x"}
	other := securityhub.Resource{Kind: "RoleBinding", Namespace: strings.Repeat("n", 63), Name: strings.Repeat("b", 253) + "y"}
	a, b := securityhub.FindingID(identity, "rbac-wildcards", longer), securityhub.FindingID(identity, "rbac-wildcards", other)
	assert.LessOrEqual(t, len(a), 512)
	assert.NotEqual(t, a, b, "cut Ids stay distinct")
	assert.Equal(t, a, securityhub.FindingID(identity, "rbac-wildcards", longer), "and stable")
	assert.True(t, strings.HasPrefix(a, "arn:aws:eks:us-east-1:123456789012:cluster/prod/cisgate/rbac-wildcards/RoleBinding/"))
	assert.Equal(t, identity.ClusterARN()+"/cisgate/rbac-wildcards/ClusterRoleBinding/"+long.Name, securityhub.FindingID(identity, "rbac-wildcards", long))
}

func TestNodeNotScannedIsNotAvailableOnEverySection3Check(t *testing.T) {
	cat := catalogue(t, policy.EKS200)
	// As nodescan's NotScanned.String() says it.
	notScanned := "not scanned: no kubelet process, unit or known layout; mount /etc/kubernetes"
	rows := securityhub.NodeRows(cat, securityhub.NodeScan{Node: "n1", NotScanned: notScanned})
	var want []string
	for _, e := range cat.Entries() {
		if e.Section == policy.SectionNode {
			want = append(want, e.ID)
		}
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.ID)
		assert.Equal(t, securityhub.ResultError, r.Result)
		f := securityhub.Finding(identity, securityhub.NodeScope("n1"), r, at)
		assert.Equal(t, types.ComplianceStatusNotAvailable, f.Compliance.Status)
		assert.Equal(t, "not scanned: no kubelet process, unit or known layout; mount /etc/kubernetes", aws.ToString(f.Description))
		assert.Equal(t, types.RecordStateActive, f.RecordState)
		assert.Equal(t, types.WorkflowStatusNew, f.Workflow.Status)
		// Without an instance the Node and the cluster are the resources.
		require.Len(t, f.Resources, 2)
	}
	assert.Equal(t, want, got)
	assert.NotEmpty(t, got)
}

func TestAuditRows(t *testing.T) {
	cat := catalogue(t, policy.EKS200)
	secrets, ok := cat.Entry("control-plane-logging")
	require.True(t, ok)
	findings := []output.Finding{
		// Decided by the cloud scan: its finding on the cluster is the cloud scan's, not the audit's WARN.
		{ID: secrets.ID, Slug: secrets.Slug, Status: policy.StatusWarn, Object: output.ObjectRef{Kind: "Cluster", Name: "cluster"}, Detail: "decided through the AWS API"},
		{ID: "4.2.1", Slug: "privileged", Status: policy.StatusFail, Object: output.ObjectRef{Kind: "Pod", Namespace: "ops", Name: "agent"},
			Detail: `container "a" must not set securityContext.privileged=true`, ExemptReason: "node agent, reviewed"},
		{ID: "4.2.1", Slug: "privileged", Status: policy.StatusFail, Object: output.ObjectRef{Kind: "Deployment", Namespace: "team-a", Name: "web"},
			Detail: `container "a" must not set securityContext.privileged=true`},
	}
	rows := securityhub.AuditRows(cat, findings, func(o output.ObjectRef) string { return "uid-" + o.Name })
	require.Len(t, rows, 2)

	exempt := securityhub.Finding(identity, securityhub.ScopeAudit, rows[0], at)
	assert.Equal(t, securityhub.ResultSkip, rows[0].Result)
	assert.Equal(t, types.ComplianceStatusNotAvailable, exempt.Compliance.Status)
	assert.Equal(t, types.RecordStateArchived, exempt.RecordState, "the config exempts it: not an open finding")
	assert.Equal(t, types.WorkflowStatusSuppressed, exempt.Workflow.Status)
	assert.Equal(t, "exempt: node agent, reviewed", aws.ToString(exempt.Description))

	web := securityhub.Finding(identity, securityhub.ScopeAudit, rows[1], at)
	assert.Equal(t, map[string]string{"cluster": "prod", "kind": "Deployment", "namespace": "team-a", "name": "web", "uid": "uid-web"}, web.Resources[0].Details.Other)
	assert.Equal(t, identity.ClusterARN()+"/Deployment/team-a/web", aws.ToString(web.Resources[0].Id))
	assert.Equal(t, "2026-12-07T10:00:00Z", aws.ToString(web.CreatedAt))
}

func TestManualItemIsAboutTheCluster(t *testing.T) {
	cat := catalogue(t, policy.EKS180)
	e, ok := cat.Entry("audit-log-collection")
	require.True(t, ok)
	rows := securityhub.AuditRows(cat, []output.Finding{{ID: e.ID, Slug: e.Slug, Status: policy.StatusWarn,
		Object: output.ObjectRef{Kind: "Cluster", Name: "cluster"}, Detail: "manual review"}}, nil)
	require.Len(t, rows, 1)
	f := securityhub.Finding(identity, securityhub.ScopeAudit, rows[0], at)
	require.Len(t, f.Resources, 1)
	assert.Equal(t, "AwsEksCluster", aws.ToString(f.Resources[0].Type))
	assert.Equal(t, identity.ClusterARN()+"/cisgate/audit-log-collection/cluster", aws.ToString(f.Id))
	// Manual items are low in cisgate's table (openreports.Severity); CIS EKS 1.8.0 2.1.2 is Manual.
	assert.Equal(t, types.SeverityLabelLow, f.Severity.Label)
	assert.Equal(t, "cisgate/cis-eks-1.8.0/2.1.2", aws.ToString(f.GeneratorId))
}

func TestInstanceID(t *testing.T) {
	// The AWS cloud provider's providerID: aws:///<zone>/<instance> (k8s.io/cloud-provider-aws).
	assert.Equal(t, "i-0123456789abcdef0", securityhub.InstanceID("aws:///us-east-1a/i-0123456789abcdef0"))
	assert.Equal(t, "", securityhub.InstanceID("aws:///us-east-1a/fargate-ip-10-0-1-1"))
	assert.Equal(t, "", securityhub.InstanceID("kind://docker/kind/kind-control-plane"))
	assert.Equal(t, "", securityhub.InstanceID(""))
}

func TestLongTextIsCutToASFFLimits(t *testing.T) {
	row := securityhub.Row{ID: "4.2.1", Slug: "privileged", Title: strings.Repeat("t", 300), Benchmark: policy.EKS200,
		Result: securityhub.ResultFail, Severity: "high", Remediation: strings.Repeat("r", 600), Detail: strings.Repeat("é", 600),
		Resource: securityhub.Resource{Kind: "Pod", Namespace: "a", Name: "b"}}
	f := securityhub.Finding(identity, securityhub.ScopeAudit, row, at)
	assert.LessOrEqual(t, len(aws.ToString(f.Title)), 256)
	assert.LessOrEqual(t, len(aws.ToString(f.Description)), 1024)
	assert.LessOrEqual(t, len(aws.ToString(f.Remediation.Recommendation.Text)), 512)
	assert.True(t, strings.HasSuffix(aws.ToString(f.Description), "é…"), "cut on a character boundary")
}
