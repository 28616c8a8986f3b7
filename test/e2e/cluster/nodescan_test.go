package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/test/cluster"
	"github.com/cisgate/cisgate/test/cluster/clustertest"
)

// nodeResult is one result of the node's report key node.<node>.json.
type nodeResult struct {
	ID     string `json:"id"`
	Slug   string `json:"slug"`
	Status string `json:"status"`
	Actual string `json:"actual"`
	Source string `json:"source"`
	Detail string `json:"detail"`
}

type nodeReport struct {
	Node       string `json:"node"`
	NotScanned *struct {
		Reason string `json:"reason"`
		Path   string `json:"path"`
		Hint   string `json:"hint"`
	} `json:"notScanned"`
	Time    time.Time    `json:"time"`
	Results []nodeResult `json:"results"`
}

// configzSetting maps a section 3 check to the KubeletConfiguration field it decides on, as
// /configz serves it (kubelet.config.k8s.io/v1beta1 JSON), and to how cisgate prints the value.
type configzSetting struct {
	slug string
	// field is the path in /configz's kubeletconfig, and the config key cisgate names.
	field []string
	// flag is the kubelet flag that sets it.
	flag string
}

var configzSettings = []configzSetting{
	{slug: "anonymous-auth", field: []string{"authentication", "anonymous", "enabled"}, flag: "anonymous-auth"},
	{slug: "authorization-mode", field: []string{"authorization", "mode"}, flag: "authorization-mode"},
	{slug: "authorization-mode-webhook", field: []string{"authorization", "mode"}, flag: "authorization-mode"},
	{slug: "client-ca", field: []string{"authentication", "x509", "clientCAFile"}, flag: "client-ca-file"},
	{slug: "read-only-port", field: []string{"readOnlyPort"}, flag: "read-only-port"},
	{slug: "streaming-idle-timeout", field: []string{"streamingConnectionIdleTimeout"}, flag: "streaming-connection-idle-timeout"},
	{slug: "protect-kernel-defaults", field: []string{"protectKernelDefaults"}, flag: "protect-kernel-defaults"},
	{slug: "iptables-util-chains", field: []string{"makeIPTablesUtilChains"}, flag: "make-iptables-util-chains"},
	{slug: "event-qps", field: []string{"eventRecordQPS"}, flag: "event-qps"},
}

// configzValue is the field's value in /configz, printed as cisgate prints it; absent
// (omitempty) fields are their zero value, which is what the kubelet runs with.
func configzValue(t *testing.T, configz map[string]any, s configzSetting) string {
	t.Helper()
	var v any = configz
	for _, f := range s.field {
		m, _ := v.(map[string]any)
		v = m[f]
	}
	switch x := v.(type) {
	case nil:
		switch s.slug {
		case "read-only-port", "event-qps":
			return "0"
		case "client-ca", "authorization-mode", "authorization-mode-webhook":
			return ""
		}
		return "false"
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatInt(int64(x), 10)
	case string:
		return x
	}
	t.Fatalf("/configz %v: unexpected %T", s.field, v)
	return ""
}

// The kubelet itself is the oracle of section 3: for every setting a check reads, the value
// cisgate's node-scan Job reports (run by the chart's controller on this node, reading the
// node's files and the kubelet's command line) must be the one the running kubelet serves on
// /configz, and its source the layer that really set it (the kubelet merges flags over
// --config-dir drop-ins over the --config file: kubernetes.io/docs/tasks/administer-cluster/
// kubelet-config-file, "Kubelet configuration merging order").
func TestNodeScanMatchesTheKubelet(t *testing.T) {
	clustertest.Require(t, c)
	// Under the chart's default, eks-2.0.0 (3.2.2 asks for Webhook, 3.2.8 for serverTLSBootstrap
	// and the gate together), and under eks-1.8.0 (the streaming idle timeout, 3.2.2 not
	// AlwaysAllow): the same settings, read through other checks.
	for i, bench := range []string{"eks-2.0.0", "eks-1.8.0"} {
		t.Run(bench, func(t *testing.T) {
			if i > 0 {
				require.NoError(t, c.RestartKubelet(context.Background(), cluster.KubeletSetup{}))
			}
			nodeScanMatchesTheKubelet(t, "--set", "mode=audit", "--set", "benchmark="+bench)
		})
	}
}

func nodeScanMatchesTheKubelet(t *testing.T, installArgs ...string) {
	ctx := context.Background()
	r := clustertest.Install(t, c, installArgs...)
	t.Cleanup(func() { _ = c.RestartKubelet(context.Background(), cluster.KubeletSetup{}) })

	dropIn := filepath.Join(c.KubeletDropInDir(), "50-overrides.conf")
	setups := []struct {
		name  string
		setup cluster.KubeletSetup
		// source per slug: "file", "drop-in", "flag"; anything else is the config file's.
		sources map[string]string
	}{
		{name: "config file only", setup: cluster.KubeletSetup{}},
		{name: "file and drop-in", setup: cluster.KubeletSetup{DropIns: map[string]map[string]any{
			"50-overrides.conf": {"readOnlyPort": 10255, "streamingConnectionIdleTimeout": "30m", "eventRecordQPS": 10, "makeIPTablesUtilChains": false},
		}}, sources: map[string]string{"read-only-port": "drop-in", "streaming-idle-timeout": "drop-in", "event-qps": "drop-in", "iptables-util-chains": "drop-in"}},
		{name: "flags over both", setup: cluster.KubeletSetup{
			DropIns: map[string]map[string]any{
				"50-overrides.conf": {"readOnlyPort": 10255, "streamingConnectionIdleTimeout": "30m", "eventRecordQPS": 10},
			},
			Flags: []string{"--read-only-port=0", "--event-qps=20", "--streaming-connection-idle-timeout=1h0m0s", "--make-iptables-util-chains=true"},
		}, sources: map[string]string{"read-only-port": "flag", "streaming-idle-timeout": "flag", "event-qps": "flag", "iptables-util-chains": "flag"}},
		// null in a later drop-in removes what an earlier one set (a JSON merge patch): the
		// kubelet runs with its default again.
		{name: "a drop-in's null", setup: cluster.KubeletSetup{DropIns: map[string]map[string]any{
			"40-overrides.conf": {"readOnlyPort": 10255, "eventRecordQPS": 10, "makeIPTablesUtilChains": false},
			"50-overrides.conf": {"readOnlyPort": nil, "eventRecordQPS": nil, "makeIPTablesUtilChains": nil},
		}}, sources: map[string]string{"read-only-port": "default", "event-qps": "default", "iptables-util-chains": "default"}},
	}
	var template *batchv1.Job
	for i, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			if i > 0 {
				require.NoError(t, c.RestartKubelet(ctx, s.setup))
			}
			raw, err := c.Configz(ctx)
			require.NoError(t, err)
			var configz struct {
				KubeletConfig map[string]any `json:"kubeletconfig"`
			}
			require.NoError(t, json.Unmarshal(raw, &configz))

			var rep nodeReport
			if i == 0 {
				// The chart's controller scans the node when it joins its view.
				template, rep = waitScheduledScan(t, r)
			} else {
				rep = rescan(t, r, template, fmt.Sprintf("rescan-%d", i))
			}
			bySlug := map[string]nodeResult{}
			for _, res := range rep.Results {
				bySlug[res.Slug] = res
			}
			compared := 0
			for _, set := range configzSettings {
				res, ok := bySlug[set.slug]
				if !ok {
					// Not a check of the benchmark the chart selects (e.g. protect-kernel-defaults
					// left section 3 after eks-1.5.0): no check reads it.
					continue
				}
				compared++
				assert.Equal(t, configzValue(t, configz.KubeletConfig, set), res.Actual, "%s [%s]: cisgate's value against /configz %v (%s)", set.slug, res.ID, set.field, res.Detail)
				switch s.sources[set.slug] {
				case "drop-in":
					assert.Equal(t, "drop-in "+dropIn+" key "+strings.Join(set.field, "."), res.Source, set.slug)
				case "flag":
					assert.Equal(t, "flag --"+set.flag, res.Source, set.slug)
				case "default":
					assert.Equal(t, "default", res.Source, set.slug)
					assert.Contains(t, res.Detail, "is null, which removes the value set before it", set.slug)
				default:
					assert.Equal(t, "file "+c.KubeletConfigPath()+" key "+strings.Join(set.field, "."), res.Source, set.slug)
				}
			}
			// eks-2.0.0's 3.2.8 reads two settings: serverTLSBootstrap (false unless set) and the
			// RotateKubeletServerCertificate gate (true unless set), each against /configz.
			if res, ok := bySlug["serving-cert-rotation"]; ok {
				compared++
				bootstrap := configzValue(t, configz.KubeletConfig, configzSetting{slug: "serving-cert-rotation", field: []string{"serverTLSBootstrap"}})
				gate := "true"
				if gates, _ := configz.KubeletConfig["featureGates"].(map[string]any); gates != nil {
					if v, ok := gates["RotateKubeletServerCertificate"].(bool); ok {
						gate = strconv.FormatBool(v)
					}
				}
				assert.Equal(t, "serverTLSBootstrap="+bootstrap+", RotateKubeletServerCertificate="+gate, res.Actual, "serving-cert-rotation [%s] against /configz (%s)", res.ID, res.Detail)
				assert.Contains(t, res.Source, "serverTLSBootstrap: ")
				assert.Contains(t, res.Source, "; RotateKubeletServerCertificate: ")
			}
			assert.GreaterOrEqual(t, compared, 7, "the settings section 3 reads were compared")
		})
	}
}

// waitScheduledScan waits for the controller's scan Job of the node and its report key.
func waitScheduledScan(t *testing.T, r *clustertest.Release) (*batchv1.Job, nodeReport) {
	t.Helper()
	ctx := context.Background()
	var job *batchv1.Job
	require.NoError(t, clustertest.WaitFor(ctx, 3*time.Minute, "the node-scan Job to finish", func() error {
		jobs, err := c.Clientset.BatchV1().Jobs(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=nodescan"})
		if err != nil {
			return err
		}
		for i := range jobs.Items {
			if finished(&jobs.Items[i]) {
				job = &jobs.Items[i]
				return nil
			}
		}
		return fmt.Errorf("%d Jobs, none finished", len(jobs.Items))
	}))
	rep, err := readNodeReport(ctx, r)
	require.NoError(t, err)
	return job, rep
}

func finished(j *batchv1.Job) bool {
	for _, cond := range j.Status.Conditions {
		if (cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed) && cond.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func readNodeReport(ctx context.Context, r *clustertest.Release) (nodeReport, error) {
	var rep nodeReport
	data, err := reportData(ctx, r)
	if err != nil {
		return rep, err
	}
	raw, ok := data["node."+cluster.NodeName+".json"]
	if !ok {
		return rep, fmt.Errorf("no node key in the report")
	}
	return rep, json.Unmarshal([]byte(raw), &rep)
}

// rescan runs the controller's scan Job again under another name (the same Pod template: the
// same image, mounts, host PID namespace and arguments) and returns the report it wrote. Its
// labels are not the scheduler's, so the scheduler leaves it alone.
func rescan(t *testing.T, r *clustertest.Release, template *batchv1.Job, name string) nodeReport {
	t.Helper()
	ctx := context.Background()
	before, err := readNodeReport(ctx, r)
	require.NoError(t, err)
	tmpl := *template.Spec.Template.DeepCopy()
	for _, k := range []string{"controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"} {
		delete(tmpl.Labels, k)
	}
	tmpl.Labels["app.kubernetes.io/component"] = "nodescan-rescan"
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: r.Namespace},
		Spec: batchv1.JobSpec{
			BackoffLimit:            ptr.To[int32](0),
			TTLSecondsAfterFinished: ptr.To[int32](600),
			Template:                tmpl,
		},
	}
	_, err = c.Clientset.BatchV1().Jobs(r.Namespace).Create(ctx, job, metav1.CreateOptions{})
	require.NoError(t, err)
	var rep nodeReport
	require.NoError(t, clustertest.WaitFor(ctx, 2*time.Minute, "Job "+name+" to write a new report", func() error {
		j, err := c.Clientset.BatchV1().Jobs(r.Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !finished(j) {
			return fmt.Errorf("Job %s not finished", name)
		}
		if rep, err = readNodeReport(ctx, r); err != nil {
			return err
		}
		// Report times are whole seconds: a scan in the same second as the last one shows the
		// same time, so the Job's completion is the barrier and the time a sanity check.
		if rep.Time.Before(before.Time) {
			return fmt.Errorf("report of %v is older than %v", rep.Time, before.Time)
		}
		return nil
	}))
	return rep
}

// Issue 13: the kubelet's files live outside the chart's known mounts (here, as on a customised
// AMI, a directory of their own: c.KubeletDir()). Without nodeScan.extraHostPaths the scan reads
// nothing: its Job fails, and the report and the Node's Event say "not scanned" with the path it
// could not reach and the value to set. The upgrade that adds the directory has the node scanned
// again at once (the last scan ran with another Pod spec), and decided by value.
func TestNodeScanOutsideTheMountsIsNotScanned(t *testing.T) {
	clustertest.Require(t, c)
	ctx := context.Background()
	// null drops the test values' entry (a later --set wins), leaving the chart's known mounts.
	r := clustertest.Install(t, c, "--set", "nodeScan.extraHostPaths=null")

	var rep nodeReport
	require.NoError(t, clustertest.WaitFor(ctx, 3*time.Minute, "the node to be reported not scanned", func() error {
		var err error
		if rep, err = readNodeReport(ctx, r); err != nil {
			return err
		}
		if rep.NotScanned == nil {
			return fmt.Errorf("scanned: %d results", len(rep.Results))
		}
		return nil
	}))
	assert.True(t, strings.HasPrefix(rep.NotScanned.Path, c.KubeletDir()+"/"), "the path it could not reach, under %s: %+v", c.KubeletDir(), rep.NotScanned)
	assert.Contains(t, rep.NotScanned.Hint, "nodeScan.extraHostPaths", "the value to set")

	require.NoError(t, clustertest.WaitFor(ctx, 2*time.Minute, "the scan Job to fail", func() error {
		jobs, err := c.Clientset.BatchV1().Jobs(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=nodescan"})
		if err != nil {
			return err
		}
		for _, j := range jobs.Items {
			for _, cond := range j.Status.Conditions {
				if cond.Type == batchv1.JobFailed && cond.Status == corev1.ConditionTrue {
					return nil
				}
				if cond.Type == batchv1.JobComplete && cond.Status == corev1.ConditionTrue {
					return fmt.Errorf("Job %s completed: a scan that read nothing succeeded", j.Name)
				}
			}
		}
		return fmt.Errorf("%d scan Jobs, none failed", len(jobs.Items))
	}))
	require.NoError(t, clustertest.WaitFor(ctx, time.Minute, "the Node's Event to say not scanned", func() error {
		evs, err := c.Clientset.EventsV1().Events(metav1.NamespaceDefault).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		var notes []string
		for _, e := range evs.Items {
			if e.Reason == "CISNodeScan" && e.Regarding.Kind == "Node" && e.Regarding.Name == cluster.NodeName {
				if strings.Contains(e.Note, "not scanned") && strings.Contains(e.Note, rep.NotScanned.Path) {
					return nil
				}
				notes = append(notes, e.Note)
			}
		}
		return fmt.Errorf("the Node's CISNodeScan Events: %q", notes)
	}))

	// The test values mount the kubelet's directory.
	r.Upgrade(t)
	require.NoError(t, clustertest.WaitFor(ctx, 3*time.Minute, "the node to be scanned", func() error {
		var err error
		if rep, err = readNodeReport(ctx, r); err != nil {
			return err
		}
		if rep.NotScanned != nil {
			return fmt.Errorf("not scanned: %+v", *rep.NotScanned)
		}
		return nil
	}))
	decided := 0
	for _, res := range rep.Results {
		if res.Status == "PASS" || res.Status == "FAIL" {
			decided++
		}
		if res.Slug == "read-only-port" {
			// The local kubelet's config file sets readOnlyPort: 0 (test/cluster), 3.2.4's PASS.
			assert.Equal(t, "PASS", res.Status, "%+v", res)
			assert.Equal(t, "file "+c.KubeletConfigPath()+" key readOnlyPort", res.Source)
		}
	}
	assert.GreaterOrEqual(t, decided, 7, "the settings were decided by value: %+v", rep.Results)

	// helm uninstall leaves no scan Job or Pod behind (issue 13): Helm never knew them, but they
	// are owned by the scan ServiceAccount it deletes, and the garbage collector follows. The
	// report ConfigMap stays, on purpose (docs/install.md).
	require.NoError(t, r.Uninstall(ctx))
	selector := metav1.ListOptions{LabelSelector: "app.kubernetes.io/component=nodescan"}
	require.NoError(t, clustertest.WaitFor(ctx, 2*time.Minute, "the scan Jobs and Pods to go with the release", func() error {
		jobs, err := c.Clientset.BatchV1().Jobs(r.Namespace).List(ctx, selector)
		if err != nil {
			return err
		}
		pods, err := c.Clientset.CoreV1().Pods(r.Namespace).List(ctx, selector)
		if err != nil {
			return err
		}
		if n := len(jobs.Items) + len(pods.Items); n > 0 {
			return fmt.Errorf("%d Jobs and %d Pods left", len(jobs.Items), len(pods.Items))
		}
		return nil
	}))
	_, err := reportData(ctx, r)
	assert.NoError(t, err, "the report ConfigMap outlives the release")
}
