package scale

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/metadata"

	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/nodescan/nodescantest"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

// Budget run's size: small enough for `make test` (about a minute on two cores), large enough that
// a cost per node scan shows as tens of requests over the bounds below.
const (
	budgetNodes      = 60
	budgetNamespaces = 10
	budgetObjects    = 100
	// budgetAuditInterval gives the first leader several audit passes over unchanged objects.
	budgetAuditInterval = 8 * time.Second
)

// TestRequestBudget runs `cisgate serve` (OpenReports, node scans) on envtest's kube-apiserver
// with budgetNodes Ready Nodes (no kwok: nothing here marks a Node NotReady) and counts the
// leader's requests through the proxy. It fails when a request per node scan or per audit pass
// appears beyond what the design needs (issue 27: one ServiceAccount GET per Job, and a ConfigMap
// GET and PATCH per node report, grew with the fleet), and when a new leader rescans nodes its
// predecessor scanned within the interval. Counts, not timings: each bound is derived below.
func TestRequestBudget(t *testing.T) {
	if _, err := framework.AssetsDir(); errors.Is(err, framework.ErrNoAssets) {
		t.Skip(err) // before the CRDs' lookup, as StartT would
	}
	crds, err := framework.OpenReportsCRDDir()
	require.NoError(t, err)
	env := framework.StartT(t, framework.Options{CRDPaths: []string{crds}, StartTimeout: 2 * time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs := env.Clientset

	createReadyNodes(t, ctx, env, budgetNodes)
	createObjects(t, ctx, env, budgetNamespaces, budgetObjects)
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cisgateNamespace}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cs.CoreV1().ServiceAccounts(cisgateNamespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "cisgate-nodescan"}}, metav1.CreateOptions{})
	require.NoError(t, err)

	scanProxy, _ := countingProxy(t, env.Config)
	host := nodescantest.CopyHost(t, filepath.Join("..", "testdata", "nodes", "al2"), nil)
	runJobs(t, ctx, env, kubeconfigFor(t, scanProxy), host, 8)
	meta, err := metadata.NewForConfig(env.Config)
	require.NoError(t, err)

	// The interval is long against the run: every node is scanned once by the first leader, and
	// the second finds every node scanned within it.
	flags := []string{"--audit-interval", budgetAuditInterval.String(), "--summary-interval", "1m",
		"--nodescan-interval", "1h", "--nodescan-parallelism", "8", "--nodescan-job-qps", "20"}

	// The first leader: every node scanned, then a few more audit passes.
	firstProxy, firstCounts := countingProxy(t, env.Config)
	firstCtx, stopFirst := context.WithCancel(ctx)
	served := startServe(t, firstCtx, kubeconfigFor(t, firstProxy), flags...)
	begin := time.Now()
	framework.WaitFor(t, 3*time.Minute, "every node's ClusterReport", func() error {
		n, err := countNodeReports(ctx, meta)
		if err == nil && n < budgetNodes {
			err = fmt.Errorf("%d of %d node reports", n, budgetNodes)
		}
		return err
	})
	time.Sleep(3 * budgetAuditInterval)
	stopFirst()
	elapsed := time.Since(begin)
	require.Equal(t, 0, <-served, "the first leader failed")
	first := firstCounts.snapshot()
	t.Logf("first leader, %v: %v", elapsed.Round(time.Second), first)

	// The audit lists every checked kind once per pass (one page: fewer objects than a page);
	// Deployments only the audit reads, so their GETs count the passes.
	passes := first["GET deployments"]
	require.GreaterOrEqual(t, passes, int64(3), "audit passes")
	scans := first["POST jobs"]

	// Per node scan: one Job create, and each node once within the interval.
	assert.Equal(t, int64(budgetNodes), scans, "one Job POST per node, each node once")
	// The Jobs' owner comes from a one-object informer (its initial list is a GET), the rest
	// are the audit's list of ServiceAccounts, one per pass: none per scan.
	assert.LessOrEqual(t, first["GET serviceaccounts"], passes+1, "ServiceAccount GETs: the audit's and the informer's list, none per scan")
	// The report ConfigMap: the scheduler reads it once (the node keys of a previous leader),
	// the summary once before its watch has it, and the watch lists it: none per scan or summary.
	assert.LessOrEqual(t, first["GET configmaps"], int64(4), "ConfigMap GETs: none per scan or per summary")
	// summary.json: one write per audit pass, per --summary-interval, and at most one per
	// controller.SummaryRefreshGap for all the node reports and keys that changed: bounded by the time,
	// never by the scans (without the gap, about one per node report).
	summaryBound := passes + int64(elapsed/time.Minute) + int64(elapsed/controller.SummaryRefreshGap) + 2
	assert.LessOrEqual(t, first["PATCH configmaps (cisgate-summary)"], summaryBound, "summary.json writes")
	assert.Less(t, summaryBound, scans, "the bound is below one write per scan, or it would not tell")
	// Per audit pass over unchanged objects: no report write. Each namespace's Report is
	// written once; only cisgate's own namespace changes between passes (the scan Jobs come and
	// go and are checked objects), at most once a pass; the cluster's ClusterReport once.
	namespaceReports := int64(budgetNamespaces + len(systemNamespaces(t, ctx, env)))
	assert.LessOrEqual(t, first["PATCH reports (cisgate)"], namespaceReports+passes, "namespace Report writes")
	assert.LessOrEqual(t, first["PATCH clusterreports (cisgate)"], int64(1), "cluster report writes")

	// A new leader (a helm upgrade): every node was scanned within the interval, by its
	// ClusterReport's scan time; it creates no Job.
	secondProxy, secondCounts := countingProxy(t, env.Config)
	secondCtx, stopSecond := context.WithCancel(ctx)
	served = startServe(t, secondCtx, kubeconfigFor(t, secondProxy), flags...)
	framework.WaitFor(t, time.Minute, "the new leader's first audit pass", func() error {
		if secondCounts.snapshot()["PATCH configmaps (cisgate-audit)"] == 0 {
			return fmt.Errorf("no audit.json yet")
		}
		return nil
	})
	// The scheduler has read the reports and gone through every node by now (before the audit's
	// pass ended); a Job create would come within the burst.
	time.Sleep(5 * time.Second)
	stopSecond()
	require.Equal(t, 0, <-served, "the second leader failed")
	second := secondCounts.snapshot()
	t.Logf("second leader: %v", second)
	assert.Zero(t, second["POST jobs"], "a new leader rescans no node scanned within the interval")
	// The scan times are one list (fewer reports than a page), besides the summary's metadata
	// informer's list and the audit writer's list of its own reports once a pass.
	assert.LessOrEqual(t, second["GET clusterreports"], second["GET deployments"]+2, "ClusterReport lists of the new leader")
}

// createReadyNodes creates n Nodes and marks them Ready, as a kubelet would; envtest runs no node
// lifecycle controller, so they stay Ready.
func createReadyNodes(t *testing.T, ctx context.Context, env *framework.Env, n int) {
	t.Helper()
	parallel(t, n, 16, func(i int) error {
		node, err := env.Clientset.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:   fmt.Sprintf("node-%04d", i),
			Labels: map[string]string{corev1.LabelOSStable: "linux"},
		}}, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now(), Reason: "KubeletReady"}}
		_, err = env.Clientset.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
		return err
	})
}

// systemNamespaces are the namespaces the API server made (default, kube-system...), which the
// audit reports on too.
func systemNamespaces(t *testing.T, ctx context.Context, env *framework.Env) []string {
	t.Helper()
	list, err := env.Clientset.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	var out []string
	for _, ns := range list.Items {
		if len(ns.Name) < 5 || ns.Name[:5] != "team-" {
			out = append(out, ns.Name)
		}
	}
	return out
}
