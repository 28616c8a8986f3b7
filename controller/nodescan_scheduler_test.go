package controller

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/yaml"

	"github.com/cisgate/cisgate/internal/golden"
	"github.com/cisgate/cisgate/openreports"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

const scanNamespace = "cisgate-system"

func testNodeScanOptions() NodeScanOptions {
	opts := *NewNodeScanOptions()
	opts.Enabled = true
	opts.Image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/cisgate:v1.0.0"
	// The fake clock does not move on its own: the rate's own test sets it.
	opts.JobQPS = math.Inf(1)
	return opts
}

func scanBenchmark() policy.Benchmark { return policy.DefaultBenchmark }

// readyNode is a Ready Linux node running osImage.
func readyScanNode(name, osImage string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelOSStable: "linux"}},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			NodeInfo:   corev1.NodeSystemInfo{OSImage: osImage},
		},
	}
}

func TestNodeScanJobGolden(t *testing.T) {
	opts := testNodeScanOptions()
	opts.ExtraHostPaths = []HostPath{{Path: "/opt/kubelet/config.yaml", Type: corev1.HostPathFile}, {Name: "custom", Path: "/srv/kubelet"}}
	owner := &metav1.OwnerReference{APIVersion: "v1", Kind: "ServiceAccount", Name: "cisgate-nodescan", UID: "0d6b2f6c-1111-2222-3333-444455556666"}
	job := renderNodeScanJob(readyScanNode("ip-10-0-1-23.us-west-2.compute.internal", "Amazon Linux 2023.6.20250115"),
		scanNamespace, opts, policy.EKS180, owner)
	job.TypeMeta = metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}
	got, err := yaml.Marshal(job)
	require.NoError(t, err)
	golden.Assert(t, filepath.Join("testdata", "nodescan_scheduler_job.golden.yaml"), got)
}

// nodeScan.interval=1m with the chart's default activeDeadline (5m) is a valid install: the Job's
// deadline is capped at half the interval, so the scan ends before the next one is due.
func TestNodeScanJobDeadlineEndsBeforeTheNextScan(t *testing.T) {
	for _, c := range []struct {
		interval, deadline time.Duration
		wantSeconds        int64
	}{
		{interval: 24 * time.Hour, deadline: 5 * time.Minute, wantSeconds: 300},
		{interval: time.Minute, deadline: 5 * time.Minute, wantSeconds: 30},
		{interval: 8 * time.Minute, deadline: 5 * time.Minute, wantSeconds: 240},
	} {
		opts := testNodeScanOptions()
		opts.Interval, opts.ActiveDeadline = c.interval, c.deadline
		require.Empty(t, opts.Validate())
		job := renderNodeScanJob(readyScanNode("n1", ""), scanNamespace, opts, policy.EKS180, nil)
		assert.Equal(t, c.wantSeconds, *job.Spec.ActiveDeadlineSeconds, "interval %v, deadline %v", c.interval, c.deadline)
	}
}

func TestNodeScanJobNamesAndLabels(t *testing.T) {
	long := strings.Repeat("a", 60) + ".example.internal"
	cases := []struct {
		node      string
		wantName  string
		wantLabel string
	}{
		{node: "node-1", wantName: "cisgate-nodescan-node-1", wantLabel: nodeScanNodeLabel},
		{node: "ip-10-0-1-23.us-west-2.compute.internal", wantName: "cisgate-nodescan-ip-10-0-1-23-us-west-2-compute-in-" + nameHash("ip-10-0-1-23.us-west-2.compute.internal"), wantLabel: nodeScanNodeLabel},
		{node: long, wantName: "cisgate-nodescan-" + strings.Repeat("a", 33) + "-" + nameHash(long), wantLabel: nodeScanNodeHashLabel},
	}
	for _, c := range cases {
		t.Run(c.node, func(t *testing.T) {
			job := renderNodeScanJob(readyScanNode(c.node, ""), scanNamespace, testNodeScanOptions(), policy.EKS180, nil)
			assert.Equal(t, c.wantName, job.Name)
			assert.Empty(t, validation.IsDNS1123Label(job.Name))
			for k, v := range job.Labels {
				assert.Empty(t, validation.IsValidLabelValue(v), "label %s", k)
			}
			key, value := nodeScanNodeSelector(c.node)
			assert.Equal(t, c.wantLabel, key)
			assert.Equal(t, value, job.Labels[key])
			if key == nodeScanNodeHashLabel {
				assert.Equal(t, c.node, job.Annotations[nodeScanNodeLabel], "a hashed label needs the name in an annotation")
			}
			assert.Equal(t, c.node, job.Spec.Template.Spec.NodeName)
		})
	}
	other := strings.Repeat("a", 60) + ".example.internam"
	assert.NotEqual(t, nodeScanJobName(long), nodeScanJobName(other), "long names that differ only past the cut")
	assert.NotEqual(t, nodeScanJobName("a.b"), nodeScanJobName("a-b"), "a dot and a dash")
}

func TestNodeScanHostMounts(t *testing.T) {
	paths := func(osImage string) []string {
		var ps []string
		for _, m := range hostMounts(readyScanNode("n", osImage)) {
			ps = append(ps, m.nodePath)
		}
		return ps
	}
	assert.Equal(t, []string{"/etc/kubernetes", "/etc/systemd/system", "/usr/lib/systemd/system", "/var/lib/kubelet/kubeconfig"}, paths("Amazon Linux 2"))
	assert.Equal(t, []string{"/etc/kubernetes", "/etc/systemd/system", "/usr/lib/systemd/system", "/var/lib/kubelet/kubeconfig"}, paths("Amazon Linux 2023.6.20250115"))
	assert.Equal(t, []string{"/etc/kubernetes"}, paths("Bottlerocket OS 1.30.0 (aws-k8s-1.32)"))
	// kubeadm on Ubuntu keeps its kubeconfig in /etc/kubernetes; a typed mount of a file it lacks
	// would keep the Pod from starting.
	assert.Equal(t, []string{"/etc/kubernetes", "/etc/systemd/system", "/usr/lib/systemd/system"}, paths("Ubuntu 24.04.1 LTS"))
	// Ubuntu EKS (Canonical's EKS images) runs the EKS bootstrap: /var/lib/kubelet/kubeconfig.
	ubuntuEKS := readyScanNode("n", "Ubuntu 22.04.5 LTS")
	ubuntuEKS.Spec.ProviderID = "aws:///us-west-2a/i-0123456789abcdef0"
	var eksPaths []string
	for _, m := range hostMounts(ubuntuEKS) {
		eksPaths = append(eksPaths, m.nodePath)
	}
	assert.Equal(t, []string{"/etc/kubernetes", "/etc/systemd/system", "/usr/lib/systemd/system", "/var/lib/kubelet/kubeconfig"}, eksPaths)
	trimmed, err := trimNode(ubuntuEKS)
	require.NoError(t, err)
	assert.Equal(t, ubuntuEKS.Spec.ProviderID, trimmed.(*corev1.Node).Spec.ProviderID, "the informer keeps what hostMounts reads")
}

func TestParseHostPath(t *testing.T) {
	hp, err := ParseHostPath("path=/var/lib/kubelet/config.yaml,type=File,name=kubelet-config")
	require.NoError(t, err)
	assert.Equal(t, HostPath{Name: "kubelet-config", Path: "/var/lib/kubelet/config.yaml", Type: corev1.HostPathFile}, hp)
	back, err := ParseHostPath(hp.String())
	require.NoError(t, err)
	assert.Equal(t, hp, back)
	for _, bad := range []string{
		"/etc/kubelet",                  // no key
		"path=etc/kubelet",              // relative
		"path=/",                        // the whole node, Secrets included
		"path=/etc/../var/lib/kubelet",  // not clean
		"path=/etc/k,type=FileOrCreate", // would write to the node
		"path=/etc/k,name=Not_A_Label",  // volume names are DNS labels
		"path=/etc/k,mode=ro",           // unknown key
	} {
		_, err := ParseHostPath(bad)
		assert.Error(t, err, bad)
	}
	opts := testNodeScanOptions()
	opts.ExtraHostPaths = []HostPath{{Path: "/a", Name: "x"}, {Path: "/b", Name: "x"}}
	assert.ErrorContains(t, errors.Join(opts.Validate()...), `volume name "x" is used twice`)
}

func TestNodeScanOptionsValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*NodeScanOptions)
		want   []string
	}{
		{name: "defaults with an image", change: func(*NodeScanOptions) {}},
		{name: "disabled needs nothing", change: func(o *NodeScanOptions) { o.Enabled, o.Image, o.Parallelism = false, "", 0 }},
		{name: "no image", change: func(o *NodeScanOptions) { o.Image = "" }, want: []string{"--nodescan-image is required"}},
		{name: "interval too short", change: func(o *NodeScanOptions) { o.Interval, o.ActiveDeadline = 30*time.Second, 10*time.Second }, want: []string{"--nodescan-interval must be at least 1m0s"}},
		{name: "negative ttl", change: func(o *NodeScanOptions) { o.TTL = -time.Second }, want: []string{"--nodescan-ttl must not be negative"}},
		{name: "no parallelism", change: func(o *NodeScanOptions) { o.Parallelism = 0 }, want: []string{"--nodescan-parallelism must be at least 1"}},
		{name: "no job rate", change: func(o *NodeScanOptions) { o.JobQPS = 0 }, want: []string{"--nodescan-job-qps must be positive"}},
		{name: "deadline under a second", change: func(o *NodeScanOptions) { o.ActiveDeadline = 500 * time.Millisecond }, want: []string{"--nodescan-active-deadline must be at least 1s"}},
		// A deadline past the interval is capped (TestNodeScanJobDeadlineEndsBeforeTheNextScan).
		{name: "deadline past the interval", change: func(o *NodeScanOptions) { o.ActiveDeadline = 25 * time.Hour }},
		{name: "bad names", change: func(o *NodeScanOptions) { o.ServiceAccount, o.PriorityClassName = "Bad_SA", "Bad_PC" },
			want: []string{`--nodescan-service-account "Bad_SA"`, `--nodescan-priority-class "Bad_PC"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := testNodeScanOptions()
			c.change(&o)
			errs := o.Validate()
			require.Len(t, errs, len(c.want), "%v", errs)
			for i, want := range c.want {
				assert.Contains(t, errs[i].Error(), want)
			}
		})
	}
}

// schedulerHarness runs a scheduler on a fake clientset with a fake clock.
type schedulerHarness struct {
	client    *fake.Clientset
	clock     *clocktesting.FakeClock
	scheduler *NodeScanScheduler
}

func startScheduler(t *testing.T, opts NodeScanOptions, objects ...runtime.Object) *schedulerHarness {
	t.Helper()
	return startSchedulerWith(t, opts, nil, objects...)
}

// startSchedulerWith is startScheduler with configure called on the scheduler before it starts.
func startSchedulerWith(t *testing.T, opts NodeScanOptions, configure func(*NodeScanScheduler), objects ...runtime.Object) *schedulerHarness {
	t.Helper()
	// The scan ServiceAccount owns the Jobs (the chart installs it).
	objects = append(objects, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: scanNamespace, Name: opts.ServiceAccount, UID: "sa-uid"}})
	h := &schedulerHarness{client: fake.NewClientset(objects...), clock: clocktesting.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))}
	s, err := newNodeScanScheduler(h.client, scanNamespace, opts, scanBenchmark, h.clock)
	require.NoError(t, err)
	h.scheduler = s
	if configure != nil {
		configure(s)
	}
	ctx, cancel := context.WithCancel(log.IntoContext(context.Background(), logr.Discard()))
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return h
}

func (h *schedulerHarness) jobs(t *testing.T) []batchv1.Job {
	t.Helper()
	list, err := h.client.BatchV1().Jobs(scanNamespace).List(context.Background(), metav1.ListOptions{})
	require.NoError(t, err)
	return list.Items
}

// jobCreates counts the Job create requests the scheduler sent.
func (h *schedulerHarness) jobCreates() int {
	n := 0
	for _, a := range h.client.Actions() {
		if a.GetVerb() == "create" && a.GetResource().Resource == "jobs" {
			n++
		}
	}
	return n
}

func (h *schedulerHarness) waitForJobs(t *testing.T, n int) []batchv1.Job {
	t.Helper()
	var jobs []batchv1.Job
	require.Eventually(t, func() bool {
		jobs = h.jobs(t)
		return len(jobs) == n
	}, 10*time.Second, 10*time.Millisecond, "want %d Jobs", n)
	return jobs
}

func (h *schedulerHarness) addNode(t *testing.T, node *corev1.Node) {
	t.Helper()
	_, err := h.client.CoreV1().Nodes().Create(context.Background(), node, metav1.CreateOptions{})
	require.NoError(t, err)
}

// touchNode changes a label of a node, as the periodic status updates of a real node would
// queue it again.
func (h *schedulerHarness) touchNode(t *testing.T, name string) {
	t.Helper()
	node, err := h.client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	node.Labels["touched"] = strconv.FormatInt(time.Now().UnixNano(), 10)
	_, err = h.client.CoreV1().Nodes().Update(context.Background(), node, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// finishJob marks a Job Complete as the Job controller would.
func (h *schedulerHarness) finishJob(t *testing.T, name string) {
	t.Helper()
	job, err := h.client.BatchV1().Jobs(scanNamespace).Get(context.Background(), name, metav1.GetOptions{})
	require.NoError(t, err)
	job.Status.Conditions = append(job.Status.Conditions, batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue})
	_, err = h.client.BatchV1().Jobs(scanNamespace).UpdateStatus(context.Background(), job, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// settle proves the scheduler has handled every earlier event: a new node's Job appears only
// after the events queued before it, the queue being first in, first out. It needs a free slot.
func (h *schedulerHarness) settle(t *testing.T, sentinel string, jobsBefore int) {
	t.Helper()
	h.addNode(t, readyScanNode(sentinel, ""))
	h.waitForJobs(t, jobsBefore+1)
}

func jobNodes(jobs []batchv1.Job) []string {
	var nodes []string
	for _, j := range jobs {
		nodes = append(nodes, j.Spec.Template.Spec.NodeName)
	}
	return nodes
}

func TestSchedulerJobsAreOwnedByTheScanServiceAccount(t *testing.T) {
	h := startScheduler(t, testNodeScanOptions(), readyScanNode("n1", ""))
	jobs := h.waitForJobs(t, 1)
	// Deleting the ServiceAccount (helm uninstall) has the garbage collector delete the Job and
	// its Pod.
	assert.Equal(t, []metav1.OwnerReference{{APIVersion: "v1", Kind: "ServiceAccount", Name: "cisgate-nodescan", UID: "sa-uid"}}, jobs[0].OwnerReferences)

	// The ServiceAccount deleted and created again (a reinstall) has a new UID: the next Job
	// is owned by that one, or the collector would delete it at once.
	ctx := context.Background()
	require.NoError(t, h.client.CoreV1().ServiceAccounts(scanNamespace).Delete(ctx, "cisgate-nodescan", metav1.DeleteOptions{}))
	_, err := h.client.CoreV1().ServiceAccounts(scanNamespace).Create(ctx,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: scanNamespace, Name: "cisgate-nodescan", UID: "sa-uid-2"}}, metav1.CreateOptions{})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		sa, err := h.scheduler.saLister.ServiceAccounts(scanNamespace).Get("cisgate-nodescan")
		return err == nil && sa.UID == "sa-uid-2"
	}, 10*time.Second, 10*time.Millisecond)
	h.addNode(t, readyScanNode("n2", ""))
	jobs = h.waitForJobs(t, 2)
	for _, j := range jobs {
		if j.Spec.Template.Spec.NodeName == "n2" {
			assert.Equal(t, types.UID("sa-uid-2"), j.OwnerReferences[0].UID)
		}
	}

	// The owner comes from the informer's cache: no GET of the ServiceAccount per Job.
	for _, a := range h.client.Actions() {
		assert.False(t, a.GetVerb() == "get" && a.GetResource().Resource == "serviceaccounts", "a GET of the ServiceAccount")
	}
}

func TestSchedulerStartsOneJobPerNode(t *testing.T) {
	h := startScheduler(t, testNodeScanOptions(), readyScanNode("n1", ""), readyScanNode("n2", ""), readyScanNode("n3", ""))
	jobs := h.waitForJobs(t, 3)
	assert.ElementsMatch(t, []string{"n1", "n2", "n3"}, jobNodes(jobs))

	// Every node comes back (a status update, a resync) while its scan runs, and after it ended.
	for _, n := range []string{"n1", "n2", "n3"} {
		h.touchNode(t, n)
	}
	h.finishJob(t, "cisgate-nodescan-n1")
	h.touchNode(t, "n1")
	h.settle(t, "sentinel", 3)
	assert.Equal(t, 4, h.jobCreates(), "one create per node, the sentinel's included")
}

func TestSchedulerSkipsANodeWithAnActiveJob(t *testing.T) {
	opts := testNodeScanOptions()
	running := renderNodeScanJob(readyScanNode("n1", ""), scanNamespace, opts, scanBenchmark(), nil)
	running.Name = "made-by-a-previous-leader"
	running.CreationTimestamp = metav1.NewTime(time.Date(2026, 3, 1, 11, 59, 0, 0, time.UTC))
	h := startScheduler(t, opts, readyScanNode("n1", ""), running)
	h.touchNode(t, "n1")
	h.settle(t, "sentinel", 1)
	assert.Equal(t, 1, h.jobCreates(), "only the sentinel's Job")

	// Its end counts as the node's scan: the next one is an interval later, not now.
	h.finishJob(t, running.Name)
	h.touchNode(t, "n1")
	h.settle(t, "sentinel-2", 2)
	assert.Equal(t, 2, h.jobCreates())
}

func TestSchedulerCapsParallelism(t *testing.T) {
	opts := testNodeScanOptions()
	opts.Parallelism = 2
	h := startScheduler(t, opts, readyScanNode("n1", ""), readyScanNode("n2", ""), readyScanNode("n3", ""), readyScanNode("n4", ""))
	jobs := h.waitForJobs(t, 2)
	assert.Never(t, func() bool { return len(h.jobs(t)) > 2 }, 300*time.Millisecond, 10*time.Millisecond)

	// One ends: one more starts, still two at once.
	h.finishJob(t, jobs[0].Name)
	jobs = h.waitForJobs(t, 3)
	assert.Never(t, func() bool { return len(h.jobs(t)) > 3 }, 300*time.Millisecond, 10*time.Millisecond)

	for _, j := range jobs {
		if len(j.Status.Conditions) == 0 {
			h.finishJob(t, j.Name)
		}
	}
	jobs = h.waitForJobs(t, 4)
	assert.ElementsMatch(t, []string{"n1", "n2", "n3", "n4"}, jobNodes(jobs))
	assert.Equal(t, 4, h.jobCreates())
}

func TestSchedulerPacesJobCreates(t *testing.T) {
	opts := testNodeScanOptions()
	opts.Parallelism, opts.JobQPS = 3, 1
	var nodes []runtime.Object
	for i := range 5 {
		nodes = append(nodes, readyScanNode(fmt.Sprintf("n%d", i), ""))
	}
	h := startScheduler(t, opts, nodes...)
	// A burst of Parallelism at once.
	jobs := h.waitForJobs(t, 3)
	for _, j := range jobs {
		h.finishJob(t, j.Name)
	}
	// Three slots are free, but the bucket is empty: the next Job waits for its token, a second.
	assert.Never(t, func() bool { return len(h.jobs(t)) > 3 }, 300*time.Millisecond, 10*time.Millisecond)
	h.clock.Step(time.Second)
	h.waitForJobs(t, 4)
	assert.Never(t, func() bool { return len(h.jobs(t)) > 4 }, 300*time.Millisecond, 10*time.Millisecond)
	h.clock.Step(time.Second)
	h.waitForJobs(t, 5)
	assert.Equal(t, 5, h.jobCreates())
}

func TestSchedulerRescansAfterTheInterval(t *testing.T) {
	opts := testNodeScanOptions()
	h := startScheduler(t, opts, readyScanNode("n1", ""))
	h.waitForJobs(t, 1)
	h.finishJob(t, "cisgate-nodescan-n1")

	h.clock.Step(opts.Interval - time.Minute)
	h.touchNode(t, "n1")
	h.settle(t, "sentinel", 1)
	assert.Equal(t, 2, h.jobCreates(), "not due yet")

	// Due: the finished Job still has the name (its TTL is longer than what is left), so it
	// makes way for the new one.
	h.clock.Step(time.Minute)
	require.Eventually(t, func() bool { return h.jobCreates() == 3 }, 10*time.Second, 10*time.Millisecond)
	jobs := h.waitForJobs(t, 2)
	for _, j := range jobs {
		if j.Name == "cisgate-nodescan-n1" {
			assert.Empty(t, j.Status.Conditions, "the new scan's Job")
		}
	}
}

func TestSchedulerResumesFromTheReport(t *testing.T) {
	opts := testNodeScanOptions()
	scanned := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC) // 6h before the fake clock's now
	payload, err := json.Marshal(map[string]any{"schemaVersion": 1, "node": "n1", "time": scanned})
	require.NoError(t, err)
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: report.ConfigMapName, Namespace: scanNamespace},
		Data:       map[string]string{report.NodeKey("n1").Name: string(payload)},
	}
	h := startScheduler(t, opts, cm, readyScanNode("n1", ""))
	h.settle(t, "sentinel", 0)
	assert.Equal(t, 1, h.jobCreates(), "n1 was scanned 6h ago")

	h.clock.Step(18 * time.Hour)
	require.Eventually(t, func() bool { return h.jobCreates() == 2 }, 10*time.Second, 10*time.Millisecond)
}

// With --openreports the scans write no node keys: a new leader reads each node's last scan from
// its ClusterReport's metadata (the scan time the scan writes there, openreports.BuildNode), so
// a node scanned within the interval is not scanned again (issue 27: every helm upgrade rescanned
// the fleet). A node whose last scan could not read it, or with no report, is scanned now.
func TestSchedulerResumesFromTheClusterReports(t *testing.T) {
	opts := testNodeScanOptions()
	opts.OpenReports = true
	cat, err := policy.CatalogueFor(scanBenchmark())
	require.NoError(t, err)
	scanned := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC) // 6h before the fake clock's now
	scheme := metadatafake.NewTestScheme()
	require.NoError(t, metav1.AddMetaToScheme(scheme))
	var reports []runtime.Object
	for _, scan := range []report.Scan{
		{Benchmark: scanBenchmark(), Node: "n1", Time: scanned},
		{Benchmark: scanBenchmark(), Node: "n2", Time: scanned, NotScanned: &report.NotScanned{Reason: "no kubelet process, unit or known layout"}},
	} {
		node := readyScanNode(scan.Node, "")
		r := openreports.BuildNode(cat, scan, node)
		reports = append(reports, &metav1.PartialObjectMetadata{
			TypeMeta:   metav1.TypeMeta{APIVersion: "openreports.io/v1alpha1", Kind: "ClusterReport"},
			ObjectMeta: r.ObjectMeta,
		})
	}
	follower := openreports.NewNodeReports(metadatafake.NewSimpleMetadataClient(scheme, reports...))
	h := startSchedulerWith(t, opts, func(s *NodeScanScheduler) { s.ResumeFromReports(follower) },
		readyScanNode("n1", ""), readyScanNode("n2", ""), readyScanNode("n3", ""))
	jobs := h.waitForJobs(t, 2)
	assert.ElementsMatch(t, []string{"n2", "n3"}, jobNodes(jobs), "n1 was scanned 6h ago")
	h.settle(t, "sentinel", 2)
	assert.Equal(t, 3, h.jobCreates())

	h.clock.Step(18 * time.Hour)
	require.Eventually(t, func() bool { return h.jobCreates() == 4 }, 10*time.Second, 10*time.Millisecond, "n1 is due 24h after its scan")
}

// A helm upgrade that fixes the scan's mounts (issue 13: a kubelet config outside them) brings a
// leader with another Pod spec: the node's last scan, an hour old, ran with other settings and
// does not count; its node is scanned now, not an interval later.
func TestSchedulerRescansAScanMadeWithOtherSettings(t *testing.T) {
	opts := testNodeScanOptions()
	node := readyScanNode("n1", "")
	old := opts
	old.ExtraHostPaths = nil
	previous := renderNodeScanJob(node, scanNamespace, old, scanBenchmark(), nil)
	previous.CreationTimestamp = metav1.NewTime(time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC))
	previous.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue}}

	opts.ExtraHostPaths = []HostPath{{Path: "/opt/kubelet", Type: corev1.HostPathDirectory}}
	require.NotEqual(t, previous.Annotations[nodeScanPodSpecAnnotation],
		renderNodeScanJob(node, scanNamespace, opts, scanBenchmark(), nil).Annotations[nodeScanPodSpecAnnotation])
	same := renderNodeScanJob(readyScanNode("n2", ""), scanNamespace, opts, scanBenchmark(), nil)
	same.CreationTimestamp = previous.CreationTimestamp
	same.Status.Conditions = previous.Status.Conditions

	h := startScheduler(t, opts, node, readyScanNode("n2", ""), previous, same)
	require.Eventually(t, func() bool { return h.jobCreates() == 1 }, 10*time.Second, 10*time.Millisecond, "n1's scan is due now")
	h.settle(t, "sentinel", 2)
	for _, a := range h.client.Actions() {
		if create, ok := a.(k8stesting.CreateAction); ok && a.GetResource().Resource == "jobs" {
			if job := create.GetObject().(*batchv1.Job); job.Spec.Template.Spec.NodeName == "n2" {
				t.Errorf("n2 was scanned an hour ago with these settings, and scanned again")
			}
		}
	}
}

// A new leader scans at once a node whose last report says it could not be read: the report
// outlives the Job, and the upgrade that fixes the mounts brings the new leader.
func TestSchedulerRescansANodeThatWasNotScanned(t *testing.T) {
	opts := testNodeScanOptions()
	scanned := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC) // 6h before the fake clock's now
	notScanned, err := json.Marshal(map[string]any{"schemaVersion": 1, "node": "n1", "time": scanned,
		"notScanned": map[string]string{"reason": "the kubelet's config file is not readable", "path": "/srv/kubelet/config.yaml"}})
	require.NoError(t, err)
	readable, err := json.Marshal(map[string]any{"schemaVersion": 1, "node": "n2", "time": scanned})
	require.NoError(t, err)
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: report.ConfigMapName, Namespace: scanNamespace},
		Data:       map[string]string{report.NodeKey("n1").Name: string(notScanned), report.NodeKey("n2").Name: string(readable)},
	}
	h := startScheduler(t, opts, cm, readyScanNode("n1", ""), readyScanNode("n2", ""))
	jobs := h.waitForJobs(t, 1)
	assert.Equal(t, []string{"n1"}, jobNodes(jobs))
	h.settle(t, "sentinel", 1)
	assert.Equal(t, 2, h.jobCreates(), "n2 was scanned 6h ago")
}

func TestSchedulerScansOnlyReadyLinuxNodesOutsideFargateAndAutoMode(t *testing.T) {
	notReady := readyScanNode("not-ready", "")
	notReady.Status.Conditions[0].Status = corev1.ConditionFalse
	windows := readyScanNode("windows", "")
	windows.Labels[corev1.LabelOSStable] = "windows"
	fargate := readyScanNode("fargate-ip-10-0-1-1", "")
	fargate.Labels[eksComputeTypeLabel] = fargateComputeType
	auto := readyScanNode("i-0123456789abcdef0", "")
	auto.Labels[eksComputeTypeLabel] = autoModeComputeType
	h := startScheduler(t, testNodeScanOptions(), notReady, windows, fargate, auto)
	h.settle(t, "sentinel", 0)
	assert.Equal(t, 1, h.jobCreates())

	// A joining node turns Ready: now it is scanned.
	notReady.Status.Conditions[0].Status = corev1.ConditionTrue
	_, err := h.client.CoreV1().Nodes().UpdateStatus(context.Background(), notReady, metav1.UpdateOptions{})
	require.NoError(t, err)
	jobs := h.waitForJobs(t, 2)
	assert.ElementsMatch(t, []string{"sentinel", "not-ready"}, jobNodes(jobs))
}

func TestSchedulerCleansUpADeletedNode(t *testing.T) {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: report.ConfigMapName, Namespace: scanNamespace},
		Data:       map[string]string{"summary.json": `{"schemaVersion":1}`},
	}
	h := startScheduler(t, testNodeScanOptions(), cm, readyScanNode("n1", ""), readyScanNode("n2", ""))
	h.waitForJobs(t, 2)
	// The scan of n1 writes its key, as `cisgate nodescan --report` does.
	require.NoError(t, report.ApplyKey(context.Background(), h.client, scanNamespace, report.NodeKey("n1"), []byte(`{"schemaVersion":1,"node":"n1"}`)))

	require.NoError(t, h.client.CoreV1().Nodes().Delete(context.Background(), "n1", metav1.DeleteOptions{}))
	jobs := h.waitForJobs(t, 1)
	assert.Equal(t, []string{"n2"}, jobNodes(jobs))
	require.Eventually(t, func() bool {
		data := scanReportData(t, h.client)
		_, kept := data[report.NodeKey("n1").Name]
		return !kept
	}, 10*time.Second, 10*time.Millisecond)
	assert.Contains(t, scanReportData(t, h.client), "summary.json", "other writers' keys stay")
}

func scanReportData(t *testing.T, client kubernetes.Interface) map[string]string {
	t.Helper()
	cm, err := client.CoreV1().ConfigMaps(scanNamespace).Get(context.Background(), report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	return cm.Data
}
