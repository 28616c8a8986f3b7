package nodescan

import (
	"io"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/report"
)

// Write renders a report in a format, one of output.Formats; its JSON is the nodescan JSON
// (docs/architecture.md, "Fixed interfaces").
func Write(w io.Writer, r report.Scan, f output.Format) error {
	doc := output.EvidenceReport{JSON: r, Tool: "nodescan", Benchmark: r.Benchmark,
		Subject: output.ObjectRef{Kind: "Node", Name: r.Node}, Results: r.Results,
		Head: "node " + r.Node + ", benchmark " + string(r.Benchmark) + "\n\n"}
	if r.NotScanned != nil {
		doc.NotScanned = r.NotScanned.String()
		doc.Head += doc.NotScanned + "\n\n"
	}
	return output.WriteEvidence(w, doc, f)
}
