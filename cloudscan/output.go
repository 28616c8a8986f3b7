package cloudscan

import (
	"encoding/json"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// Formats lists the output formats of `cisgate cloudscan --output`.
func Formats() []output.Format { return output.Formats() }

// Write renders a report in a format, one of Formats.
func Write(w io.Writer, r Report, f output.Format) error {
	switch f {
	case output.FormatTable:
		return writeTable(w, r)
	case output.FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case output.FormatJUnit:
		return writeJUnit(w, r)
	case output.FormatSARIF:
		return output.Write(w, findings(r), output.FormatSARIF)
	}
	return output.UnknownFormat(f, Formats()...)
}

func writeTable(w io.Writer, r Report) error {
	head := "cluster " + r.Cluster + " (" + r.Region + "), benchmark " + string(r.Benchmark) + "\n"
	if r.Section3 != "" {
		head += "section 3: " + r.Section3 + "\n"
	}
	for _, e := range r.Errors {
		head += "error: " + e + "\n"
	}
	if _, err := io.WriteString(w, head+"\n"); err != nil {
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

// writeJUnit writes one test case per item: FAIL as <failure>, WARN as <skipped>.
func writeJUnit(w io.Writer, r Report) error {
	counts := r.counts()
	suite := output.JUnitSuite{
		Name:     "cisgate cloudscan " + r.Cluster + " (" + string(r.Benchmark) + ")",
		Tests:    len(r.Results),
		Failures: counts[policy.StatusFail],
		Skipped:  counts[policy.StatusWarn],
	}
	for _, res := range r.Results {
		evidence := "expected: " + res.Expected + "\nactual: " + res.Actual + "\nsource: " + res.Source
		c := output.JUnitCase{Classname: "cisgate.cloudscan." + string(r.Benchmark), Name: "[" + res.ID + "] " + string(res.Slug) + ": " + res.Title}
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

// findings are the FAIL and WARN results as findings on the cluster (SARIF's results): a FAIL
// is an error, as any FAIL fails the caller; the path is where the value was read.
func findings(r Report) *output.Report {
	rep := &output.Report{Benchmark: r.Benchmark, Findings: []output.Finding{}}
	cluster := output.ObjectRef{Kind: "EKSCluster", Name: r.Cluster}
	for _, res := range r.Results {
		if res.Status == policy.StatusPass {
			continue
		}
		rep.Findings = append(rep.Findings, output.Finding{
			ID: res.ID, Slug: res.Slug, Title: res.Title, Status: res.Status, Mode: policy.ModeEnforce,
			Object: cluster, Path: res.Source, Detail: res.Detail + " (actual: " + res.Actual + ")",
		})
	}
	return rep
}
