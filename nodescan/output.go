package nodescan

import (
	"encoding/json"
	"io"
	"strconv"
	"text/tabwriter"

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
	if _, err := io.WriteString(w, "node "+r.Node+", benchmark "+string(r.Benchmark)+"\n\n"); err != nil {
		return err
	}
	if r.NotScanned != nil {
		if _, err := io.WriteString(w, r.NotScanned.String()+"\n\n"); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if _, err := io.WriteString(tw, "ID\tSTATUS\tCHECK\tEXPECTED\tACTUAL\tSOURCE\tDETAIL\n"); err != nil {
		return err
	}
	for _, res := range r.Results {
		row := res.ID + "\t" + string(res.Status) + "\t" + string(res.Slug) + "\t" + res.Expected + "\t" +
			res.Actual + "\t" + res.Source + "\t" + res.Detail + "\n"
		if _, err := io.WriteString(tw, row); err != nil {
			return err
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	counts := r.counts()
	_, err := io.WriteString(w, "\n"+strconv.Itoa(counts[policy.StatusPass])+" PASS, "+
		strconv.Itoa(counts[policy.StatusFail])+" FAIL, "+strconv.Itoa(counts[policy.StatusWarn])+" WARN\n")
	return err
}

func (r Report) counts() map[policy.Status]int {
	counts := map[policy.Status]int{}
	for _, res := range r.Results {
		counts[res.Status]++
	}
	return counts
}

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
	for _, res := range r.Results {
		evidence := "expected: " + res.Expected + "\nactual: " + res.Actual + "\nsource: " + res.Source
		c := output.JUnitCase{Classname: "cisgate.nodescan." + string(r.Benchmark), Name: "[" + res.ID + "] " + string(res.Slug) + ": " + res.Title}
		switch res.Status {
		case policy.StatusFail:
			c.Failure = &output.JUnitMessage{Message: res.Detail, Text: evidence}
		case policy.StatusWarn:
			c.Skipped = &output.JUnitMessage{Message: res.Detail, Text: evidence}
		default:
			c.SystemOut = res.Detail + "\n" + evidence
		}
		suite.Cases = append(suite.Cases, c)
	}
	return output.WriteJUnit(w, output.JUnitSuites{Suites: []output.JUnitSuite{suite}})
}
