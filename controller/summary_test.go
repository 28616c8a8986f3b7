package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/cisgate/cisgate/cloudscan"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

func runAuditor(t *testing.T, client *fake.Clientset, config string) {
	t.Helper()
	pol := mustPolicy(t, config)
	require.NoError(t, NewAuditor(client, cisgateNamespace, func() *policy.Policy { return pol }, nil, NewAuditOptions()).RunOnce(t.Context()))
}

func TestAuditJSONListsFailingObjectsPerCheck(t *testing.T) {
	client := fake.NewClientset(namespace("shop", nil), pod("shop", "solo", privileged(podSpec("app"))), wildcardRole("shop", "admin"))
	runAuditor(t, client, "mode: audit")

	got, _ := reportKey[report.AuditReport](t, client, report.AuditKey())
	assert.Equal(t, report.SchemaVersion, got.SchemaVersion)
	assert.False(t, got.Truncated)
	assert.Equal(t, policy.EKS180, got.Benchmark)
	assert.Equal(t, 3, got.Checked, "the Pod, the Role and the Namespace")
	require.Contains(t, got.Checks, "4.2.1")
	assert.Equal(t, &report.FailingObjects{Slug: "privileged", Total: 1, Objects: []report.FailingObject{{
		Kind: "Pod", Namespace: "shop", Name: "solo", Path: "spec.containers[0].securityContext.privileged",
		Detail: `container "app" must not set securityContext.privileged=true`,
	}}}, got.Checks["4.2.1"])
	assert.Equal(t, []report.FailingObject{{Kind: "Namespace", Name: "shop", Detail: `namespace "shop" has no NetworkPolicy; add one (at least a default deny) to every namespace`}}, got.Checks["4.3.2"].Objects)
	assert.Equal(t, 1, got.Checks["4.1.3"].Total)
	assert.NotContains(t, got.Checks, "4.1.7", "manual items are WARN, not failing objects")
}

func TestAuditJSONIsSummarisedWithinItsBudget(t *testing.T) {
	const roles = 5000
	objs := []runtime.Object{namespace("team", nil)}
	for i := range roles {
		objs = append(objs, wildcardRole("team", fmt.Sprintf("wildcard-role-%05d", i)))
	}
	client := fake.NewClientset(objs...)
	runAuditor(t, client, "mode: audit")

	got, size := reportKey[report.AuditReport](t, client, report.AuditKey())
	assert.LessOrEqual(t, size, report.AuditShare)
	assert.True(t, got.Truncated)
	assert.Equal(t, roles+1, got.Checked)
	for _, id := range []string{"4.1.2", "4.1.3", "4.1.4", "4.1.8"} {
		require.Contains(t, got.Checks, id)
		assert.Equal(t, roles, got.Checks[id].Total, "%s keeps its true total", id)
		assert.NotEmpty(t, got.Checks[id].Objects)
		assert.Less(t, len(got.Checks[id].Objects), roles)
		assert.Empty(t, got.Checks[id].Objects[0].Detail, "details go before objects do")
	}
	assert.Equal(t, 1, got.Checks["4.3.2"].Total)
	assert.Len(t, got.Checks["4.3.2"].Objects, 1, "a short list is cut no shorter than the common cap")
}

// putAdmission adds a replica's admission.<replica>.json to the report ConfigMap's data.
func putAdmission(t *testing.T, data map[string]string, replica string, benchmark policy.Benchmark, checks map[string]*report.CheckCounts) {
	t.Helper()
	payload, err := json.Marshal(&report.AdmissionReport{Header: report.NewHeader(), Replica: replica, Benchmark: benchmark, Checks: checks})
	require.NoError(t, err)
	data[report.AdmissionKey(replica).Name] = string(payload)
}

// putNode adds a node's node.<node>.json, as the node scan writes it within a budget.
func putNode(t *testing.T, data map[string]string, node string, results []output.EvidenceResult, budget int) report.NodeReport {
	t.Helper()
	payload, err := report.MarshalWithin(report.NewNodeReport(report.Scan{Benchmark: policy.EKS180, Node: node, Results: results}), budget)
	require.NoError(t, err)
	data[report.NodeKey(node).Name] = string(payload)
	var written report.NodeReport
	require.NoError(t, json.Unmarshal(payload, &written))
	return written
}

// nodeResults are a node's section 3 results of eks-1.8.0, one per catalogue item, all PASS but
// the ones given (each of which must be a section 3 ID).
func nodeResults(t *testing.T, statuses map[string]policy.Status) []output.EvidenceResult {
	t.Helper()
	cat, err := policy.CatalogueFor(policy.EKS180)
	require.NoError(t, err)
	var out []output.EvidenceResult
	given := 0
	for _, e := range cat.Entries() {
		if e.Section != policy.SectionNode {
			continue
		}
		status, ok := statuses[e.ID]
		if ok {
			given++
		} else {
			status = policy.StatusPass
		}
		out = append(out, output.EvidenceResult{ID: e.ID, Slug: e.Slug, Title: e.Title, Status: status,
			Expected: "x", Actual: "y", Source: "kubelet config file /etc/kubernetes/kubelet/config.json", Detail: "a detail long enough to matter"})
	}
	require.Equal(t, len(statuses), given, "every given ID is a section 3 item of eks-1.8.0")
	return out
}

func TestSummaryMergesAdmissionAuditAndNodeKeys(t *testing.T) {
	data := map[string]string{"unrelated": "kept as is"}
	putAdmission(t, data, "a", policy.EKS180, map[string]*report.CheckCounts{"4.2.1": {Slug: "privileged", Deny: 3, Warn: 1}, "4.1.3": {Slug: "rbac-wildcards", Exempt: 2}})
	putAdmission(t, data, "b", policy.EKS180, map[string]*report.CheckCounts{"4.2.1": {Slug: "privileged", Deny: 1, Warn: 4, Exempt: 1}})
	// A replica still on another benchmark: its IDs mean other checks.
	putAdmission(t, data, "old", policy.EKS120, map[string]*report.CheckCounts{"4.2.1": {Slug: "privileged", Deny: 100}})
	full := putNode(t, data, "node-1", nodeResults(t, map[string]policy.Status{"3.2.4": policy.StatusFail}), report.NodeShare)
	require.False(t, full.Truncated)
	// Summarised down to its non-PASS results: the rest passed.
	cut := putNode(t, data, "node-2", nodeResults(t, map[string]policy.Status{"3.2.4": policy.StatusFail, "3.1.1": policy.StatusWarn}), 1000)
	require.True(t, cut.Truncated)
	require.Len(t, cut.Results, 2, "the fixture keeps node-2's non-PASS results")
	// Summarised to bare counts: which check failed is lost.
	bare := putNode(t, data, "node-3", nodeResults(t, map[string]policy.Status{"3.2.1": policy.StatusFail}), 220)
	require.Empty(t, bare.Results, "the fixture cuts node-3 to its counts")

	client := fake.NewClientset(namespace("shop", nil), pod("shop", "solo", privileged(podSpec("app"))), pod("shop", "ok", podSpec("app")),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: cisgateNamespace, Name: report.ConfigMapName}, Data: data})
	runAuditor(t, client, "mode: audit")

	got, size := reportKey[Summary](t, client, report.SummaryKey())
	assert.LessOrEqual(t, size, report.SummaryShare)
	assert.Equal(t, report.SchemaVersion, got.SchemaVersion)
	assert.Equal(t, policy.EKS180, got.Benchmark)
	assert.WithinDuration(t, time.Now(), got.Time, time.Minute)
	assert.Equal(t, map[Source]*SourceKeys{
		SourceAdmission: {Merged: 2, Skipped: 1},
		SourceAudit:     {Merged: 1},
		SourceNode:      {Merged: 2, Skipped: 1},
		SourceCloud:     {},
	}, got.Sources)
	assert.Equal(t, &CheckSummary{
		Slug:      "privileged",
		Admission: &Counts{Deny: 4, Warn: 5, Exempt: 1},
		Audit:     &Counts{Pass: 1, Fail: 1},
	}, got.Checks["4.2.1"])
	assert.Equal(t, &Counts{Exempt: 2}, got.Checks["4.1.3"].Admission)
	assert.Equal(t, 4, got.Denials, "the eks-1.8.0 replicas' denials")
	assert.Empty(t, got.NotScanned)
	assert.Equal(t, &CheckSummary{Slug: "read-only-port", Node: &Counts{Fail: 2}}, got.Checks["3.2.4"])
	assert.Equal(t, &Counts{Pass: 1, Warn: 1}, got.Checks["3.1.1"].Node)
	assert.Equal(t, &Counts{Pass: 2}, got.Checks["3.2.1"].Node, "node-3's FAIL cannot be placed")
	assert.Equal(t, &Counts{Fail: 1}, got.Checks["4.3.2"].Audit)
	assert.Equal(t, &Counts{Warn: 1}, got.Checks["4.1.7"].Audit, "a manual item")

	cm, err := client.CoreV1().ConfigMaps(cisgateNamespace).Get(t.Context(), report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "kept as is", cm.Data["unrelated"], "the leader writes only its own keys")
	assert.Contains(t, cm.Data, report.AdmissionKey("a").Name)
}

func TestSummaryReleasesTheKeysOfGoneReplicas(t *testing.T) {
	livePod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: cisgateNamespace, Name: "cisgate-live"}}
	client := fake.NewClientset(livePod)
	apply := func(replica string, updated time.Time) {
		payload, err := json.Marshal(&report.AdmissionReport{Header: report.NewHeader(), Replica: replica, Benchmark: policy.EKS180,
			Updated: updated, Checks: map[string]*report.CheckCounts{"4.2.1": {Slug: "privileged", Deny: 1}}})
		require.NoError(t, err)
		require.NoError(t, report.ApplyKey(t.Context(), client, cisgateNamespace, report.AdmissionKey(replica), payload))
	}
	apply("cisgate-gone", time.Now().Add(-2*goneReplicaAge))
	apply("cisgate-live", time.Now().Add(-2*goneReplicaAge)) // idle, but its Pod runs
	apply("cisgate-just-gone", time.Now())                   // gone, but within the grace period

	pol := mustPolicy(t, "mode: audit")
	require.NoError(t, NewAuditor(client, cisgateNamespace, func() *policy.Policy { return pol }, nil, NewAuditOptions()).RefreshSummary(t.Context()))

	cm, err := client.CoreV1().ConfigMaps(cisgateNamespace).Get(t.Context(), report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.NotContains(t, cm.Data, report.AdmissionKey("cisgate-gone").Name, "released: its Pod is gone and it is stale")
	assert.Contains(t, cm.Data, report.AdmissionKey("cisgate-live").Name)
	assert.Contains(t, cm.Data, report.AdmissionKey("cisgate-just-gone").Name)

	var summary Summary
	require.NoError(t, json.Unmarshal([]byte(cm.Data[report.SummaryKey().Name]), &summary))
	assert.Equal(t, 2, summary.Sources[SourceAdmission].Merged, "the released key is not counted")
}

// TestSummaryCountsUnscannedNodesApart: a node the scan could not read is listed with why, and its
// WARN results are not merged into the node counts, where they would read as a scanned node.
func TestSummaryCountsUnscannedNodesApart(t *testing.T) {
	data := map[string]string{}
	putNode(t, data, "node-1", nodeResults(t, nil), report.NodeShare)
	unread := report.NotScanned{Reason: "cannot read the kubelet configuration: open /opt/k.yaml: no such file or directory",
		Path: "/opt/k.yaml", Hint: "mount /opt into the scan (Helm value nodeScan.extraHostPaths)"}
	payload, err := report.MarshalWithin(report.NewNodeReport(report.Scan{Benchmark: policy.EKS180, Node: "node-2", NotScanned: &unread,
		Results: nodeResults(t, map[string]policy.Status{"3.2.1": policy.StatusWarn, "3.2.4": policy.StatusWarn})}), report.NodeShare)
	require.NoError(t, err)
	data[report.NodeKey("node-2").Name] = string(payload)
	client := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: cisgateNamespace, Name: report.ConfigMapName}, Data: data})
	runAuditor(t, client, "mode: audit")

	got, _ := reportKey[Summary](t, client, report.SummaryKey())
	assert.Equal(t, []NotScannedNode{{Node: "node-2", NotScanned: unread}}, got.NotScanned)
	assert.Equal(t, 1, got.NotScannedTotal)
	assert.Equal(t, &Counts{Pass: 1}, got.Checks["3.2.1"].Node, "only node-1 was scanned")
	assert.Equal(t, &Counts{Pass: 1}, got.Checks["3.2.4"].Node)
}

// TestSummaryCapsTheNodesNotScanned: summary.json lists the first MaxNotScannedListed nodes not
// scanned, by name, and counts them all: its size follows the catalogue, not the node count.
func TestSummaryCapsTheNodesNotScanned(t *testing.T) {
	data := map[string]string{}
	unread := report.NotScanned{Reason: "no kubelet process, unit or known layout"}
	total := MaxNotScannedListed + 7
	for i := range total {
		node := fmt.Sprintf("node-%03d", total-i) // written in reverse: the list comes out sorted
		payload, err := report.MarshalWithin(report.NewNodeReport(report.Scan{Benchmark: policy.EKS180, Node: node, NotScanned: &unread}),
			report.SplitBudget(report.NodeShare, total))
		require.NoError(t, err)
		data[report.NodeKey(node).Name] = string(payload)
	}
	client := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: cisgateNamespace, Name: report.ConfigMapName}, Data: data})
	runAuditor(t, client, "mode: audit")

	got, _ := reportKey[Summary](t, client, report.SummaryKey())
	assert.Equal(t, total, got.NotScannedTotal)
	require.Len(t, got.NotScanned, MaxNotScannedListed)
	assert.Equal(t, "node-001", got.NotScanned[0].Node)
	assert.Equal(t, fmt.Sprintf("node-%03d", MaxNotScannedListed), got.NotScanned[MaxNotScannedListed-1].Node)
}

// TestSummaryFollowsTheReportKeys: with both intervals far off, a replica's new denial still reaches
// summary.json: the leader refreshes it when a writer's key changes.
func TestSummaryFollowsTheReportKeys(t *testing.T) {
	client := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: cisgateNamespace, Name: report.ConfigMapName}})
	pol := mustPolicy(t, "mode: enforce")
	opts := NewAuditOptions()
	opts.Interval, opts.SummaryInterval = time.Hour, time.Hour
	auditor := NewAuditor(client, cisgateNamespace, func() *policy.Policy { return pol }, nil, opts)
	auditor.refreshGap = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- auditor.Start(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })

	denials := func() int {
		cm, err := client.CoreV1().ConfigMaps(cisgateNamespace).Get(t.Context(), report.ConfigMapName, metav1.GetOptions{})
		require.NoError(t, err)
		var s Summary
		if data, ok := cm.Data[report.SummaryKey().Name]; !ok || json.Unmarshal([]byte(data), &s) != nil {
			return -1
		}
		return s.Denials
	}
	// The first audit writes the first summary, before any denial.
	require.Eventually(t, func() bool { return denials() == 0 }, 10*time.Second, 10*time.Millisecond)
	n := 0
	// The fake API server does not replay changes between the informer's list and its watch: the
	// replica writes again (as it does every few seconds) until the summary has its count.
	require.Eventually(t, func() bool {
		n++
		data := map[string]string{}
		putAdmission(t, data, "a", policy.EKS180, map[string]*report.CheckCounts{"4.2.1": {Slug: "privileged", Deny: n}})
		key := report.AdmissionKey("a")
		require.NoError(t, report.ApplyKey(t.Context(), client, cisgateNamespace, key, []byte(data[key.Name])))
		return denials() > 0
	}, 10*time.Second, 50*time.Millisecond)
}

// TestSummaryRefreshesAtMostOncePerGap: every node scan and replica changes its key or report, and
// at 5,000 nodes the summary rewritten for each change was a ConfigMap GET and PATCH per change
// (BENCHMARKS.md, issue 27). Changes within a gap make one write at its end, read from the watch's
// copy of the ConfigMap, not with a GET.
func TestSummaryRefreshesAtMostOncePerGap(t *testing.T) {
	client := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: cisgateNamespace, Name: report.ConfigMapName}})
	pol := mustPolicy(t, "mode: enforce")
	opts := NewAuditOptions()
	opts.Interval, opts.SummaryInterval = time.Hour, time.Hour
	auditor := NewAuditor(client, cisgateNamespace, func() *policy.Policy { return pol }, nil, opts)
	auditor.refreshGap = time.Second
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- auditor.Start(ctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })

	summaryWrites := func() (writes, gets int) {
		for _, a := range client.Actions() {
			if a.GetResource().Resource != "configmaps" {
				continue
			}
			switch p := a.(type) {
			case k8stesting.PatchAction:
				if strings.Contains(string(p.GetPatch()), report.SummaryKey().Name) {
					writes++
				}
			case k8stesting.GetAction:
				gets++
			}
		}
		return writes, gets
	}
	require.Eventually(t, func() bool { w, _ := summaryWrites(); return w == 1 }, 10*time.Second, 10*time.Millisecond, "the first audit's summary")
	// The watch has the ConfigMap (the summary's own write) before the changes start.
	require.Eventually(t, func() bool { return auditor.reportConfigMap.Load() != nil }, 10*time.Second, 10*time.Millisecond)
	start := time.Now()
	for i := range 20 {
		data := map[string]string{}
		putAdmission(t, data, "a", policy.EKS180, map[string]*report.CheckCounts{"4.2.1": {Slug: "privileged", Deny: i + 1}})
		key := report.AdmissionKey("a")
		require.NoError(t, report.ApplyKey(t.Context(), client, cisgateNamespace, key, []byte(data[key.Name])))
		time.Sleep(20 * time.Millisecond)
	}
	// 20 changes in under a gap and a half: at most two summaries (one at the first change if the
	// gap since the audit's had passed, one at the gap's end), and at least one with the count.
	require.Eventually(t, func() bool { w, _ := summaryWrites(); return w >= 2 }, 10*time.Second, 10*time.Millisecond)
	time.Sleep(2*time.Second - time.Since(start) + auditor.refreshGap)
	writes, gets := summaryWrites()
	elapsed := time.Since(start)
	assert.LessOrEqual(t, writes-1, int(elapsed/auditor.refreshGap)+1, "summaries after the audit's, in %v", elapsed)
	assert.LessOrEqual(t, gets, 1, "the ConfigMap is read from the watch, at most one GET before it has it")
}

// #9 item 1: a label "off" silences nothing and is listed in audit.json as cisgate.1 WARN; a
// label "audit" under an enforce config is a downgrade that summary.json lists.
func TestNamespaceModeLabelsInAuditAndSummary(t *testing.T) {
	client := fake.NewClientset(
		namespace("shop", map[string]string{policy.NamespaceModeLabel: "off"}),
		namespace("legacy", map[string]string{policy.NamespaceModeLabel: "audit"}),
		namespace("secure", map[string]string{policy.NamespaceModeLabel: "enforce"}),
		pod("shop", "priv", privileged(podSpec("app"))),
	)
	runAuditor(t, client, "mode: enforce\nchecks: {\"4.2.2\": audit}")

	audit, _ := reportKey[report.AuditReport](t, client, report.AuditKey())
	require.Contains(t, audit.Checks, "4.2.1", `the label "off" silences nothing`)
	assert.Equal(t, []report.FailingObject{{Kind: "Pod", Namespace: "shop", Name: "priv",
		Path: "spec.containers[0].securityContext.privileged", Detail: `container "app" must not set securityContext.privileged=true`}}, audit.Checks["4.2.1"].Objects)
	require.Contains(t, audit.Checks, policy.NamespaceModeLabelID)
	assert.Equal(t, []report.FailingObject{{Kind: "Namespace", Name: "shop", Path: "metadata.labels",
		Detail: `label cisgate.io/mode="off" is ignored: only "enforce" or "audit" are accepted, and the configured modes apply in namespace "shop"; exemptions belong in the cisgate config`}},
		audit.Checks[policy.NamespaceModeLabelID].Objects)

	summary, _ := reportKey[Summary](t, client, report.SummaryKey())
	require.Len(t, summary.NamespaceModeDowngrades, 1, "only legacy lowers a mode")
	d := summary.NamespaceModeDowngrades[0]
	assert.Equal(t, "legacy", d.Namespace)
	assert.Equal(t, policy.ModeAudit, d.Label)
	assert.Contains(t, d.Checks, "4.2.1")
	assert.NotContains(t, d.Checks, "4.2.2", "configured audit already")
	assert.Equal(t, &Counts{Pass: 2, Warn: 1}, summary.Checks[policy.NamespaceModeLabelID].Audit)
}

func TestSummaryMergesTheCloudScanBySlug(t *testing.T) {
	// The cloud scan ran under eks-1.7.0; the summary files its results by slug under the IDs of
	// the config's benchmark.
	scanned := report.Scan{Benchmark: policy.EKS170, CloudCluster: &report.CloudCluster{Cluster: "prod", Region: "us-east-1", Section3: cloudscan.AutoModeSection3}, Results: []output.EvidenceResult{
		{ID: "4.1.7", Slug: "access-manager", Status: policy.StatusFail},
		{ID: "4.3.1", Slug: "cni-network-policy", Status: policy.StatusWarn},
	}}
	payload, err := report.MarshalWithin(report.NewCloudReport(scanned), report.CloudShare)
	require.NoError(t, err)
	client := fake.NewClientset(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: cisgateNamespace, Name: report.ConfigMapName},
		Data: map[string]string{report.CloudKey().Name: string(payload)}})
	runAuditor(t, client, "mode: audit")

	got, _ := reportKey[Summary](t, client, report.SummaryKey())
	assert.Equal(t, &SourceKeys{Merged: 1}, got.Sources[SourceCloud])
	assert.Equal(t, cloudscan.AutoModeSection3, got.Section3)
	cat, err := policy.CatalogueFor(got.Benchmark)
	require.NoError(t, err)
	for slug, want := range map[policy.Slug]Counts{"access-manager": {Fail: 1}, "cni-network-policy": {Warn: 1}} {
		e, ok := cat.Entry(slug)
		require.True(t, ok, slug)
		require.NotNil(t, got.Checks[e.ID], slug)
		assert.Equal(t, &want, got.Checks[e.ID].Cloud, slug)
	}
}
