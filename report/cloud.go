package cloudscan

import (
	"time"

	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// CloudReport is the content of the report ConfigMap key cloud.json (report.CloudKey), written by
// the leader after each cloud scan. It is a report.Payload.
type CloudReport struct {
	report.Header
	Time time.Time `json:"time"`
	// Counts are the results per status; they stay exact when the details are cut.
	Counts map[policy.Status]int `json:"counts"`
	Report
}

// NewCloudReport builds the payload of a scan taken at a time (UTC, whole seconds).
func NewCloudReport(r Report, at time.Time) CloudReport {
	return CloudReport{Header: report.NewHeader(), Time: at.UTC().Truncate(time.Second), Counts: r.counts(), Report: r}
}

// Summarise shrinks the payload for its budget: the details of the results go first (a 5.1.1
// detail lists every unscanned repository), then the errors; IDs, statuses and values stay.
func (c CloudReport) Summarise(budget int) report.Payload {
	summary := c
	summary.Truncated = true
	summary.Results = make([]Result, len(c.Results))
	for i, res := range c.Results {
		res.Detail = ""
		summary.Results[i] = res
	}
	if report.Fits(summary, budget) {
		return summary
	}
	summary.Errors = nil
	return summary
}
