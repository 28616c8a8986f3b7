// Package scale is the harness that runs cisgate against a real kube-apiserver with thousands of
// nodes simulated by kwok (sigs.k8s.io/kwok, the kwok binary built from the module proxy):
// namespaces full of checked objects, the node-scan scheduler creating one Job per node at its
// parallelism, each Job's scan run in-process through `cisgate nodescan --report --openreports` on
// a fixture host root, and the audit writing its OpenReports. It measures cisgate's request rate
// to the API server (through a counting proxy), the test process's peak heap (cisgate's leader,
// the scans and the harness together) and the report ConfigMap's size, and checks that every node
// and namespace got its report and that the ConfigMap stayed bounded.
//
// It runs only when CISGATE_SCALE_NODES is set (see the Makefile's scale target):
//
//	CISGATE_SCALE_NODES=1000 KWOK=bin/kwok KUBEBUILDER_ASSETS=... go test -timeout 3h -run TestScale -v ./test/scale/
//
// Knobs: CISGATE_SCALE_NAMESPACES (default 2000), CISGATE_SCALE_OBJECTS (total checked objects,
// default 50000), CISGATE_SCALE_DURATION (how long cisgate runs, default 1h), CISGATE_SCALE_JOB_QPS
// (--nodescan-job-qps, default the nodes over half the duration), CISGATE_SCALE_OUT (a JSON file
// for the figures).
package scale

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/openreports/reports-api/pkg/client/clientset/versioned"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
	"github.com/cisgate/cisgate/internal/testcerts"
	"github.com/cisgate/cisgate/nodescan/nodescantest"
	"github.com/cisgate/cisgate/openreports"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/test/e2e/fixtures"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

const cisgateNamespace = "cisgate-system"

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	require.NoError(t, err, name)
	return n
}

// Figures are what one run measured.
type Figures struct {
	Nodes, Namespaces, Objects int
	Duration                   string
	// Requests are cisgate serve's requests to the API server, by verb and resource, and
	// RequestsPerSecond their rate over the run; ScanRequests are the scans' own.
	Requests          map[string]int64
	RequestsPerSecond float64
	ScanRequests      int64
	// PeakHeapBytes is the test process's largest in-use heap, sampled every 5s.
	PeakHeapBytes uint64
	// NodeReports and NamespaceReports are the OpenReports found at the end.
	NodeReports, NamespaceReports int
	// ConfigMapBytes and SummaryBytes are the report ConfigMap's data and summary.json's size.
	ConfigMapBytes, SummaryBytes int
	// AllNodesScannedAfter is how long it took until every node had its ClusterReport.
	AllNodesScannedAfter string
}

func TestScale(t *testing.T) {
	nodes := envInt(t, "CISGATE_SCALE_NODES", 0)
	if nodes == 0 {
		t.Skip("set CISGATE_SCALE_NODES (and KWOK) to run the scale harness")
	}
	kwok := os.Getenv("KWOK")
	if kwok == "" {
		t.Skip("set KWOK to the kwok binary (make scale-tools)")
	}
	namespaces := envInt(t, "CISGATE_SCALE_NAMESPACES", 2000)
	objects := envInt(t, "CISGATE_SCALE_OBJECTS", 50000)
	duration := time.Hour
	if d := os.Getenv("CISGATE_SCALE_DURATION"); d != "" {
		var err error
		duration, err = time.ParseDuration(d)
		require.NoError(t, err)
	}

	crds, err := framework.OpenReportsCRDDir()
	require.NoError(t, err)
	env := framework.StartT(t, framework.Options{CRDPaths: []string{crds}, StartTimeout: 2 * time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs := env.Clientset

	// kwok keeps the simulated nodes Ready and their leases renewed, with its own stages (the
	// module's kustomize/stage files, of the version the binary was built from).
	stages := kwokStages(t, kwok)
	kwokCmd := exec.CommandContext(ctx, kwok, "--kubeconfig", env.KubeConfig, "--manage-all-nodes=true",
		"--server-address", "127.0.0.1:0", "--node-lease-duration-seconds", "40",
		"--config", filepath.Join(stages, "node", "fast", "node-initialize.yaml"),
		"--config", filepath.Join(stages, "node", "heartbeat-with-lease", "node-heartbeat-with-lease.yaml"))
	kwokLog, err := os.CreateTemp("", "cisgate-scale-kwok-*.log")
	require.NoError(t, err)
	t.Logf("kwok logs to %s", kwokLog.Name())
	kwokCmd.Stdout, kwokCmd.Stderr = kwokLog, kwokLog
	require.NoError(t, kwokCmd.Start())
	t.Cleanup(func() { cancel(); _ = kwokCmd.Wait() })

	start := time.Now()
	createNodes(t, ctx, env, nodes)
	createObjects(t, ctx, env, namespaces, objects)
	t.Logf("created %d nodes, %d namespaces, %d objects in %v", nodes, namespaces, objects, time.Since(start).Round(time.Second))
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cisgateNamespace}}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = cs.CoreV1().ServiceAccounts(cisgateNamespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "cisgate-nodescan"}}, metav1.CreateOptions{})
	require.NoError(t, err)

	serveProxy, serveCounts := countingProxy(t, env.Config)
	scanProxy, scanCounts := countingProxy(t, env.Config)
	host := nodescantest.CopyHost(t, filepath.Join("..", "testdata", "nodes", "al2"), nil)
	runJobs(t, ctx, env, kubeconfigFor(t, scanProxy), host, 16)

	// The default 1 Job/s would take the run's length for the nodes alone: the interval is
	// compressed, so is the rate (the nodes in half a run, as at a real 24h interval).
	jobQPS := strconv.FormatFloat(max(1, 2*float64(nodes)/duration.Seconds()), 'f', 2, 64)
	if v := os.Getenv("CISGATE_SCALE_JOB_QPS"); v != "" {
		jobQPS = v
	}
	serveCtx, stopServe := context.WithCancel(ctx)
	served := startServe(t, serveCtx, kubeconfigFor(t, serveProxy),
		"--audit-interval", (duration / 6).String(), "--summary-interval", "1m",
		"--nodescan-interval", max(duration/2, time.Minute).String(), "--nodescan-parallelism", "10",
		"--nodescan-job-qps", jobQPS)

	figures := Figures{Nodes: nodes, Namespaces: namespaces, Objects: objects, Duration: duration.String()}
	or, err := versioned.NewForConfig(env.Config)
	require.NoError(t, err)
	begin := time.Now()
	deadline := time.After(duration)
	sample := time.NewTicker(5 * time.Second)
	defer sample.Stop()
	var ms runtime.MemStats
	var lastCount time.Time
	meta, err := metadata.NewForConfig(env.Config)
	require.NoError(t, err)
loop:
	for {
		select {
		case <-deadline:
			break loop
		case <-sample.C:
			runtime.ReadMemStats(&ms)
			figures.PeakHeapBytes = max(figures.PeakHeapBytes, ms.HeapInuse)
			if figures.AllNodesScannedAfter == "" && time.Since(lastCount) > 30*time.Second {
				lastCount = time.Now()
				if n, err := countNodeReports(ctx, meta); err == nil && n >= nodes {
					figures.AllNodesScannedAfter = time.Since(begin).Round(time.Second).String()
				}
			}
		}
	}
	elapsed := time.Since(begin)
	stopServe()
	require.Equal(t, 0, <-served, "cisgate serve failed")

	figures.Requests = serveCounts.snapshot()
	var total int64
	for _, n := range figures.Requests {
		total += n
	}
	figures.RequestsPerSecond = float64(total) / elapsed.Seconds()
	for _, n := range scanCounts.snapshot() {
		figures.ScanRequests += n
	}
	reports, err := or.OpenreportsV1alpha1().Reports(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: openreports.ManagedByLabel + "=cisgate"})
	require.NoError(t, err)
	figures.NamespaceReports = len(reports.Items)
	nodeReports, err := or.OpenreportsV1alpha1().ClusterReports().List(ctx, metav1.ListOptions{LabelSelector: openreports.WriterLabel + "=" + openreports.WriterNodeScan})
	require.NoError(t, err)
	figures.NodeReports = len(nodeReports.Items)
	cm, err := cs.CoreV1().ConfigMaps(cisgateNamespace).Get(ctx, report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	for k, v := range cm.Data {
		figures.ConfigMapBytes += len(k) + len(v)
	}
	figures.SummaryBytes = len(cm.Data[report.SummaryKey().Name])

	out, _ := json.MarshalIndent(figures, "", "  ")
	t.Logf("figures: %s", out)
	if path := os.Getenv("CISGATE_SCALE_OUT"); path != "" {
		require.NoError(t, os.WriteFile(path, out, 0o644))
	}
	require.Equal(t, nodes, figures.NodeReports, "every node has its ClusterReport")
	require.GreaterOrEqual(t, figures.NamespaceReports, namespaces, "every namespace has its Report")
	require.LessOrEqual(t, figures.SummaryBytes, report.SummaryShare, "summary.json stays within its share")
	require.LessOrEqual(t, figures.ConfigMapBytes, report.ConfigMapBudget, "the report ConfigMap stays within its budget")
	for k := range cm.Data {
		require.False(t, strings.HasPrefix(k, "node."), "no node key with OpenReports: %s", k)
	}
}

// startServe runs `cisgate serve` in-process as the only replica and leader, with OpenReports and
// the node-scan scheduler, through kubeconfig, until ctx ends; its exit code comes on the channel.
// extra flags follow the common ones (a flag given twice takes the last value).
func startServe(t *testing.T, ctx context.Context, kubeconfig string, extra ...string) <-chan int {
	t.Helper()
	certDir := t.TempDir()
	_, err := testcerts.WriteServing(certDir)
	require.NoError(t, err)
	args := append([]string{"serve", "--cert-dir", certDir, "--port", strconv.Itoa(freePort(t)),
		"--kubeconfig", kubeconfig, "--namespace", cisgateNamespace, "--replica", "cisgate-0",
		"--metrics-bind-address", "0", "--health-probe-bind-address", framework.FreeAddr(t), "--leader-elect=false",
		"--nodescan-enabled", "--nodescan-image", "cisgate:scale", "--nodescan-service-account", "cisgate-nodescan",
		"--openreports", "--openreports-qps", "20", "--openreports-burst", "40"}, extra...)
	served := make(chan int, 1)
	go func() { served <- app.Run(ctx, args, app.IOStreams{Out: io.Discard, ErrOut: io.Discard}) }()
	return served
}

// kwokStages returns the kustomize/stage directory of the kwok release the binary was built from
// (the Makefile's KWOK_VERSION), fetched into the module cache with `go mod download`: kwok is no
// dependency of the product, only its binary and stage files are used.
func kwokStages(t *testing.T, kwok string) string {
	t.Helper()
	out, err := exec.Command(kwok, "--version").Output()
	require.NoError(t, err)
	fields := strings.Fields(string(out)) // "kwok version v0.8.0 go1.26.8 (linux/amd64)"
	require.GreaterOrEqual(t, len(fields), 3, "kwok --version: %q", out)
	version := fields[2]
	out, err = exec.Command("go", "mod", "download", "-json", "sigs.k8s.io/kwok@"+version).Output()
	require.NoError(t, err, "go mod download sigs.k8s.io/kwok@%s", version)
	var mod struct{ Dir string }
	require.NoError(t, json.Unmarshal(out, &mod))
	return filepath.Join(mod.Dir, "kustomize", "stage")
}

// countNodeReports counts the node scans' ClusterReports, their metadata page by page.
func countNodeReports(ctx context.Context, meta metadata.Interface) (int, error) {
	gvr := schema.GroupVersionResource{Group: "openreports.io", Version: "v1alpha1", Resource: "clusterreports"}
	opts := metav1.ListOptions{LabelSelector: openreports.WriterLabel + "=" + openreports.WriterNodeScan, Limit: 1000}
	n := 0
	for {
		page, err := meta.Resource(gvr).List(ctx, opts)
		if err != nil {
			return 0, err
		}
		n += len(page.Items)
		if page.Continue == "" {
			return n, nil
		}
		opts.Continue = page.Continue
	}
}

func createNodes(t *testing.T, ctx context.Context, env *framework.Env, n int) {
	t.Helper()
	parallel(t, n, 32, func(i int) error {
		_, err := env.Clientset.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name:        fmt.Sprintf("kwok-node-%05d", i),
			Labels:      map[string]string{corev1.LabelOSStable: "linux", "type": "kwok"},
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
		}}, metav1.CreateOptions{})
		return err
	})
	// kwok marks them Ready; the scheduler scans only Ready nodes.
	framework.WaitFor(t, 10*time.Minute, "kwok to mark the nodes Ready", func() error {
		ready := 0
		list, err := env.Clientset.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, node := range list.Items {
			for _, c := range node.Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		if ready < n {
			return fmt.Errorf("%d of %d nodes Ready", ready, n)
		}
		return nil
	})
}

// createObjects spreads objects over namespaces: per namespace a Deployment, a privileged one, a
// Service, a Role and ServiceAccounts, in that order, until the total is reached.
func createObjects(t *testing.T, ctx context.Context, env *framework.Env, namespaces, objects int) {
	t.Helper()
	cs := env.Clientset
	parallel(t, namespaces, 32, func(i int) error {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("team-%05d", i)}}, metav1.CreateOptions{})
		return err
	})
	parallel(t, objects, 64, func(i int) error {
		ns := fmt.Sprintf("team-%05d", i%namespaces)
		name := fmt.Sprintf("obj-%06d", i)
		spec := fixtures.HardenedPodSpec()
		var err error
		switch (i / namespaces) % 5 {
		case 0, 1:
			if (i/namespaces)%5 == 1 {
				spec.Containers[0].SecurityContext.Privileged = ptr.To(true)
				spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
			}
			labels := map[string]string{"app": name}
			_, err = cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
					Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}}}, metav1.CreateOptions{})
		case 2:
			// Headless: envtest's Service CIDR has 256 addresses, and 4.5.2 and 5.4.4 need none.
			_, err = cs.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
				Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
		case 3:
			_, err = cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name},
				Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}}}, metav1.CreateOptions{})
		default:
			_, err = cs.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		}
		return err
	})
}

func parallel(t *testing.T, n, workers int, f func(int) error) {
	t.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// runJobs stands in for the Job controller and the kubelet, which envtest has not: each scan Job
// the scheduler creates is run as its Pod would run it, `cisgate nodescan --report --openreports`
// on the fixture host, at most workers at once, and then deleted (the scheduler counts a node
// with no Job as scanned at the Job's creation).
func runJobs(t *testing.T, ctx context.Context, env *framework.Env, kubeconfig, host string, workers int) {
	t.Helper()
	factory := informers.NewSharedInformerFactoryWithOptions(env.Clientset, 0, informers.WithNamespace(cisgateNamespace))
	jobs := make(chan *batchv1.Job, 100000)
	_, err := factory.Batch().V1().Jobs().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if j, ok := obj.(*batchv1.Job); ok {
				jobs <- j
			}
		},
	})
	require.NoError(t, err)
	factory.Start(ctx.Done())
	t.Cleanup(factory.Shutdown)
	for range workers {
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-jobs:
					node := j.Spec.Template.Spec.NodeName
					_ = app.Run(ctx, []string{"nodescan", "--host-root", host, "--node-name", node,
						"--report", "--openreports", "--kubeconfig", kubeconfig, "--namespace", cisgateNamespace, "-o", "json"},
						app.IOStreams{Out: io.Discard, ErrOut: io.Discard})
					_ = env.Clientset.BatchV1().Jobs(cisgateNamespace).Delete(ctx, j.Name,
						metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)})
				}
			}
		}()
	}
}

// requestCounts counts requests by "VERB resource".
type requestCounts struct {
	mu sync.Mutex
	m  map[string]int64
}

func (c *requestCounts) add(r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	resource := r.URL.Path
	// /api/v1/namespaces/x/pods, /apis/g/v/resource...: the resource is after the version,
	// skipping namespaces/<name>.
	if len(parts) >= 3 {
		rest := parts[2:]
		if parts[0] == "apis" && len(parts) >= 4 {
			rest = parts[3:]
		}
		if len(rest) >= 3 && rest[0] == "namespaces" {
			rest = rest[2:]
		}
		resource = rest[0]
	}
	verb := r.Method
	if r.URL.Query().Get("watch") == "true" {
		verb = "WATCH"
	}
	key := verb + " " + resource
	if m := r.URL.Query().Get("fieldManager"); m != "" && r.Method == http.MethodPatch {
		// The field manager names the writer (report.Key's, openreports.FieldManager).
		key += " (" + m + ")"
	}
	c.mu.Lock()
	c.m[key]++
	c.mu.Unlock()
}

func (c *requestCounts) snapshot() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.m))
	for k, v := range c.m {
		out[k] = v
	}
	return out
}

// countingProxy forwards to the API server with the admin credentials of cfg and counts each
// request; it serves TLS on loopback.
func countingProxy(t *testing.T, cfg *rest.Config) (string, *requestCounts) {
	t.Helper()
	target, err := url.Parse(cfg.Host)
	require.NoError(t, err)
	transport, err := rest.TransportFor(cfg)
	require.NoError(t, err)
	counts := &requestCounts{m: map[string]int64{}}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = transport
	proxy.FlushInterval = -1 // watches stream
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		counts.add(r)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, counts
}

// kubeconfigFor writes a kubeconfig for the proxy at server (its test certificate is not
// verified: it is the harness's own, on loopback).
func kubeconfigFor(t *testing.T, server string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["scale"] = &clientcmdapi.Cluster{Server: server, InsecureSkipTLSVerify: true}
	cfg.AuthInfos["scale"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["scale"] = &clientcmdapi.Context{Cluster: "scale", AuthInfo: "scale"}
	cfg.CurrentContext = "scale"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	require.NoError(t, clientcmd.WriteToFile(*cfg, path))
	return path
}

func freePort(t *testing.T) int {
	t.Helper()
	addr := framework.FreeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	n, err := strconv.Atoi(port)
	require.NoError(t, err)
	return n
}
