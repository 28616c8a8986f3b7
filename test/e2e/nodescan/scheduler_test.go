package nodescan

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

const scanImage = "registry.example/cisgate:e2e"

// runScheduler runs the scheduler in a leader-elected manager (it needs the lease, as in `cisgate
// serve`) until the returned stop is called (or the test ends).
func runScheduler(t *testing.T, namespace string, opts controller.NodeScanOptions) (stop func()) {
	t.Helper()
	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{
		Scheme:                        env.Scheme,
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		LeaderElection:                true,
		LeaderElectionID:              "cisgate-leader",
		LeaderElectionNamespace:       namespace,
		LeaderElectionReleaseOnCancel: true,
	})
	require.NoError(t, err)
	s, err := controller.NewNodeScanScheduler(env.Clientset, namespace, opts, func() policy.Benchmark { return policy.EKS180 })
	require.NoError(t, err)
	require.NoError(t, mgr.Add(s))
	ctx, cancel := context.WithCancel(context.Background())
	exited := make(chan error, 1)
	go func() { exited <- mgr.Start(ctx) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		assert.NoError(t, <-exited)
	}
	t.Cleanup(stop)
	return stop
}

func scanJobs(t *testing.T, namespace string) []batchv1.Job {
	t.Helper()
	jobs, err := env.Clientset.BatchV1().Jobs(namespace).List(context.Background(), metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/name=cisgate,app.kubernetes.io/component=nodescan",
	})
	require.NoError(t, err)
	return jobs.Items
}

// waitForJobs waits until the namespace has exactly the scan Jobs of these nodes, one each.
func waitForJobs(t *testing.T, namespace string, nodes ...string) []batchv1.Job {
	t.Helper()
	var jobs []batchv1.Job
	framework.WaitFor(t, 60*time.Second, fmt.Sprint("one scan Job for each of ", nodes), func() error {
		jobs = scanJobs(t, namespace)
		got := jobNodes(jobs)
		slices.Sort(got)
		want := slices.Sorted(slices.Values(nodes))
		if !slices.Equal(got, want) {
			return fmt.Errorf("Jobs for %v", got)
		}
		return nil
	})
	return jobs
}

// assertJobsStay checks, for a while, that no scan Job appears or goes.
func assertJobsStay(t *testing.T, namespace string, n int) {
	t.Helper()
	assert.Never(t, func() bool { return len(scanJobs(t, namespace)) != n }, 2*time.Second, 100*time.Millisecond,
		"the number of scan Jobs changed from %d", n)
}

func jobNodes(jobs []batchv1.Job) []string {
	var nodes []string
	for _, j := range jobs {
		nodes = append(nodes, j.Spec.Template.Spec.NodeName)
	}
	return nodes
}

func jobOf(t *testing.T, jobs []batchv1.Job, node string) batchv1.Job {
	t.Helper()
	for _, j := range jobs {
		if j.Spec.Template.Spec.NodeName == node {
			return j
		}
	}
	t.Fatalf("no scan Job for node %s", node)
	return batchv1.Job{}
}

// completeJob marks a Job succeeded as the Job controller would (envtest runs none).
func completeJob(t *testing.T, job batchv1.Job) {
	t.Helper()
	ctx := context.Background()
	current, err := env.Clientset.BatchV1().Jobs(job.Namespace).Get(ctx, job.Name, metav1.GetOptions{})
	require.NoError(t, err)
	now := metav1.Now()
	started := metav1.NewTime(now.Add(-10 * time.Second))
	current.Status.StartTime = &started
	current.Status.CompletionTime = &now
	current.Status.Succeeded = 1
	current.Status.Conditions = []batchv1.JobCondition{
		{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
	}
	_, err = env.Clientset.BatchV1().Jobs(job.Namespace).UpdateStatus(ctx, current, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// touchNode updates a Node as a kubelet's status report would, which queues it again.
func touchNode(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	node, err := env.Clientset.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	node.Status.Conditions[0].LastHeartbeatTime = metav1.Now()
	_, err = env.Clientset.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	require.NoError(t, err)
}

// assertJobShape checks a scan Job as an operator reviewing it would: pinned to its node, every
// taint tolerated, the node's processes visible, only read-only host mounts, no capabilities.
func assertJobShape(t *testing.T, job batchv1.Job, namespace, node string) {
	t.Helper()
	assert.Equal(t, map[string]string{
		"app.kubernetes.io/name":      "cisgate",
		"app.kubernetes.io/component": "nodescan",
		"cisgate.io/node":             node,
	}, job.Labels)
	assert.Equal(t, "cisgate-nodescan-"+node, job.Name)
	assert.Equal(t, int32(1), *job.Spec.BackoffLimit)
	assert.Equal(t, int64(300), *job.Spec.ActiveDeadlineSeconds)
	assert.Equal(t, int32(3600), *job.Spec.TTLSecondsAfterFinished)
	pod := job.Spec.Template.Spec
	assert.Equal(t, node, pod.NodeName)
	assert.True(t, pod.HostPID)
	assert.Equal(t, []corev1.Toleration{{Operator: corev1.TolerationOpExists}}, pod.Tolerations)
	assert.Equal(t, "cisgate-nodescan", pod.ServiceAccountName)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.SecurityContext.SeccompProfile.Type)
	require.Len(t, pod.Containers, 1)
	c := pod.Containers[0]
	assert.Equal(t, scanImage, c.Image)
	assert.Equal(t, []string{"cisgate"}, c.Command)
	assert.Equal(t, []string{"nodescan", "--host-root", "/host", "--proc-root", "/proc", "--node-name", node,
		"--benchmark", "eks-1.8.0", "--report", "--namespace", namespace, "--output", "json"}, c.Args)
	assert.True(t, *c.SecurityContext.ReadOnlyRootFilesystem)
	assert.False(t, *c.SecurityContext.AllowPrivilegeEscalation)
	assert.Equal(t, []corev1.Capability{"ALL"}, c.SecurityContext.Capabilities.Drop)
	assert.Empty(t, c.SecurityContext.Capabilities.Add)
	mounted := map[string]string{}
	for _, m := range c.VolumeMounts {
		assert.True(t, m.ReadOnly, "mount %s", m.MountPath)
		mounted[m.Name] = m.MountPath
	}
	var hostPaths []string
	for _, v := range pod.Volumes {
		require.NotNil(t, v.HostPath, "volume %s", v.Name)
		assert.Equal(t, "/host"+v.HostPath.Path, mounted[v.Name])
		hostPaths = append(hostPaths, v.HostPath.Path)
	}
	assert.Equal(t, []string{"/etc/kubernetes", "/etc/systemd/system", "/usr/lib/systemd/system", "/var/lib/kubelet/kubeconfig"}, hostPaths)
}

// TestSchedulerOnAnAPIServer runs the scheduler against the API server with 3 nodes and room for
// 2 scans at once: it starts 2 Jobs, the third when one completes, none again after a new leader
// takes over, and deletes the Jobs and report key of a deleted node.
func TestSchedulerOnAnAPIServer(t *testing.T) {
	framework.Require(t, env)
	ns := env.Namespace(t, "cisgate")
	nodes := []string{uniqueName("worker-a"), uniqueName("worker-b"), uniqueName("worker-c")}
	for _, n := range nodes {
		createNode(t, n)
	}
	opts := *controller.NewNodeScanOptions()
	opts.Enabled = true
	opts.Image = scanImage
	opts.Parallelism = 2
	// The scan ServiceAccount, which the chart installs, owns the Jobs: deleting it (helm
	// uninstall) has the garbage collector delete them.
	sa, err := env.Clientset.CoreV1().ServiceAccounts(ns).Create(context.Background(),
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: opts.ServiceAccount}}, metav1.CreateOptions{})
	require.NoError(t, err)
	stop := runScheduler(t, ns, opts)

	// Two at once; the third waits.
	var jobs []batchv1.Job
	framework.WaitFor(t, 60*time.Second, "2 scan Jobs", func() error {
		if jobs = scanJobs(t, ns); len(jobs) != 2 {
			return fmt.Errorf("%d Jobs", len(jobs))
		}
		return nil
	})
	assertJobsStay(t, ns, 2)
	for _, j := range jobs {
		assertJobShape(t, j, ns, j.Spec.Template.Spec.NodeName)
		assert.Equal(t, []metav1.OwnerReference{{APIVersion: "v1", Kind: "ServiceAccount", Name: sa.Name, UID: sa.UID}}, j.OwnerReferences)
	}

	// One completes: the waiting node's Job starts.
	completeJob(t, jobs[0])
	jobs = waitForJobs(t, ns, nodes...)
	for _, n := range nodes {
		assertJobShape(t, jobOf(t, jobs, n), ns, n)
	}

	// A new leader (a restart, a failover) resyncs everything: no node is scanned twice, though a
	// slot is free again.
	stop()
	runScheduler(t, ns, opts)
	completeJob(t, jobOf(t, jobs, nodes[1]))
	for _, n := range nodes {
		touchNode(t, n)
	}
	assertJobsStay(t, ns, 3)
	waitForJobs(t, ns, nodes...)

	// A node that leaves takes its Job and its report key along; other keys stay.
	gone := nodes[2]
	require.NoError(t, report.ApplyKey(context.Background(), env.Clientset, ns, report.NodeKey(gone), []byte(`{"schemaVersion":1,"node":"`+gone+`"}`)))
	require.NoError(t, report.ApplyKey(context.Background(), env.Clientset, ns, report.NodeKey(nodes[0]), []byte(`{"schemaVersion":1,"node":"`+nodes[0]+`"}`)))
	require.NoError(t, env.Clientset.CoreV1().Nodes().Delete(context.Background(), gone, metav1.DeleteOptions{}))
	waitForJobs(t, ns, nodes[0], nodes[1])
	framework.WaitFor(t, 30*time.Second, "the report key of node "+gone+" to be released", func() error {
		cm, err := env.Clientset.CoreV1().ConfigMaps(ns).Get(context.Background(), report.ConfigMapName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if _, ok := cm.Data[report.NodeKey(gone).Name]; ok {
			return fmt.Errorf("key %s still there", report.NodeKey(gone).Name)
		}
		if _, ok := cm.Data[report.NodeKey(nodes[0]).Name]; !ok {
			return fmt.Errorf("key %s of a live node went too", report.NodeKey(nodes[0]).Name)
		}
		return nil
	})
}
