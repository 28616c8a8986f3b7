package cloudscan

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// Check is the definition of one cloud item: what it is and how it decides.
type Check struct {
	Slug policy.Slug
	// Decides is the one-line specification.
	Decides string
	// Evaluate decides the item on the evidence of a scan.
	Evaluate func(*Evidence) Outcome
}

// Outcome is what a check found.
type Outcome struct {
	Status   policy.Status
	Expected string
	Actual   string
	// Source is where the value was read, e.g. "eks:DescribeCluster cluster.logging.clusterLogging".
	Source string
	Detail string
}

// Result is an Outcome placed in a benchmark, the same row as the node scan's.
type Result = output.EvidenceResult

// AutoModeSection3 is what the report says of section 3 on an EKS Auto Mode cluster: its nodes
// allow no host access, so no node scan can run, and AWS manages the kubelet.
const AutoModeSection3 = "managed by AWS (Auto Mode)"

// Report is one cluster's cloud items under a benchmark, sorted by ID.
type Report struct {
	Benchmark policy.Benchmark `json:"benchmark"`
	Cluster   string           `json:"cluster"`
	Region    string           `json:"region"`
	// AutoMode is the cluster's computeConfig.enabled; nil when DescribeCluster failed.
	AutoMode *bool `json:"autoMode,omitempty"`
	// Section3 is AutoModeSection3 on an Auto Mode cluster, else empty: node scans decide it.
	Section3 string `json:"section3,omitempty"`
	// Errors are the failed reads, each once, sorted; the items that needed them are WARN.
	Errors []string `json:"errors"`
	// Calls are the AWS calls the scan made, by IAM action.
	Calls   map[string]int `json:"awsCalls"`
	Results []Result       `json:"results"`
}

// HasFailures reports whether any result is FAIL (cloudscan's exit code 1).
func (r Report) HasFailures() bool {
	return slices.ContainsFunc(r.Results, func(res Result) bool { return res.Status == policy.StatusFail })
}

func (r Report) counts() map[policy.Status]int { return output.CountEvidence(r.Results) }

// Publication is the scan as the report.Publisher sends it, taken at a time.
func (r Report) Publication(at time.Time) report.Scan {
	return report.Scan{Benchmark: r.Benchmark, Time: at, Results: r.Results, Cloud: &report.CloudCluster{
		Cluster: r.Cluster, Region: r.Region, AutoMode: r.AutoMode, Section3: r.Section3, Errors: r.Errors, Calls: r.Calls,
	}}
}

// checks are the cloud items of every benchmark version, added by each check's file.
var checks []*Check

func register(c *Check) { checks = append(checks, c) }

// Checks lists the definitions, sorted by slug.
func Checks() []*Check {
	out := slices.Clone(checks)
	slices.SortFunc(out, func(a, b *Check) int { return cmp.Compare(a.Slug, b.Slug) })
	return out
}

// Evaluate decides every cloud item the catalogue's benchmark carries.
func Evaluate(ev *Evidence, cat *policy.Catalogue) Report {
	r := Report{Benchmark: cat.Benchmark(), Cluster: ev.Cluster, Region: ev.Region, Errors: ev.errorStrings(), Calls: ev.Calls, Results: []Result{}}
	if ev.EKS != nil {
		auto := autoMode(ev)
		r.AutoMode = &auto
		if auto {
			r.Section3 = AutoModeSection3
		}
	}
	for _, c := range checks {
		entry, ok := cat.Entry(c.Slug)
		if !ok {
			continue
		}
		o := c.Evaluate(ev)
		r.Results = append(r.Results, Result{
			ID: entry.ID, Slug: c.Slug, Title: entry.Title, Status: o.Status,
			Expected: o.Expected, Actual: o.Actual, Source: o.Source, Detail: o.Detail,
		})
	}
	slices.SortFunc(r.Results, func(a, b Result) int { return policy.CompareIDs(a.ID, b.ID) })
	return r
}

func autoMode(ev *Evidence) bool {
	cc := ev.EKS.ComputeConfig
	return cc != nil && cc.Enabled != nil && *cc.Enabled
}

// Scan reads a cluster's evidence and evaluates the cloud items of a benchmark on it.
func Scan(ctx context.Context, t Target, b policy.Benchmark) (Report, error) {
	cat, err := policy.CatalogueFor(b)
	if err != nil {
		return Report{}, err
	}
	if err := registerMetrics(); err != nil {
		return Report{}, err
	}
	scansTotal.Inc()
	return Evaluate(Collect(ctx, t), cat), nil
}
