package securityhub

import (
	"strings"

	"github.com/cisgate/cisgate/cloudscan"
	"github.com/cisgate/cisgate/nodescan"
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

// NodeRows are a node scan's rows: one per section 3 check on the Node. A node that could not be
// scanned has an ERROR row per section 3 check, each saying why, as its OpenReports say.
// instanceID is the Node's EC2 instance from its providerID, "" when unknown.
func NodeRows(cat *policy.Catalogue, scan nodescan.NodeReport, uid, instanceID string) []Row {
	node := Resource{Kind: "Node", Name: scan.Node, UID: uid, InstanceID: instanceID}
	var rows []Row
	if scan.NotScanned != nil {
		for _, e := range cat.Entries() {
			if e.Section == policy.SectionNode {
				row := newRow(cat, e, ResultError, node, scan.NotScanned.String())
				row.Remediation = "Mount the node's kubelet files into the scan Job: " + scan.NotScanned.String()
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

// CloudRows are a cloud scan's rows: one per item, on the cluster.
func CloudRows(cat *policy.Catalogue, scan cloudscan.Report) []Row {
	var rows []Row
	for _, res := range scan.Results {
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
