package report

import (
	"time"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// NodeReport is the content of the report ConfigMap key node.<node>.json (NodeKey): one node's
// section 3 results with their value sources. It is a Payload.
type NodeReport struct {
	Header
	Node      string           `json:"node"`
	Benchmark policy.Benchmark `json:"benchmark"`
	Time      time.Time        `json:"time"`
	// NotScanned says why the node could not be scanned; its results then decide nothing, and
	// the summary counts the node as not scanned instead of merging them.
	NotScanned *NotScanned `json:"notScanned,omitempty"`
	// Counts are the results per status; they stay exact when the results are cut.
	Counts  map[policy.Status]int   `json:"counts"`
	Results []output.EvidenceResult `json:"results"`
}

// NotScanned says why a scan could not decide section 3 on a node: the kubelet was not found,
// or a file its command line names (config file, drop-in directory, kubeconfig) could not be
// read. A scan that reads nothing must not look like a node with WARNs (it would pass review).
type NotScanned struct {
	// Reason is what went wrong, with the node path.
	Reason string `json:"reason"`
	// Path is the node path the scan could not reach; empty when no single path is to blame
	// (no kubelet process, unit or known layout).
	Path string `json:"path,omitempty"`
	// Hint says what to change, e.g. which host path to mount.
	Hint string `json:"hint,omitempty"`
}

// String is the one-line form of Events and the table output.
func (n NotScanned) String() string {
	s := "not scanned: " + n.Reason
	if n.Hint != "" {
		s += "; " + n.Hint
	}
	return s
}

// NewNodeReport builds the payload of a node scan (UTC, whole seconds: the key is rewritten on
// every scan and sub-second noise says nothing).
func NewNodeReport(s Scan) NodeReport {
	return NodeReport{
		Header:     NewHeader(),
		Node:       s.Node,
		Benchmark:  s.Benchmark,
		Time:       s.Time.UTC().Truncate(time.Second),
		NotScanned: s.NotScanned,
		Counts:     output.CountEvidence(s.Results),
		Results:    s.Results,
	}
}

// Summarise shrinks the payload for a small budget (many nodes share the ConfigMap): the PASS
// results go first, then the details and sources of the rest; the counts stay.
func (n NodeReport) Summarise(budget int) Payload {
	summary := n
	summary.Truncated = true
	summary.Results = nil
	for _, res := range n.Results {
		if res.Status != policy.StatusPass {
			summary.Results = append(summary.Results, res)
		}
	}
	if Fits(summary, budget) {
		return summary
	}
	cut := make([]output.EvidenceResult, len(summary.Results))
	for i, res := range summary.Results {
		cut[i] = output.EvidenceResult{ID: res.ID, Slug: res.Slug, Status: res.Status, Actual: res.Actual}
	}
	summary.Results = cut
	if Fits(summary, budget) {
		return summary
	}
	summary.Results = nil
	return summary
}
