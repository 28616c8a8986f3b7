package report

import (
	"strconv"
	"strings"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// nodeScanNote summarises a node scan in an Event note, e.g.
// "eks-2.0.0 section 3: 2 FAIL, 0 WARN, 10 PASS; details in ConfigMap cisgate-report key
// node.n1.json; FAIL [3.2.1] anonymous-auth (true, flag --anonymous-auth); ...". The sink cuts
// it to the API server's limit, so the pointer to the details comes before the list.
func nodeScanNote(scan Scan, where string) string {
	var b strings.Builder
	if n := scan.NotScanned; n != nil {
		// Nothing was decided: the counts would read as a node with WARNs.
		b.WriteString(string(scan.Benchmark) + " section 3: " + n.String())
		b.WriteString("; details in " + where)
		return b.String()
	}
	b.WriteString(string(scan.Benchmark) + " section 3: " + statusCounts(scan.Results))
	b.WriteString("; details in " + where)
	for _, res := range scan.Results {
		if res.Status == policy.StatusFail {
			b.WriteString("; FAIL [" + res.ID + "] " + string(res.Slug) + " (" + res.Actual + ", " + res.Source + ")")
		}
	}
	return b.String()
}

// cloudScanNote summarises a cloud scan in an Event note, e.g. "eks-1.8.0 cloud scan of EKS
// cluster prod (us-east-1): 2 FAIL, 1 WARN, 6 PASS; details in ConfigMap cisgate-report key
// cloud.json; FAIL [2.1.1] control-plane-logging (enabled: api); ...". The pointer to the
// details comes before the list, which the sink may cut.
func cloudScanNote(scan Scan) string {
	c := scan.CloudCluster
	var b strings.Builder
	b.WriteString(string(scan.Benchmark) + " cloud scan of EKS cluster " + c.Cluster + " (" + c.Region + "): " + statusCounts(scan.Results))
	b.WriteString("; details in ConfigMap " + ConfigMapName + " key " + CloudKey().Name)
	if c.Section3 != "" {
		b.WriteString("; section 3: " + c.Section3)
	}
	for _, res := range scan.Results {
		if res.Status == policy.StatusFail {
			b.WriteString("; FAIL [" + res.ID + "] " + string(res.Slug) + " (" + res.Actual + ")")
		}
	}
	for _, e := range c.Errors {
		b.WriteString("; error: " + e)
	}
	return b.String()
}

// statusCounts is "<n> FAIL, <n> WARN, <n> PASS", as both notes count a scan's results.
func statusCounts(results []output.EvidenceResult) string {
	counts := output.CountEvidence(results)
	return strconv.Itoa(counts[policy.StatusFail]) + " FAIL, " + strconv.Itoa(counts[policy.StatusWarn]) + " WARN, " +
		strconv.Itoa(counts[policy.StatusPass]) + " PASS"
}
