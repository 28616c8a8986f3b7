package securityhub

import (
	"strings"

	"github.com/cisgate/cisgate/openreports"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// The catalogue holds no remediation text of its own. A finding's remediation is therefore what
// cisgate already says: for a failure its detail or its expected value (the field path and the
// required value), for the rest the check's title; its Url is the check in docs/checks.md.

// newRow fills what every row of a check carries: its ID and title in the benchmark version and
// cisgate's severity (openreports.Severity, the one table).
func newRow(cat *policy.Catalogue, e policy.Entry, r Result, res Resource, detail string) Row {
	return Row{
		ID: e.ID, Slug: e.Slug, Title: e.Title, Benchmark: cat.Benchmark(), Result: r,
		Severity: string(openreports.Severity(e)), Resource: res, Detail: detail,
	}
}

func resultOf(s policy.Status) Result {
	switch s {
	case policy.StatusPass:
		return ResultPass
	case policy.StatusFail:
		return ResultFail
	}
	return ResultWarn
}

// evidenceRemediation says what a node or cloud item needs: "<title>: expected <value>, found
// <value> (<source>)".
func evidenceRemediation(e policy.Entry, res output.EvidenceResult) string {
	if res.Status == policy.StatusPass || res.Expected == "" {
		return e.Title
	}
	s := e.Title + ": expected " + res.Expected
	if res.Actual != "" {
		s += ", found " + res.Actual
	}
	if res.Source != "" {
		s += " (" + res.Source + ")"
	}
	return s
}

// NodeScan is what NodeRows needs of one node's scan.
type NodeScan struct {
	Node string
	// UID is the Node's, and InstanceID its EC2 instance (InstanceID of its providerID); "" when
	// unknown.
	UID, InstanceID string
	// NotScanned says why the node could not be scanned (nodescan's NotScanned.String()); "" when
	// it was.
	NotScanned string
	Results    []output.EvidenceResult
}

// NodeRows are a node scan's rows: one per section 3 check on the Node. A node that could not be
// scanned has an ERROR row per section 3 check, each saying why, as its OpenReports say.
func NodeRows(cat *policy.Catalogue, scan NodeScan) []Row {
	node := Resource{Kind: "Node", Name: scan.Node, UID: scan.UID, InstanceID: scan.InstanceID}
	var rows []Row
	if scan.NotScanned != "" {
		for _, e := range cat.Entries() {
			if e.Section == policy.SectionNode {
				row := newRow(cat, e, ResultError, node, scan.NotScanned)
				row.Remediation = "Let the scan Job read the kubelet's files: " + scan.NotScanned
				rows = append(rows, row)
			}
		}
		return rows
	}
	for _, res := range scan.Results {
		e, ok := cat.Resolve(res.ID)
		if !ok {
			continue
		}
		row := newRow(cat, e, resultOf(res.Status), node, res.Detail)
		row.Remediation = evidenceRemediation(e, res)
		rows = append(rows, row)
	}
	return rows
}

// InstanceID is the EC2 instance of a Node's spec.providerID ("aws:///us-east-1a/i-0abc…"), ""
// for any other provider.
func InstanceID(providerID string) string {
	rest, ok := strings.CutPrefix(providerID, "aws://")
	if !ok {
		return ""
	}
	id := rest[strings.LastIndex(rest, "/")+1:]
	if !strings.HasPrefix(id, "i-") {
		return ""
	}
	return id
}

// CloudRows are a cloud scan's rows: one per item, on the cluster.
func CloudRows(cat *policy.Catalogue, results []output.EvidenceResult) []Row {
	var rows []Row
	for _, res := range results {
		e, ok := cat.Resolve(res.ID)
		if !ok {
			continue
		}
		row := newRow(cat, e, resultOf(res.Status), Resource{Kind: KindCluster}, res.Detail)
		row.Remediation = evidenceRemediation(e, res)
		rows = append(rows, row)
	}
	return rows
}

// AuditRows are an audit's rows: one per finding (FAIL, WARN, exempt) on its object; the findings
// of one object and check become one Security Hub finding (Publish joins them). The items the
// cloud scan decides are left out: the audit only lists them as WARN pointing to the cloud scan,
// whose findings on the cluster have the same Ids. uids are the objects' UIDs where known.
func AuditRows(cat *policy.Catalogue, findings []output.Finding, uid func(output.ObjectRef) string) []Row {
	var rows []Row
	for _, f := range findings {
		e, ok := cat.Entry(f.Slug)
		if !ok || e.Section == policy.SectionCloud {
			continue
		}
		res := Resource{Kind: f.Object.Kind, Namespace: f.Object.Namespace, Name: f.Object.Name}
		if f.Object.Kind == KindCluster {
			res = Resource{Kind: KindCluster}
		} else if uid != nil {
			res.UID = uid(f.Object)
		}
		result, detail := resultOf(f.Status), f.Detail
		if f.ExemptReason != "" {
			result, detail = ResultSkip, "exempt: "+f.ExemptReason
		}
		row := newRow(cat, e, result, res, detail)
		row.Remediation = e.Title
		if result == ResultFail || result == ResultWarn {
			row.Remediation = strings.TrimSuffix(e.Title+": "+f.Detail, ": ")
		}
		rows = append(rows, row)
	}
	return rows
}
