package nodescan

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/cisgate/cisgate/policy"
)

// Format is an output format of `cisgate nodescan --output`.
type Format string

const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatJUnit Format = "junit"
)

// Formats lists the supported output formats.
func Formats() []Format { return []Format{FormatTable, FormatJSON, FormatJUnit} }

// Write renders a report in a format.
func Write(w io.Writer, r Report, f Format) error {
	switch f {
	case FormatTable:
		return WriteTable(w, r)
	case FormatJSON:
		return WriteJSON(w, r)
	case FormatJUnit:
		return WriteJUnit(w, r)
	}
	return fmt.Errorf("unknown output format %q (supported: %v)", f, Formats())
}

// WriteJSON writes the report as DESIGN.md's nodescan JSON, indented.
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

// JUnit XML: one test case per check, FAIL as <failure>, WARN as <skipped>.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as a JUnit XML test suite named after the node.
func WriteJUnit(w io.Writer, r Report) error {
	counts := r.counts()
	suite := junitSuite{
		Name:     "cisgate nodescan " + r.Node + " (" + string(r.Benchmark) + ")",
		Tests:    len(r.Results),
		Failures: counts[policy.StatusFail],
		Skipped:  counts[policy.StatusWarn],
	}
	for _, res := range r.Results {
		evidence := "expected: " + res.Expected + "\nactual: " + res.Actual + "\nsource: " + res.Source
		c := junitCase{ClassName: "cisgate.nodescan." + string(r.Benchmark), Name: "[" + res.ID + "] " + string(res.Slug) + ": " + res.Title}
		switch res.Status {
		case policy.StatusFail:
			c.Failure = &junitMessage{Message: res.Detail, Text: evidence}
		case policy.StatusWarn:
			c.Skipped = &junitMessage{Message: res.Detail, Text: evidence}
		default:
			c.SystemOut = res.Detail + "\n" + evidence
		}
		suite.Cases = append(suite.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{suite}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
