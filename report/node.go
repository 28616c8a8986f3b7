package nodescan

import (
	"time"

	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// NodeReport is the content of the report ConfigMap key node.<node>.json (report.NodeKey): one
// node's section 3 results with their value sources. It is a report.Payload.
type NodeReport struct {
	report.Header
	Node      string           `json:"node"`
	Benchmark policy.Benchmark `json:"benchmark"`
	Time      time.Time        `json:"time"`
	// NotScanned says why the node could not be scanned; its results then decide nothing, and
	// the summary counts the node as not scanned instead of merging them.
	NotScanned *NotScanned `json:"notScanned,omitempty"`
	// Counts are the results per status; they stay exact when the results are cut.
	Counts  map[policy.Status]int `json:"counts"`
	Results []Result              `json:"results"`
}

// NewNodeReport builds the report payload of a scan taken at a time (UTC, whole seconds: the
// key is rewritten on every scan and sub-second noise says nothing).
func NewNodeReport(r Report, at time.Time) NodeReport {
	return NodeReport{
		Header:     report.NewHeader(),
		Node:       r.Node,
		Benchmark:  r.Benchmark,
		Time:       at.UTC().Truncate(time.Second),
		NotScanned: r.NotScanned,
		Counts:     r.counts(),
		Results:    r.Results,
	}
}

// Summarise shrinks the payload for a small budget (many nodes share the ConfigMap): the PASS
// results go first, then the details and sources of the rest; the counts stay.
func (n NodeReport) Summarise(budget int) report.Payload {
	summary := n
	summary.Truncated = true
	summary.Results = nil
	for _, res := range n.Results {
		if res.Status != policy.StatusPass {
			summary.Results = append(summary.Results, res)
		}
	}
	if report.Fits(summary, budget) {
		return summary
	}
	cut := make([]Result, len(summary.Results))
	for i, res := range summary.Results {
		cut[i] = Result{ID: res.ID, Slug: res.Slug, Status: res.Status, Actual: res.Actual}
	}
	summary.Results = cut
	if report.Fits(summary, budget) {
		return summary
	}
	summary.Results = nil
	return summary
}
