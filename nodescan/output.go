package nodescan

import (
	"io"

	"github.com/cisgate/cisgate/output"
)

// Formats lists the output formats of `cisgate nodescan --output`.
func Formats() []output.Format { return output.Formats() }

// Write renders a report in a format, one of Formats; its JSON is the nodescan JSON
// (docs/architecture.md, "Fixed interfaces").
func Write(w io.Writer, r Report, f output.Format) error {
	doc := output.EvidenceReport{JSON: r, Tool: "nodescan", Benchmark: r.Benchmark,
		Subject: output.ObjectRef{Kind: "Node", Name: r.Node}, Results: r.Results,
		Head: "node " + r.Node + ", benchmark " + string(r.Benchmark) + "\n\n"}
	if r.NotScanned != nil {
		doc.NotScanned = r.NotScanned.String()
		doc.Head += doc.NotScanned + "\n\n"
	}
	return output.WriteEvidence(w, doc, f)
}
