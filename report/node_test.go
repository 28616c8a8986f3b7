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

// A node's payload keeps its counts exact as it is cut to ever smaller budgets: the PASS results
// go first, then the details, then the list.
func TestNodeReport(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 30, 15, 999, time.FixedZone("x", 3600))
	r := report.Scan{Benchmark: policy.EKS180, Node: "ip-10-0-1-1", Time: at, Results: []output.EvidenceResult{
		{ID: "3.2.1", Slug: "anonymous-auth", Status: policy.StatusFail, Actual: "true", Source: "flag --anonymous-auth", Detail: strings.Repeat("x", 200)},
		{ID: "3.2.4", Slug: "read-only-port", Status: policy.StatusPass, Actual: "0", Source: "default", Detail: "fine"},
		{ID: "3.2.5", Slug: "streaming-idle-timeout", Status: policy.StatusWarn, Actual: "unknown", Detail: strings.Repeat("y", 200)},
	}}
	payload := report.NewNodeReport(r)

	data, err := report.MarshalWithin(payload, 64*1024)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(data, &got))
	assert.Equal(t, 1.0, got["schemaVersion"])
	assert.Equal(t, false, got["truncated"])
	assert.Equal(t, "ip-10-0-1-1", got["node"])
	assert.Equal(t, "eks-1.8.0", got["benchmark"])
	assert.Equal(t, "2026-03-01T11:30:15Z", got["time"])
	assert.Equal(t, map[string]any{"PASS": 1.0, "FAIL": 1.0, "WARN": 1.0}, got["counts"])
	assert.Len(t, got["results"], 3)

	tests := []struct {
		name        string
		budget      int
		wantResults []output.EvidenceResult
	}{
		{"PASS results dropped", len(data) - 1, []output.EvidenceResult{r.Results[0], r.Results[2]}},
		{"details dropped", 450, []output.EvidenceResult{
			{ID: "3.2.1", Slug: "anonymous-auth", Status: policy.StatusFail, Actual: "true"},
			{ID: "3.2.5", Slug: "streaming-idle-timeout", Status: policy.StatusWarn, Actual: "unknown"}}},
		{"counts only", 200, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := report.MarshalWithin(payload, tt.budget)
			require.NoError(t, err)
			var summary report.NodeReport
			require.NoError(t, json.Unmarshal(data, &summary))
			assert.True(t, summary.Truncated)
			assert.Equal(t, tt.wantResults, summary.Results)
			assert.Equal(t, payload.Counts, summary.Counts)
		})
	}
}
