package openreports

import (
	orv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// BuildNode turns one node's scan into the node's ClusterReport, scoped to the Node and owned by
// it, so the garbage collector deletes it with the Node. A node that could not be scanned gets one
// error result per section 3 check ("the policy could not be evaluated"), each saying why.
func BuildNode(cat *policy.Catalogue, scan report.Scan, node metav1.Object) *orv1alpha1.ClusterReport {
	b := cat.Benchmark()
	r := &orv1alpha1.ClusterReport{
		TypeMeta: metav1.TypeMeta{APIVersion: orv1alpha1.GroupVersion.String(), Kind: "ClusterReport"},
		ObjectMeta: metav1.ObjectMeta{
			Name: NodeReportName(scan.Node), Labels: labels(WriterNodeScan, b),
			Annotations: map[string]string{NodeSummaryAnnotation: nodeSummary(scan)},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Node", Name: node.GetName(), UID: node.GetUID(),
				// A report never blocks the Node's deletion.
				BlockOwnerDeletion: ptr.To(false),
			}},
		},
		Source: Source,
		Scope:  &corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: node.GetName(), UID: node.GetUID()},
	}
	if !scan.Time.IsZero() {
		r.Annotations[ScannedAtAnnotation] = scannedAt(scan)
	}
	if scan.NotScanned == nil {
		r.Configuration, r.Summary, r.Results = limit(evidenceResults(cat, scan))
		return r
	}
	var results []orv1alpha1.ReportResult
	for _, e := range cat.Entries() {
		if e.Section != policy.SectionNode {
			continue
		}
		res := newResult(b, e, ResultError, scan.Time)
		res.Description = scan.NotScanned.String()
		if scan.NotScanned.Path != "" {
			res.Properties[PropertyPath] = scan.NotScanned.Path
		}
		results = append(results, res)
	}
	r.Configuration, r.Summary, r.Results = limit(results)
	return r
}
