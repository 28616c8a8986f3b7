package openreports

import (
	orv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// BuildCloud turns one cloud scan into its ClusterReport, CloudReportName: one result per item
// decided through the AWS API, about the cluster (the report's scope, so no subjects), with the
// value read and where from. An item AWS did not answer is a WARN in the scan and a warning here.
func BuildCloud(cat *policy.Catalogue, scan report.Scan) *orv1alpha1.ClusterReport {
	b := cat.Benchmark()
	r := &orv1alpha1.ClusterReport{
		TypeMeta:   metav1.TypeMeta{APIVersion: orv1alpha1.GroupVersion.String(), Kind: "ClusterReport"},
		ObjectMeta: metav1.ObjectMeta{Name: CloudReportName, Labels: labels(WriterCloudScan, b)},
		Source:     Source,
	}
	results := evidenceResults(cat, scan)
	r.Configuration, r.Summary, r.Results = limit(results)
	return r
}

// evidenceResults are a scan's rows as results, with the value read and where from; a row of an
// ID the catalogue does not know is left out.
func evidenceResults(cat *policy.Catalogue, scan report.Scan) []orv1alpha1.ReportResult {
	var results []orv1alpha1.ReportResult
	for _, s := range scan.Results {
		e, ok := cat.Resolve(s.ID)
		if !ok {
			continue
		}
		res := newResult(cat.Benchmark(), e, resultOf(s.Status, false), scan.Time)
		res.Description = s.Detail
		for k, v := range map[string]string{PropertySource: s.Source, PropertyExpected: s.Expected, PropertyActual: s.Actual} {
			if v != "" {
				res.Properties[k] = v
			}
		}
		results = append(results, res)
	}
	return results
}
