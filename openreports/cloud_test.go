package openreports_test

import (
	"testing"
	"time"

	orv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/openreports"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// TestBuildCloud: a cloud scan becomes the ClusterReport cisgate-cloud, one result per item with
// the value read; eks-2.0.0 numbers control-plane logging 2.1.1 in "2.1 Logging" and access
// entries 5.5.1, assessed Automated (kube-bench cfg/eks-2.0.0/controlplane.yaml and
// managedservices.yaml).
func TestBuildCloud(t *testing.T) {
	cat, err := policy.CatalogueFor(policy.EKS200)
	require.NoError(t, err)
	logging, _ := cat.Entry("control-plane-logging")
	access, _ := cat.Entry("access-entries")
	kms, _ := cat.Entry("secrets-kms-encryption")
	require.Equal(t, "2.1.1", logging.ID)
	require.Equal(t, "5.5.1", access.ID)
	at := time.Unix(1700000000, 0)
	r := openreports.BuildCloud(cat, report.Scan{Benchmark: policy.EKS200, Time: at, CloudCluster: &report.CloudCluster{Cluster: "prod", Region: "us-east-1"}, Results: []output.EvidenceResult{
		{ID: logging.ID, Slug: logging.Slug, Status: policy.StatusFail, Expected: "api, audit, authenticator, controllerManager, scheduler", Actual: "enabled: api", Source: "eks:DescribeCluster", Detail: "audit logs are off"},
		{ID: access.ID, Slug: access.Slug, Status: policy.StatusPass, Expected: "API or API_AND_CONFIG_MAP", Actual: "API", Source: "eks:DescribeCluster", Detail: "access entries are on"},
		{ID: kms.ID, Slug: kms.Slug, Status: policy.StatusWarn, Source: "eks:DescribeCluster", Detail: "AccessDenied"},
	}})
	require.Equal(t, openreports.CloudReportName, r.Name)
	require.Equal(t, "cisgate-cloud", r.Name)
	require.Equal(t, openreports.WriterCloudScan, r.Labels[openreports.WriterLabel])
	require.Equal(t, string(policy.EKS200), r.Labels[openreports.BenchmarkLabel])
	require.Nil(t, r.Scope, "the cluster itself")
	require.Equal(t, orv1alpha1.ReportSummary{Fail: 1, Warn: 1, Pass: 1}, r.Summary)
	require.Equal(t, summaryOf(r.Results), r.Summary)

	fail := find(r.Results, "2.1.1", openreports.ResultFail)
	require.NotNil(t, fail)
	require.Equal(t, "2.1 Logging", fail.Category)
	require.Equal(t, "cis-eks-2.0.0", fail.Policy)
	require.Equal(t, "enabled: api", fail.Properties[openreports.PropertyActual])
	require.Equal(t, "eks:DescribeCluster", fail.Properties[openreports.PropertySource])
	require.Equal(t, "audit logs are off", fail.Description)
	require.Empty(t, fail.Subjects)
	pass := find(r.Results, "5.5.1", openreports.ResultPass)
	require.NotNil(t, pass)
	require.Equal(t, "5.5 Authentication and Authorization", pass.Category)
	require.True(t, pass.Scored)
	require.NotNil(t, find(r.Results, kms.ID, openreports.ResultWarn), "an item AWS did not answer is a warning")
}
