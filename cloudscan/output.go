package cloudscan

import (
	"encoding/json"
	"io"

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
	return output.WriteEvidenceTable(w, head+"\n", r.Results)
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
	suite.Cases = append(suite.Cases, output.EvidenceJUnitCases("cisgate.cloudscan."+string(r.Benchmark), r.Results)...)
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
