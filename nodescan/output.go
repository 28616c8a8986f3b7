package nodescan

import (
	"encoding/json"
	"io"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// Formats lists the output formats of `cisgate nodescan --output`.
func Formats() []output.Format {
	return []output.Format{output.FormatTable, output.FormatJSON, output.FormatJUnit}
}

// Write renders a report in a format, one of Formats.
func Write(w io.Writer, r Report, f output.Format) error {
	switch f {
	case output.FormatTable:
		return WriteTable(w, r)
	case output.FormatJSON:
		return WriteJSON(w, r)
	case output.FormatJUnit:
		return WriteJUnit(w, r)
	}
	return output.UnknownFormat(f, Formats()...)
}

// WriteJSON writes the report as nodescan JSON (docs/architecture.md, "Fixed interfaces"), indented.
func WriteJSON(w io.Writer, r Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes one aligned row per result and a count per status.
func WriteTable(w io.Writer, r Report) error {
	head := "node " + r.Node + ", benchmark " + string(r.Benchmark) + "\n\n"
	if r.NotScanned != nil {
		head += r.NotScanned.String() + "\n\n"
	}
	return output.WriteEvidenceTable(w, head, r.Results)
}

func (r Report) counts() map[policy.Status]int { return output.CountEvidence(r.Results) }

// WriteJUnit writes the report as a JUnit XML test suite named after the node: one test case
// per check, FAIL as <failure>, WARN as <skipped>.
func WriteJUnit(w io.Writer, r Report) error {
	counts := r.counts()
	suite := output.JUnitSuite{
		Name:     "cisgate nodescan " + r.Node + " (" + string(r.Benchmark) + ")",
		Tests:    len(r.Results),
		Failures: counts[policy.StatusFail],
		Skipped:  counts[policy.StatusWarn],
	}
	if r.NotScanned != nil {
		// A node nobody could read is a failure of the suite, not a row of skipped checks.
		suite.Tests++
		suite.Failures++
		suite.Cases = append(suite.Cases, output.JUnitCase{Classname: "cisgate.nodescan." + string(r.Benchmark),
			Name: "node scanned", Failure: &output.JUnitMessage{Message: r.NotScanned.String()}})
	}
	suite.Cases = append(suite.Cases, output.EvidenceJUnitCases("cisgate.nodescan."+string(r.Benchmark), r.Results)...)
	return output.WriteJUnit(w, output.JUnitSuites{Suites: []output.JUnitSuite{suite}})
}
