package nodescan

import (
	"time"

	"github.com/cisgate/cisgate/policy"
)

// NodeReportSchemaVersion is the version of the node.<node>.json key's content.
const NodeReportSchemaVersion = 1

// NodeReport is the content of the report ConfigMap key node.<node>.json: one node's section 3
// results with their value sources.
type NodeReport struct {
	SchemaVersion int              `json:"schemaVersion"`
	Node          string           `json:"node"`
	Benchmark     policy.Benchmark `json:"benchmark"`
	Time          time.Time        `json:"time"`
	Results       []Result         `json:"results"`
}

// NewNodeReport builds the report payload of a scan taken at a time (UTC, whole seconds, so
// that rewriting an unchanged result does not churn on sub-second noise).
func NewNodeReport(r Report, at time.Time) NodeReport {
	return NodeReport{
		SchemaVersion: NodeReportSchemaVersion,
		Node:          r.Node,
		Benchmark:     r.Benchmark,
		Time:          at.UTC().Truncate(time.Second),
		Results:       r.Results,
	}
}

// NodeReportKey is the report ConfigMap key of a node's scan.
func NodeReportKey(node string) string { return "node." + node + ".json" }
