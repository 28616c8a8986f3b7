package report

import (
	"time"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// CloudReport is the content of the report ConfigMap key cloud.json (CloudKey), written by the
// leader after each cloud scan. It is a Payload.
type CloudReport struct {
	Header
	Time time.Time `json:"time"`
	// Counts are the results per status; they stay exact when the details are cut.
	Counts    map[policy.Status]int `json:"counts"`
	Benchmark policy.Benchmark      `json:"benchmark"`
	CloudCluster
	Results []output.EvidenceResult `json:"results"`
}

// CloudCluster is what a cloud scan says of the cluster besides its results.
type CloudCluster struct {
	Cluster string `json:"cluster"`
	Region  string `json:"region"`
	// AutoMode is the cluster's computeConfig.enabled; nil when DescribeCluster failed.
	AutoMode *bool `json:"autoMode,omitempty"`
	// Section3 says who decides section 3 when no node scan can ("managed by AWS (Auto Mode)"),
	// else empty: node scans decide it.
	Section3 string `json:"section3,omitempty"`
	// Errors are the failed reads, each once, sorted; the items that needed them are WARN.
	Errors []string `json:"errors"`
	// Calls are the AWS calls the scan made, by IAM action.
	Calls map[string]int `json:"awsCalls"`
}

// NewCloudReport builds the payload of a cloud scan (UTC, whole seconds).
func NewCloudReport(s Scan) CloudReport {
	r := CloudReport{Header: NewHeader(), Time: s.Time.UTC().Truncate(time.Second), Counts: output.CountEvidence(s.Results),
		Benchmark: s.Benchmark, Results: s.Results}
	if s.CloudCluster != nil {
		r.CloudCluster = *s.CloudCluster
	}
	return r
}

// Summarise shrinks the payload for its budget: the details of the results go first (a 5.1.1
// detail lists every unscanned repository), then the errors; IDs, statuses and values stay.
func (c CloudReport) Summarise(budget int) Payload {
	summary := c
	summary.Truncated = true
	summary.Results = make([]output.EvidenceResult, len(c.Results))
	for i, res := range c.Results {
		res.Detail = ""
		summary.Results[i] = res
	}
	if Fits(summary, budget) {
		return summary
	}
	summary.Errors = nil
	return summary
}
