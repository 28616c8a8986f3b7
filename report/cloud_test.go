package report_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// A 5.1.1 detail that lists thousands of unscanned repositories is cut to fit cloud.json's share
// of the report ConfigMap; the IDs, statuses, values and counts stay.
func TestCloudReportFitsItsShare(t *testing.T) {
	long := strings.Repeat(`"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app (used by team/app-1)", `, 2000)
	s := report.Scan{Benchmark: policy.EKS200, Time: time.Now(), CloudCluster: &report.CloudCluster{Cluster: "prod", Region: "us-east-1", Errors: []string{}}, Results: []output.EvidenceResult{
		{ID: "5.1.1", Slug: "ecr-image-scanning", Status: policy.StatusFail, Actual: "0 of 2000 repositories scanned", Detail: long},
		{ID: "2.1.1", Slug: "control-plane-logging", Status: policy.StatusPass, Actual: "enabled: api", Detail: "ok"},
	}}
	data, err := report.MarshalWithin(report.NewCloudReport(s), report.CloudShare)
	require.NoError(t, err)
	assert.LessOrEqual(t, len(data), report.CloudShare)
	var got report.CloudReport
	require.NoError(t, json.Unmarshal(data, &got))
	assert.True(t, got.Truncated)
	assert.Equal(t, map[policy.Status]int{policy.StatusFail: 1, policy.StatusPass: 1}, got.Counts)
	require.Len(t, got.Results, 2)
	assert.Equal(t, "0 of 2000 repositories scanned", got.Results[0].Actual)
	assert.Empty(t, got.Results[0].Detail)
}
