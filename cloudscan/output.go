package cloudscan

import (
	"io"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/report"
)

// Write renders a report in a format, one of output.Formats.
func Write(w io.Writer, r report.Scan, f output.Format) error {
	head := "cluster " + r.Cluster + " (" + r.Region + "), benchmark " + string(r.Benchmark) + "\n"
	if r.Section3 != "" {
		head += "section 3: " + r.Section3 + "\n"
	}
	for _, e := range r.Errors {
		head += "error: " + e + "\n"
	}
	return output.WriteEvidence(w, output.EvidenceReport{JSON: r, Tool: "cloudscan", Benchmark: r.Benchmark,
		Subject: output.ObjectRef{Kind: "EKSCluster", Name: r.Cluster}, Head: head + "\n", Results: r.Results}, f)
}
