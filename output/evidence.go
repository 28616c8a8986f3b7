package output

import (
	"io"
	"strconv"
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

// WriteEvidenceTable writes head, then one aligned row per result and a count per status.
func WriteEvidenceTable(w io.Writer, head string, results []EvidenceResult) error {
	if _, err := io.WriteString(w, head); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if _, err := io.WriteString(tw, "ID\tSTATUS\tCHECK\tEXPECTED\tACTUAL\tSOURCE\tDETAIL\n"); err != nil {
		return err
	}
	for _, res := range results {
		row := res.ID + "\t" + string(res.Status) + "\t" + string(res.Slug) + "\t" + res.Expected + "\t" +
			res.Actual + "\t" + res.Source + "\t" + res.Detail + "\n"
		if _, err := io.WriteString(tw, row); err != nil {
			return err
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	counts := CountEvidence(results)
	_, err := io.WriteString(w, "\n"+strconv.Itoa(counts[policy.StatusPass])+" PASS, "+
		strconv.Itoa(counts[policy.StatusFail])+" FAIL, "+strconv.Itoa(counts[policy.StatusWarn])+" WARN\n")
	return err
}

// EvidenceJUnitCases is one test case per result: FAIL as <failure>, WARN as <skipped>, PASS
// with its evidence as output.
func EvidenceJUnitCases(classname string, results []EvidenceResult) []JUnitCase {
	cases := make([]JUnitCase, 0, len(results))
	for _, res := range results {
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
		cases = append(cases, c)
	}
	return cases
}
