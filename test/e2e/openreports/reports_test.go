package openreports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	orv1alpha1 "github.com/openreports/reports-api/apis/openreports.io/v1alpha1"
	"github.com/openreports/reports-api/pkg/client/clientset/versioned"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/nodescan/nodescantest"
	"github.com/cisgate/cisgate/openreports"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/test/e2e/fixtures"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

const cisgateNamespace = "cisgate-system"

func reader(t *testing.T) versioned.Interface {
	t.Helper()
	c, err := versioned.NewForConfig(env.Config)
	require.NoError(t, err)
	return c
}

// keptConfig is the default benchmark (eks-2.0.0) with the NetworkPolicy check kept by slug, as
// docs/install.md's upgrade note shows: v2.0.0 does not number namespace-network-policy (its 4.3.2
// is a manual review item, kube-bench cfg/eks-2.0.0/policies.yaml), so it reports under its slug.
func keptConfig(t *testing.T) *policy.Policy {
	t.Helper()
	cfg := policy.DefaultConfig()
	cfg.Checks = map[string]policy.Mode{"namespace-network-policy": policy.ModeEnforce}
	pol, err := cfg.Compile()
	require.NoError(t, err)
	return pol
}

func newAuditor(t *testing.T) *controller.Auditor {
	t.Helper()
	_, err := env.Clientset.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cisgateNamespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	pol := keptConfig(t)
	a := controller.NewAuditor(env.Clientset, cisgateNamespace, func() *policy.Policy { return pol }, nil, controller.NewAuditOptions())
	typed, err := versioned.NewForConfig(env.Config)
	require.NoError(t, err)
	meta, err := metadata.NewForConfig(env.Config)
	require.NoError(t, err)
	opts := openreports.NewOptions()
	opts.QPS, opts.Burst = 100, 100
	w, err := openreports.NewWriter(typed, meta, openreports.WriterAudit, *opts)
	require.NoError(t, err)
	a.WriteOpenReports(w)
	return a
}

// auditJSON is what cisgate's own reader sees: audit.json of the report ConfigMap.
func auditJSON(t *testing.T) report.AuditReport {
	t.Helper()
	cm, err := env.Clientset.CoreV1().ConfigMaps(cisgateNamespace).Get(context.Background(), report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	var r report.AuditReport
	require.NoError(t, json.Unmarshal([]byte(cm.Data[report.AuditKey().Name]), &r))
	require.False(t, r.Truncated, "the test needs every failing object listed")
	return r
}

// failing is "ID Kind namespace/name" for each failing object.
func failing(results []orv1alpha1.ReportResult) map[string]bool {
	out := map[string]bool{}
	for _, r := range results {
		if r.Result != openreports.ResultFail || len(r.Subjects) == 0 {
			continue
		}
		s := r.Subjects[0]
		out[r.Rule+" "+s.Kind+" "+s.Namespace+"/"+s.Name] = true
	}
	return out
}

func workload(ns, name string, spec corev1.PodSpec) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
}

// TestAuditReports: after an audit, the Reports and the ClusterReport list as failing exactly the
// objects audit.json lists; a second audit of the same cluster writes nothing; a fix reaches the
// report at the next audit; a report cisgate no longer wants is deleted.
func TestAuditReports(t *testing.T) {
	framework.Require(t, env)
	ctx := context.Background()
	cs := env.Clientset
	bad := env.Namespace(t, "team-a")
	good := env.Namespace(t, "team-b")
	privileged := fixtures.HardenedPodSpec()
	privileged.Containers[0].SecurityContext.Privileged = ptr.To(true)
	privileged.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil // the API server refuses it false beside privileged
	_, err := cs.CoreV1().Pods(bad).Create(ctx, workload(bad, "web", privileged), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cs.CoreV1().Pods(good).Create(ctx, workload(good, "api", fixtures.HardenedPodSpec()), metav1.CreateOptions{})
	require.NoError(t, err)

	auditor := newAuditor(t)
	require.NoError(t, auditor.RunOnce(ctx))
	or := reader(t)

	// Held to audit.json: the same failing objects, check by check, cluster-wide.
	want := map[string]bool{}
	aj := auditJSON(t)
	for _, bucket := range []map[string]*report.FailingObjects{aj.Checks, aj.Platform} {
		for id, c := range bucket {
			if c.Slug == "namespace-mode-label" {
				continue // a WARN, listed in audit.json with the failures
			}
			for _, o := range c.Objects {
				want[id+" "+o.Kind+" "+o.Namespace+"/"+o.Name] = true
			}
		}
	}
	got := map[string]bool{}
	reports, err := or.OpenreportsV1alpha1().Reports(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, r := range reports.Items {
		for k := range failing(r.Results) {
			got[k] = true
		}
	}
	cluster, err := or.OpenreportsV1alpha1().ClusterReports().Get(ctx, openreports.ClusterReportName, metav1.GetOptions{})
	require.NoError(t, err)
	for k := range failing(cluster.Results) {
		got[k] = true
	}
	assert.Equal(t, want, got, "the OpenReports fail exactly the objects audit.json lists")

	// The namespaces' own reports, as Policy Reporter shows them per namespace.
	pol := keptConfig(t)
	priv, _ := pol.Catalogue.Entry("privileged")
	netpol, _ := pol.Catalogue.Entry("namespace-network-policy")
	require.Equal(t, "namespace-network-policy", netpol.ID, "a check eks-2.0.0 does not number reports under its slug")
	teamA, err := or.OpenreportsV1alpha1().Reports(bad).Get(ctx, openreports.NamespaceReportName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "cisgate", teamA.Source)
	assert.Equal(t, &corev1.ObjectReference{APIVersion: "v1", Kind: "Namespace", Name: bad}, teamA.Scope)
	assert.True(t, failing(teamA.Results)[priv.ID+" Pod "+bad+"/web"], "team-a: the privileged Pod fails %s", priv.ID)
	// No NetworkPolicy in either namespace: the kept check fails on the Namespace, in its own
	// report, in no section of eks-2.0.0.
	assert.True(t, failing(teamA.Results)[netpol.ID+" Namespace /"+bad])
	for _, r := range teamA.Results {
		if r.Rule == netpol.ID {
			assert.Equal(t, "not numbered by "+string(pol.Catalogue.Benchmark()), r.Category)
			assert.False(t, r.Scored, "a check the benchmark does not number is not scored")
		}
	}
	teamB, err := or.OpenreportsV1alpha1().Reports(good).Get(ctx, openreports.NamespaceReportName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.False(t, failing(teamB.Results)[priv.ID+" Pod "+good+"/api"])
	assert.Equal(t, summarise(teamA.Results), teamA.Summary)
	assert.Positive(t, teamB.Summary.Pass)

	// Nothing changed: no report is written again.
	versions := map[string]string{}
	for _, r := range reports.Items {
		versions[r.Namespace+"/"+r.Name] = r.ResourceVersion
	}
	versions["/"+cluster.Name] = cluster.ResourceVersion
	require.NoError(t, auditor.RunOnce(ctx))
	again, err := or.OpenreportsV1alpha1().Reports(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	for _, r := range again.Items {
		assert.Equal(t, versions[r.Namespace+"/"+r.Name], r.ResourceVersion, "%s/%s was written again with the same content", r.Namespace, r.Name)
	}
	c2, err := or.OpenreportsV1alpha1().ClusterReports().Get(ctx, openreports.ClusterReportName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, cluster.ResourceVersion, c2.ResourceVersion)
	assert.Equal(t, []metav1.ManagedFieldsEntry{}[:0], nonCisgateManagers(c2.ManagedFields), "cisgate's field manager alone wrote it")

	// The fix: the privileged Pod is replaced by a hardened one; a report of cisgate's that is
	// no longer wanted is deleted.
	require.NoError(t, cs.CoreV1().Pods(bad).Delete(ctx, "web", metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}))
	stale := teamA.DeepCopy()
	stale.ObjectMeta = metav1.ObjectMeta{Name: "cisgate-audit-old", Namespace: bad, Labels: teamA.Labels}
	_, err = or.OpenreportsV1alpha1().Reports(bad).Create(ctx, stale, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, auditor.RunOnce(ctx))
	teamA, err = or.OpenreportsV1alpha1().Reports(bad).Get(ctx, openreports.NamespaceReportName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.False(t, failing(teamA.Results)[priv.ID+" Pod "+bad+"/web"], "the fix reached the report")
	_, err = or.OpenreportsV1alpha1().Reports(bad).Get(ctx, "cisgate-audit-old", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "the stale report is deleted: %v", err)

	// A namespace being deleted (envtest has no namespace controller: it stays Terminating with
	// its objects) gets no new report, and the audit does not fail for it.
	leaving := env.Namespace(t, "leaving")
	_, err = cs.CoreV1().Pods(leaving).Create(ctx, workload(leaving, "web", privileged), metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, cs.CoreV1().Namespaces().Delete(ctx, leaving, metav1.DeleteOptions{}))
	require.NoError(t, auditor.RunOnce(ctx), "a namespace on its way out is no failure")
	_, err = or.OpenreportsV1alpha1().Reports(leaving).Get(ctx, openreports.NamespaceReportName, metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "no report is created in a terminating namespace: %v", err)
}

func nonCisgateManagers(entries []metav1.ManagedFieldsEntry) []metav1.ManagedFieldsEntry {
	out := []metav1.ManagedFieldsEntry{}
	for _, e := range entries {
		if e.Manager != openreports.FieldManager || e.Operation != metav1.ManagedFieldsOperationApply {
			out = append(out, e)
		}
	}
	return out
}

func summarise(results []orv1alpha1.ReportResult) orv1alpha1.ReportSummary {
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

// TestNodeScanClusterReport runs `cisgate nodescan --report --openreports` as the scan Job does,
// on a fixture host whose kubelet flags break most of section 3, and reads the node's ClusterReport:
// scoped to and owned by the Node, failing exactly the checks the command printed as FAIL; a
// second scan with the same results moves only the report's scan time.
func TestNodeScanClusterReport(t *testing.T) {
	framework.Require(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ns := env.Namespace(t, "cisgate")
	node, err := env.Clientset.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "ip-10-0-1-17.ec2.internal"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = env.Clientset.CoreV1().Nodes().Delete(context.Background(), node.Name, metav1.DeleteOptions{})
	})
	host := nodescantest.CopyHost(t, filepath.Join("..", "..", "testdata", "nodes", "flags-only-insecure"), nil)
	scan := func() []byte {
		var stdout, stderr bytes.Buffer
		code := app.Run(ctx, []string{"nodescan", "--host-root", host, "--node-name", node.Name,
			"--report", "--openreports", "--kubeconfig", env.KubeConfig, "--namespace", ns, "-o", "json"},
			app.IOStreams{Out: &stdout, ErrOut: &stderr})
		require.Equal(t, app.ExitFindings, code, "stderr: %s", stderr.String())
		return stdout.Bytes()
	}
	var printed struct {
		Results []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Source string `json:"source"`
		} `json:"results"`
	}
	require.NoError(t, json.Unmarshal(scan(), &printed))

	or := reader(t)
	r, err := or.OpenreportsV1alpha1().ClusterReports().Get(ctx, openreports.NodeReportName(node.Name), metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, &corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}, r.Scope)
	require.Len(t, r.OwnerReferences, 1)
	assert.Equal(t, node.UID, r.OwnerReferences[0].UID, "the garbage collector deletes the report with its Node")
	wantFail, gotFail := map[string]string{}, map[string]string{}
	for _, p := range printed.Results {
		if p.Status == string(policy.StatusFail) {
			wantFail[p.ID] = p.Source
		}
	}
	for _, res := range r.Results {
		assert.Equal(t, "3.2 Kubelet"[:2], res.Category[:2], "section 3")
		if res.Result == openreports.ResultFail {
			gotFail[res.Rule] = res.Properties[openreports.PropertySource]
		}
	}
	assert.NotEmpty(t, wantFail)
	assert.Equal(t, wantFail, gotFail, "the report fails the checks the scan printed as FAIL, with their value sources")
	assert.Equal(t, len(printed.Results), len(r.Results))

	// A second scan with the same results, in a later second than the first: only its scan time
	// moves (what a new leader resumes from), by a metadata patch; the results are not written
	// again (a custom resource's generation counts changes outside its metadata).
	first, err := time.Parse(time.RFC3339, r.Annotations[openreports.ScannedAtAnnotation])
	require.NoError(t, err, "the scan time annotation")
	time.Sleep(time.Until(first.Add(time.Second)))
	scan()
	again, err := or.OpenreportsV1alpha1().ClusterReports().Get(ctx, r.Name, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, r.Generation, again.Generation, "an unchanged scan does not write its results again")
	assert.Equal(t, r.Annotations[openreports.ContentHashAnnotation], again.Annotations[openreports.ContentHashAnnotation])
	second, err := time.Parse(time.RFC3339, again.Annotations[openreports.ScannedAtAnnotation])
	require.NoError(t, err)
	assert.True(t, second.After(first), "the scan time moves: %v, then %v", first, second)

	// The node's results are not in the report ConfigMap, and its Event points to the report.
	cm, err := env.Clientset.CoreV1().ConfigMaps(ns).Get(ctx, report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.NotContains(t, cm.Data, report.NodeKey(node.Name).Name)
	events, err := env.Clientset.EventsV1().Events(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	pointed := false
	for _, e := range events.Items {
		if e.Regarding.Name == node.Name && e.Reason == string(report.ReasonNodeScan) {
			pointed = strings.Contains(e.Note, "details in ClusterReport "+r.Name)
		}
	}
	assert.True(t, pointed, "the CISNodeScan Event names the ClusterReport")

	// The leader's summary.json counts the node from its ClusterReport's metadata.
	pol, err := policy.DefaultConfig().Compile()
	require.NoError(t, err)
	meta, err := metadata.NewForConfig(env.Config)
	require.NoError(t, err)
	auditor := controller.NewAuditor(env.Clientset, ns, func() *policy.Policy { return pol }, nil, controller.NewAuditOptions())
	auditor.ReadNodeReports(openreports.NewNodeReports(meta))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- auditor.Start(runCtx) }()
	defer func() { stop(); <-done }()
	framework.WaitFor(t, 30*time.Second, "summary.json to count the node", func() error {
		cm, err := env.Clientset.CoreV1().ConfigMaps(ns).Get(ctx, report.ConfigMapName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		var summary controller.Summary
		if err := json.Unmarshal([]byte(cm.Data[report.SummaryKey().Name]), &summary); err != nil {
			return err
		}
		for id := range wantFail {
			c := summary.Checks[id]
			if c == nil || c.Node == nil || c.Node.Fail < 1 {
				return fmt.Errorf("%s: no node failure counted: %+v", id, c)
			}
		}
		return nil
	})
}
