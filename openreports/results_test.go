package openreports_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	orv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/openreports"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

func pod(ns, name string, privileged bool) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "registry.example/app:1",
			SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(privileged)},
		}}},
	}
}

// auditReports audits a fake cluster (a privileged Pod in team-a, an unprivileged one in team-b)
// with the default config and builds its reports.
func auditReports(t *testing.T) (*policy.Catalogue, openreports.AuditReports) {
	t.Helper()
	client := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-b"}},
		pod("team-a", "web", true), pod("team-b", "api", false),
	)
	pol, err := policy.DefaultConfig().Compile()
	require.NoError(t, err)
	run, err := controller.Audit(context.Background(), client, pol, 100)
	require.NoError(t, err)
	return pol.Catalogue, openreports.BuildAudit(openreports.Audit{Catalogue: pol.Catalogue, Time: run.Time, Findings: run.Report.Findings, Passes: run.Passes})
}

func find(results []orv1alpha1.ReportResult, rule string, r orv1alpha1.Result) *orv1alpha1.ReportResult {
	for i := range results {
		if results[i].Rule == rule && results[i].Result == r {
			return &results[i]
		}
	}
	return nil
}

func TestBuildAuditPerNamespace(t *testing.T) {
	cat, reports := auditReports(t)
	privileged, ok := cat.Entry("privileged")
	require.True(t, ok)
	byNS := map[string]*orv1alpha1.Report{}
	for _, r := range reports.Namespaced {
		byNS[r.Namespace] = r
		require.Equal(t, openreports.NamespaceReportName, r.Name)
		require.Equal(t, &corev1.ObjectReference{APIVersion: "v1", Kind: "Namespace", Name: r.Namespace}, r.Scope)
		require.Equal(t, "cisgate", r.Source)
		require.Equal(t, openreports.MaxResults, r.Configuration.Limits.MaxResults)
		require.Equal(t, summaryOf(r.Results), r.Summary, "the summary counts the results")
	}
	require.Contains(t, byNS, "team-a")
	require.Contains(t, byNS, "team-b")

	// privileged: true on container "app" fails the privileged check (policy/check_privileged.go).
	fail := find(byNS["team-a"].Results, privileged.ID, openreports.ResultFail)
	require.NotNil(t, fail, "team-a's report has the privileged Pod's failure")
	require.Equal(t, []corev1.ObjectReference{{APIVersion: "v1", Kind: "Pod", Namespace: "team-a", Name: "web"}}, fail.Subjects)
	require.Equal(t, "cisgate", fail.Source)
	require.Equal(t, "cis-"+string(cat.Benchmark()), fail.Policy)
	require.Equal(t, orv1alpha1.ResultSeverity("high"), fail.Severity)
	require.True(t, fail.Scored)
	require.Equal(t, privileged.ID[:3]+" Pod Security Standards", fail.Category)
	require.Equal(t, "privileged", fail.Properties[openreports.PropertySlug])
	require.Equal(t, "audit", fail.Properties[openreports.PropertyMode])
	require.Contains(t, fail.Properties[openreports.PropertyPath], "securityContext.privileged")
	require.Contains(t, fail.Description, "privileged")
	require.Nil(t, find(byNS["team-a"].Results, privileged.ID, openreports.ResultPass), "no object in team-a passes privileged")

	pass := find(byNS["team-b"].Results, privileged.ID, openreports.ResultPass)
	require.NotNil(t, pass, "team-b's unprivileged Pod passes")
	require.Equal(t, "1", pass.Properties[openreports.PropertyObjects])
	require.Empty(t, pass.Subjects, "a pass result stands for the namespace's passing objects")
	require.Nil(t, find(byNS["team-b"].Results, privileged.ID, openreports.ResultFail))
}

func TestBuildAuditCluster(t *testing.T) {
	cat, reports := auditReports(t)
	c := reports.Cluster
	require.NotNil(t, c)
	require.Equal(t, openreports.ClusterReportName, c.Name)
	require.Equal(t, summaryOf(c.Results), c.Summary)
	manual := 0
	for _, e := range cat.Entries() {
		if e.Section != policy.SectionManual {
			continue
		}
		manual++
		r := find(c.Results, e.ID, openreports.ResultWarn)
		require.NotNil(t, r, "manual item %s is listed as a warning on the cluster", e.ID)
		// cisgate cannot decide these, yet the benchmark scores those it assesses Automated
		// (eks-2.0.0's 5.2.1, kube-bench cfg/eks-2.0.0/managedservices.yaml).
		require.Equal(t, e.Assessment == policy.Automated, r.Scored, "%s is scored as %s assesses it", e.ID, cat.Benchmark())
		require.Equal(t, orv1alpha1.ResultSeverity("low"), r.Severity)
		require.Empty(t, r.Subjects, "a manual item is about the cluster, the report's scope")
	}
	require.Positive(t, manual)
}

func summaryOf(results []orv1alpha1.ReportResult) orv1alpha1.ReportSummary {
	var s orv1alpha1.ReportSummary
	for _, r := range results {
		switch r.Result {
		case openreports.ResultPass:
			s.Pass++
		case openreports.ResultFail:
			s.Fail++
		case openreports.ResultWarn:
			s.Warn++
		case openreports.ResultSkip:
			s.Skip++
		case openreports.ResultError:
			s.Error++
		}
	}
	return s
}

func TestBuildNode(t *testing.T) {
	cat, err := policy.CatalogueFor(policy.EKS180)
	require.NoError(t, err)
	anon, _ := cat.Entry("anonymous-auth")
	qps, _ := cat.Entry("event-qps")
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "ip-10-0-0-1", UID: "u-1"}}
	scan := report.Scan{Benchmark: policy.EKS180, Node: node.Name, Time: time.Unix(1700000000, 0), Results: []output.EvidenceResult{
		{ID: anon.ID, Slug: anon.Slug, Status: policy.StatusFail, Expected: "false", Actual: "true", Source: "flag --anonymous-auth", Detail: "anonymous requests are served"},
		{ID: qps.ID, Slug: qps.Slug, Status: policy.StatusPass, Expected: ">= 0", Actual: "50", Source: "default", Detail: "eventRecordQPS is 50"},
	}}
	r := openreports.BuildNode(cat, scan, node)
	require.Equal(t, "cisgate-node-ip-10-0-0-1", r.Name)
	require.Equal(t, &corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: "u-1"}, r.Scope)
	require.Len(t, r.OwnerReferences, 1)
	require.Equal(t, metav1.OwnerReference{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: "u-1", BlockOwnerDeletion: ptr.To(false)}, r.OwnerReferences[0])
	require.Equal(t, orv1alpha1.ReportSummary{Pass: 1, Fail: 1}, r.Summary)
	fail := find(r.Results, anon.ID, openreports.ResultFail)
	require.NotNil(t, fail)
	require.Equal(t, "3.2 Kubelet", fail.Category)
	require.Equal(t, orv1alpha1.ResultSeverity("high"), fail.Severity)
	require.Equal(t, "flag --anonymous-auth", fail.Properties[openreports.PropertySource])
	require.Equal(t, "true", fail.Properties[openreports.PropertyActual])
	require.Equal(t, int64(1700000000), fail.Timestamp.Seconds)
	var digest openreports.NodeSummary
	require.NoError(t, json.Unmarshal([]byte(r.Annotations[openreports.NodeSummaryAnnotation]), &digest))
	require.Equal(t, openreports.NodeSummary{Node: node.Name, Benchmark: policy.EKS180, Pass: []string{qps.ID}, Fail: []string{anon.ID}}, digest,
		"the metadata alone tells summary.json the node's results")

	scan.NotScanned = &report.NotScanned{Reason: "no kubelet process", Hint: "mount /proc"}
	r = openreports.BuildNode(cat, scan, node)
	nodeChecks := 0
	for _, e := range cat.Entries() {
		if e.Section == policy.SectionNode {
			nodeChecks++
		}
	}
	require.Equal(t, orv1alpha1.ReportSummary{Error: nodeChecks}, r.Summary, "a node not scanned decides nothing: every section 3 check is an error")
	require.Contains(t, r.Results[0].Description, "no kubelet process")
}

// TestSeverityAndCategoryTables keeps the tables in step with the catalogue: every check of every
// benchmark version has a named section, and the high-severity checks exist.
func TestSeverityAndCategoryTables(t *testing.T) {
	high := map[policy.Slug]bool{}
	for _, b := range policy.Benchmarks() {
		cat, err := policy.CatalogueFor(b)
		require.NoError(t, err)
		for _, e := range cat.Entries() {
			c := openreports.Category(b, e)
			if e.ID == policy.NamespaceModeLabelID {
				require.Equal(t, "cisgate", c)
				continue
			}
			require.Contains(t, c, " ", "%s %s has no section title", b, e.ID)
			if openreports.Severity(e) == "high" {
				high[e.Slug] = true
			}
		}
	}
	require.Len(t, high, 10, "every slug of the high-severity table (openreports.Severity) is a check of some version")
}

// TestCategoryAndScoredOfAKeptCheck: eks-2.0.0 does not number namespace-network-policy (4.3.2 of
// eks-1.8.0; cfg/eks-2.0.0/policies.yaml's 4.3.2 is a manual review item); a config that keeps it
// reports it under its slug, in no section of 2.0.0 and unscored. Under eks-1.8.0 it is 4.3.2 in
// "4.3 CNI Plugin" and scored, as 1.8.0 assesses it Automated (kube-bench cfg/eks-1.8.0/policies.yaml).
func TestCategoryAndScoredOfAKeptCheck(t *testing.T) {
	cfg := policy.DefaultConfig()
	require.Equal(t, policy.EKS200, cfg.Benchmark)
	cfg.Checks = map[string]policy.Mode{"namespace-network-policy": policy.ModeAudit}
	pol, err := cfg.Compile()
	require.NoError(t, err)
	kept, ok := pol.Catalogue.Entry("namespace-network-policy")
	require.True(t, ok)
	require.Equal(t, "namespace-network-policy", kept.ID)
	require.Equal(t, "not numbered by eks-2.0.0", openreports.Category(policy.EKS200, kept))
	require.False(t, openreports.Scored(kept))

	v18, err := policy.CatalogueFor(policy.EKS180)
	require.NoError(t, err)
	numbered, ok := v18.Entry("namespace-network-policy")
	require.True(t, ok)
	require.Equal(t, "4.3.2", numbered.ID)
	require.Equal(t, "4.3 CNI Plugin", openreports.Category(policy.EKS180, numbered))
	require.Equal(t, numbered.Assessment == policy.Automated, openreports.Scored(numbered))
}

// TestScoredIsTheAssessment: an item is scored when the version assesses it Automated, whichever
// part of cisgate decides it (both are object checks); eks-2.0.0 assesses 4.1.1 (cluster-admin) Manual and 4.1.5
// (default service account) Automated (kube-bench cfg/eks-2.0.0/policies.yaml).
func TestScoredIsTheAssessment(t *testing.T) {
	cat, err := policy.CatalogueFor(policy.EKS200)
	require.NoError(t, err)
	for _, c := range []struct {
		id     string
		scored bool
	}{{"4.1.1", false}, {"4.1.5", true}} {
		e, ok := cat.Resolve(c.id)
		require.True(t, ok, c.id)
		require.Equal(t, c.scored, openreports.Scored(e), c.id)
	}
}

// TestChartCRDsAreTheModules: the chart installs reports-api's own CRDs, byte for byte, of the
// version go.mod requires.
func TestChartCRDsAreTheModules(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/openreports/reports-api").Output()
	require.NoError(t, err)
	dir := strings.TrimSpace(string(out))
	for _, name := range []string{"openreports.io_reports.yaml", "openreports.io_clusterreports.yaml"} {
		want, err := os.ReadFile(filepath.Join(dir, "config", "crd", name))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join("..", "charts", "cisgate", "files", "openreports", name))
		require.NoError(t, err, "run: cp %s charts/cisgate/files/openreports/", filepath.Join(dir, "config", "crd", name))
		require.Equal(t, string(want), string(got), "charts/cisgate/files/openreports/%s differs from reports-api's", name)
	}
}
