package output

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/cisgate/cisgate/policy"
)

// EvidenceResult is one item decided on evidence read from outside any object: a kubelet's
// effective configuration (the node scan) or the AWS API (the cloud scan). Its JSON is a contract
// (docs/architecture.md, "Fixed interfaces").
type EvidenceResult struct {
	ID       string        `json:"id"`
	Slug     policy.Slug   `json:"slug"`
	Title    string        `json:"title"`
	Status   policy.Status `json:"status"`
	Expected string        `json:"expected"`
	Actual   string        `json:"actual"`
	Source   string        `json:"source"`
	Detail   string        `json:"detail"`
}

// CountEvidence counts results by status.
func CountEvidence(results []EvidenceResult) map[policy.Status]int {
	counts := map[policy.Status]int{}
	for _, res := range results {
		counts[res.Status]++
	}
	return counts
}

// EvidenceReport is a scan's results as `cisgate nodescan` and `cisgate cloudscan` print them,
// in every format.
type EvidenceReport struct {
	// JSON is what FormatJSON encodes: the scanner's own report, a fixed interface.
	JSON any
	// Tool is the command, e.g. "nodescan": the JUnit suite and class names carry it.
	Tool      string
	Benchmark policy.Benchmark
	// Subject is what was scanned (the Node, the EKS cluster): the JUnit suite's name and every
	// SARIF result's object.
	Subject ObjectRef
	// Head is the table's heading: what was scanned and what the scan could not say by item.
	Head string
	// NotScanned, when set, says why nothing could be decided: a failing JUnit case of its own.
	NotScanned string
	Results    []EvidenceResult
}

// WriteEvidence renders a scan's report in a format, one of Formats.
func WriteEvidence(w io.Writer, r EvidenceReport, f Format) error {
	switch f {
	case FormatTable:
		return writeEvidenceTable(w, r)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r.JSON)
	case FormatJUnit:
		return writeEvidenceJUnit(w, r)
	case FormatSARIF:
		return writeSARIF(w, evidenceFindings(r))
	}
	return UnknownFormat(f, Formats()...)
}

// writeEvidenceTable writes the head, then one aligned row per result and a count per status.
func writeEvidenceTable(w io.Writer, r EvidenceReport) error {
	if _, err := io.WriteString(w, r.Head); err != nil {
		return err
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
	counts := CountEvidence(r.Results)
	_, err := io.WriteString(w, "\n"+strconv.Itoa(counts[policy.StatusPass])+" PASS, "+
		strconv.Itoa(counts[policy.StatusFail])+" FAIL, "+strconv.Itoa(counts[policy.StatusWarn])+" WARN\n")
	return err
}

// writeEvidenceJUnit writes one test suite named after the subject, one test case per result:
// FAIL as <failure>, WARN as <skipped>, PASS with its evidence as output. A subject that could not
// be scanned is a failure of the suite, not a row of skipped checks.
func writeEvidenceJUnit(w io.Writer, r EvidenceReport) error {
	counts := CountEvidence(r.Results)
	classname := "cisgate." + r.Tool + "." + string(r.Benchmark)
	suite := JUnitSuite{
		Name:     "cisgate " + r.Tool + " " + r.Subject.Name + " (" + string(r.Benchmark) + ")",
		Tests:    len(r.Results),
		Failures: counts[policy.StatusFail],
		Skipped:  counts[policy.StatusWarn],
	}
	if r.NotScanned != "" {
		suite.Tests++
		suite.Failures++
		suite.Cases = append(suite.Cases, JUnitCase{Classname: classname,
			Name: strings.ToLower(r.Subject.Kind) + " scanned", Failure: &JUnitMessage{Message: r.NotScanned}})
	}
	for _, res := range r.Results {
		evidence := "expected: " + res.Expected + "\nactual: " + res.Actual + "\nsource: " + res.Source
		c := JUnitCase{Classname: classname, Name: "[" + res.ID + "] " + string(res.Slug) + ": " + res.Title}
		switch res.Status {
		case policy.StatusFail:
			c.Failure = &JUnitMessage{Message: res.Detail, Text: evidence}
		case policy.StatusWarn:
			c.Skipped = &JUnitMessage{Message: res.Detail, Text: evidence}
		default:
			c.SystemOut = res.Detail + "\n" + evidence
		}
		suite.Cases = append(suite.Cases, c)
	}
	return WriteJUnit(w, JUnitSuites{Suites: []JUnitSuite{suite}})
}

// evidenceFindings are the FAIL and WARN results as findings on the subject (SARIF's results): a
// FAIL is an error, as any FAIL fails the caller; the path is where the value was read.
func evidenceFindings(r EvidenceReport) *Report {
	rep := &Report{Benchmark: r.Benchmark, Findings: []Finding{}}
	for _, res := range r.Results {
		if res.Status == policy.StatusPass {
			continue
		}
		rep.Findings = append(rep.Findings, Finding{
			ID: res.ID, Slug: res.Slug, Title: res.Title, Status: res.Status, Mode: policy.ModeEnforce,
			Object: r.Subject, Path: res.Source, Detail: res.Detail + " (actual: " + res.Actual + ")",
		})
	}
	return rep
}
