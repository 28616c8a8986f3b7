package app

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
)

// liveCluster has a privileged Pod in a namespace without a NetworkPolicy.
func liveCluster() *fake.Clientset {
	return fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "web"}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "app:1", SecurityContext: &corev1.SecurityContext{Privileged: ptr.To(true)}}},
		}},
	)
}

// jsonReport is the `check` JSON shape as a script reads it.
type jsonReport struct {
	Benchmark string `json:"benchmark"`
	Findings  []struct {
		ID     string         `json:"id"`
		Slug   string         `json:"slug"`
		Status string         `json:"status"`
		Mode   string         `json:"mode"`
		Object map[string]any `json:"object"`
		Path   string         `json:"path"`
		Detail string         `json:"detail"`
	} `json:"findings"`
}

func TestAuditPrintsTheCheckJSONShape(t *testing.T) {
	o := NewAuditOptions()
	pol, err := o.policy()
	require.NoError(t, err)
	var out bytes.Buffer
	err = o.audit(t.Context(), liveCluster(), pol, output.FormatJSON, IOStreams{Out: &out})

	var exit *ExitError
	require.ErrorAs(t, err, &exit, "without --config every check is enforced")
	assert.Equal(t, ExitFindings, exit.Code)
	var got jsonReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &got), out.String())
	assert.Equal(t, "eks-2.0.0", got.Benchmark)
	objects := map[string][]map[string]any{}
	for _, f := range got.Findings {
		objects[f.ID] = append(objects[f.ID], f.Object)
		if f.ID == "4.2.1" {
			assert.Equal(t, "FAIL", f.Status)
			assert.Equal(t, "enforce", f.Mode)
			assert.Equal(t, "spec.containers[0].securityContext.privileged", f.Path)
		}
	}
	assert.Equal(t, []map[string]any{{"kind": "Pod", "namespace": "shop", "name": "web"}}, objects["4.2.1"], "the live object, no file")
	// eks-2.0.0's 4.3.2 is manual and its 4.3.1 is decided through the AWS API: both on the
	// cluster, and no per-namespace NetworkPolicy check runs unless a config keeps it.
	assert.Equal(t, []map[string]any{{"kind": "Cluster", "name": ""}}, objects["4.3.2"], "a manual item")
	assert.Equal(t, []map[string]any{{"kind": "Cluster", "name": ""}}, objects["4.3.1"], "an AWS API item")
	assert.NotContains(t, objects, "namespace-network-policy")
}

func TestAuditInAuditModeExitsZero(t *testing.T) {
	o := NewAuditOptions()
	pol, err := policy.ParseConfig([]byte("mode: audit"))
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, o.audit(t.Context(), liveCluster(), pol, output.FormatTable, IOStreams{Out: &out}))
	assert.Contains(t, out.String(), "4.2.1")
	assert.Contains(t, out.String(), "Pod shop/web")
	assert.Contains(t, out.String(), "eks-2.0.0: 2 objects checked")
}

func TestAuditUsageErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"output":     {[]string{"audit", "--output", "sarif"}, `--output must be one of table, json, junit, got "sarif"`},
		"benchmark":  {[]string{"audit", "--benchmark", "eks-9"}, "--benchmark: unknown benchmark"},
		"page size":  {[]string{"audit", "--page-size", "0"}, "--page-size must be at least 1"},
		"kubeconfig": {[]string{"audit", "--kubeconfig", filepath.Join(t.TempDir(), "absent")}, "--kubeconfig:"},
		"config":     {[]string{"audit", "--config", filepath.Join(t.TempDir(), "absent.yaml")}, "absent.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), tc.args, IOStreams{Out: &stdout, ErrOut: &stderr})
			assert.Equal(t, ExitUsage, code)
			assert.Contains(t, stderr.String(), tc.want)
			assert.Empty(t, stdout.String())
		})
	}
}

// TestAuditBenchmarkRebasesConfigIDs (#9 item 9): audit --benchmark carries the config's IDs to
// that version by slug, as check does. 4.5.2 is default-namespace in eks-1.8.0 and
// security-context in eks-1.5.0 (where default-namespace is 4.5.3): resolved against eks-1.5.0,
// the config's "4.5.2": off would switch off the other check.
func TestAuditBenchmarkRebasesConfigIDs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
		return path
	}
	// A Pod in default without a seccomp profile: default-namespace and security-context fail.
	cluster := fake.NewClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web"}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: "app:1"}},
		}},
	)
	o := NewAuditOptions()
	o.ConfigFile = write("config.yaml", "benchmark: eks-1.8.0\nmode: audit\nchecks: {\"4.5.2\": \"off\"}\n")
	o.Benchmark = "eks-1.5.0"
	pol, err := o.policy()
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, o.audit(t.Context(), cluster, pol, output.FormatJSON, IOStreams{Out: &out}))
	var got jsonReport
	require.NoError(t, json.Unmarshal(out.Bytes(), &got), out.String())
	assert.Equal(t, "eks-1.5.0", got.Benchmark)
	slugs := map[string]string{}
	for _, f := range got.Findings {
		if f.Object["kind"] == "Pod" {
			slugs[f.Slug] = f.ID
		}
	}
	assert.NotContains(t, slugs, "default-namespace", "the check the config switched off, whatever its ID")
	assert.Equal(t, "4.5.2", slugs["security-context"], "eks-1.5.0's 4.5.2 is another check, still on")

	// An item the other version lacks, and that is no object check a config could keep there,
	// cannot be carried: exit 2, naming the key, before any cluster is reached.
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), []string{"audit", "--benchmark", "eks-1.5.0", "--kubeconfig", filepath.Join(dir, "absent"),
		"--config", write("newer.yaml", "benchmark: eks-1.8.0\nexemptions: {rules: [{checks: [\"2.1.2\"], reason: r}]}\n")}, IOStreams{Out: &stdout, ErrOut: &stderr})
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, stderr.String(), `exemptions.rules[0].checks[0]: Invalid value: "2.1.2": check 2.1.2 (audit-log-collection) of benchmark eks-1.8.0 is not in benchmark eks-1.5.0`)
	assert.Empty(t, stdout.String())
}
