package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/cisgate/cisgate/nodescan"
	"github.com/cisgate/cisgate/nodescan/nodescantest"
	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

const nodeFixtures = "../../../test/testdata/nodes"

// rootOwnedFixture copies a node fixture with every file 0644 and root-owned, as on a node.
func rootOwnedFixture(t *testing.T, name string) string {
	return nodescantest.CopyHost(t, filepath.Join(nodeFixtures, name), nil)
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

func TestNodeScanCommand(t *testing.T) {
	t.Setenv("NODE_NAME", "")
	tests := []struct {
		name     string
		fixture  string
		args     []string
		wantCode int
		check    func(t *testing.T, stdout string)
	}{
		{
			name: "compliant AL2 node as JSON", fixture: "al2", args: []string{"--node-name", "ip-10-0-1-1", "-o", "json"},
			wantCode: ExitOK,
			check: func(t *testing.T, stdout string) {
				var r report.Scan
				require.NoError(t, json.Unmarshal([]byte(stdout), &r))
				assert.Equal(t, policy.EKS200, r.Benchmark)
				assert.Equal(t, "ip-10-0-1-1", r.Node)
				assert.Equal(t, nodeIDs(t, policy.EKS200), resultIDs(r.Results), "every section 3 item, in catalogue order")
				for _, res := range r.Results {
					assert.Equal(t, policy.StatusPass, res.Status, res.Slug)
				}
			},
		},
		{
			name: "insecure flags fail", fixture: "flags-only-insecure", args: []string{"--node-name", "n1"},
			wantCode: ExitFindings,
			check: func(t *testing.T, stdout string) {
				assert.Contains(t, stdout, "3.2.4  FAIL    read-only-port")
				assert.Contains(t, stdout, "7 FAIL")
			},
		},
		{
			// A node whose kubelet nobody could find is not scanned: exit 3, never a pass with WARNs.
			name: "no kubelet is not scanned", fixture: "no-kubelet", args: []string{"--node-name", "n1", "--output", "junit"},
			wantCode: ExitNotScanned,
			check: func(t *testing.T, stdout string) {
				checks := len(nodeIDs(t, policy.EKS200))
				assert.Contains(t, stdout, fmt.Sprintf(`tests="%d" failures="1" skipped="%d"`, checks+1, checks), "every check skipped, and the node not scanned")
				assert.Contains(t, stdout, `name="node scanned"`)
			},
		},
		{
			name: "older benchmark numbering", fixture: "al2", args: []string{"--node-name", "n1", "--benchmark", "eks-1.2.0", "-o", "json"},
			wantCode: ExitOK,
			check: func(t *testing.T, stdout string) {
				var r report.Scan
				require.NoError(t, json.Unmarshal([]byte(stdout), &r))
				assert.Equal(t, nodeIDs(t, policy.EKS120), resultIDs(r.Results))
				assert.Equal(t, "3.2.6", resultOf(t, r.Results, "protect-kernel-defaults").ID, "the benchmark's own numbering")
			},
		},
		{
			name: "node name from $NODE_NAME via env", fixture: "wrong-perms", args: []string{"-o", "json"},
			wantCode: ExitOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := rootOwnedFixture(t, tt.fixture)
			if tt.fixture == "wrong-perms" {
				t.Setenv("NODE_NAME", "from-env")
			}
			code, stdout, stderr := runCLI(t, append([]string{"nodescan", "--host-root", root}, tt.args...)...)
			assert.Equal(t, tt.wantCode, code, stderr)
			if tt.check != nil {
				tt.check(t, stdout)
			}
			if tt.fixture == "wrong-perms" {
				assert.Contains(t, stdout, `"node": "from-env"`)
			}
		})
	}
}

func TestNodeScanUsageErrors(t *testing.T) {
	t.Setenv("NODE_NAME", "")
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no host root", []string{"--node-name", "n"}, "--host-root is required"},
		{"host root missing", []string{"--host-root", filepath.Join(dir, "absent"), "--node-name", "n"}, "--host-root"},
		{"host root is a file", []string{"--host-root", file, "--node-name", "n"}, "is not a directory"},
		{"proc root missing", []string{"--host-root", dir, "--proc-root", filepath.Join(dir, "absent"), "--node-name", "n"}, "--proc-root"},
		{"no node name", []string{"--host-root", dir}, "--node-name is required"},
		{"bad benchmark", []string{"--host-root", dir, "--node-name", "n", "--benchmark", "eks-9"}, "unknown benchmark"},
		{"bad output", []string{"--host-root", dir, "--node-name", "n", "-o", "yaml"}, `--output must be one of table, json, junit, sarif, got "yaml"`},
		{"unknown flag", []string{"--host-root", dir, "--node-name", "n", "--bogus"}, "unknown flag"},
		{"positional argument", []string{"--host-root", dir, "--node-name", "n", "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, append([]string{"nodescan"}, tt.args...)...)
			assert.Equal(t, ExitUsage, code)
			assert.Contains(t, stderr, tt.wantErr)
		})
	}
}

// nodeIDs are the IDs of the benchmark's section 3 items, in catalogue order: what a scan reports.
func nodeIDs(t *testing.T, b policy.Benchmark) []string {
	t.Helper()
	cat, err := policy.CatalogueFor(b)
	require.NoError(t, err)
	var ids []string
	for _, e := range cat.Entries() {
		if e.Section == policy.SectionNode {
			ids = append(ids, e.ID)
		}
	}
	require.NotEmpty(t, ids)
	return ids
}

func resultIDs(results []output.EvidenceResult) []string {
	ids := make([]string, len(results))
	for i, r := range results {
		ids[i] = r.ID
	}
	return ids
}

func resultOf(t *testing.T, results []output.EvidenceResult, slug policy.Slug) output.EvidenceResult {
	t.Helper()
	for _, r := range results {
		if r.Slug == slug {
			return r
		}
	}
	t.Fatalf("no result for %s", slug)
	return output.EvidenceResult{}
}

// scanAndReport runs nodescan --report on the host root as node, reporting to namespace of the
// fake cluster, and returns the exit code and what the command printed.
func scanAndReport(t *testing.T, client kubernetes.Interface, root, node, namespace string) (code int, out string) {
	t.Helper()
	publisher, err := newNodeScanPublisherFor(client, nil, namespace)
	require.NoError(t, err)
	o := NewNodeScanOptions()
	o.HostRoot, o.NodeName, o.Report, o.Namespace = root, node, true, namespace
	o.newPublisher = func(*NodeScanOptions) (ScanPublisher, error) { return publisher, nil }
	var buf bytes.Buffer
	err = o.Run(t.Context(), IOStreams{Out: &buf})
	var exit *ExitError
	require.ErrorAs(t, err, &exit)
	return exit.Code, buf.String()
}

// fakePublisher records what --report would publish.
type fakePublisher struct{ got []report.Scan }

func (f *fakePublisher) Publish(_ context.Context, scan report.Scan) error {
	f.got = append(f.got, scan)
	return nil
}

func TestNodeScanReport(t *testing.T) {
	root := rootOwnedFixture(t, "flags-only-insecure")
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	fake := &fakePublisher{}
	o := NewNodeScanOptions()
	o.HostRoot, o.NodeName, o.Report, o.Output = root, "ip-10-0-1-1", true, "json"
	o.newPublisher = func(*NodeScanOptions) (ScanPublisher, error) { return fake, nil }
	o.now = func() time.Time { return at }
	require.Empty(t, o.Validate())

	var out bytes.Buffer
	err := o.Run(context.Background(), IOStreams{Out: &out})
	var exit *ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, ExitFindings, exit.Code)
	require.Len(t, fake.got, 1)
	scan := fake.got[0]
	assert.Equal(t, "ip-10-0-1-1", scan.Node)
	assert.Equal(t, at, scan.Time)
	assert.Equal(t, nodeIDs(t, policy.EKS200), resultIDs(scan.Results))
}

func TestNodeScanPublisher(t *testing.T) {
	root := rootOwnedFixture(t, "flags-only-insecure")
	const node, namespace = "ip-10-0-1-1", "cisgate-system"
	client := fake.NewClientset(
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node, UID: "uid-1"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "ip-10-0-1-2"}},
	)
	code, _ := scanAndReport(t, client, root, node, namespace)
	assert.Equal(t, ExitFindings, code)

	cm, err := client.CoreV1().ConfigMaps(namespace).Get(t.Context(), report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	var payload report.NodeReport
	require.NoError(t, json.Unmarshal([]byte(cm.Data["node."+node+".json"]), &payload))
	assert.Equal(t, 1, payload.SchemaVersion)
	assert.Equal(t, node, payload.Node)
	assert.Equal(t, policy.EKS200, payload.Benchmark)
	assert.Equal(t, 7, payload.Counts[policy.StatusFail])
	assert.Equal(t, nodeIDs(t, policy.EKS200), resultIDs(payload.Results), "two nodes share the budget: everything fits")

	events, err := client.EventsV1().Events(metav1.NamespaceDefault).List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, events.Items, 1)
	ev := events.Items[0]
	assert.Equal(t, "CISNodeScan", ev.Reason)
	assert.Equal(t, corev1.EventTypeWarning, ev.Type)
	assert.Equal(t, "Node", ev.Regarding.Kind)
	assert.Equal(t, node, ev.Regarding.Name)
	assert.Equal(t, types.UID("uid-1"), ev.Regarding.UID)
	assert.Contains(t, ev.Note, "eks-2.0.0 section 3: 7 FAIL, 2 WARN, 3 PASS; details in ConfigMap cisgate-report key node.ip-10-0-1-1.json; FAIL [3.2.1] anonymous-auth (true, flag --anonymous-auth)")
}

// TestNodeScanPublisherNotScanned: the Event and node.<node>.json say "not scanned" with the
// path the scan could not reach and the chart value to set; the command exits 3, the code the
// scan Job's pod failure policy fails the Job on.
func TestNodeScanPublisherNotScanned(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "proc", "10"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "proc", "10", "cmdline"),
		[]byte("/usr/bin/kubelet\x00--config\x00/opt/kubelet/config.yaml\x00"), 0o644))
	const node, namespace = "ip-10-0-1-1", "cisgate-system"
	client := fake.NewClientset(&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: node, UID: "uid-1"}})
	code, out := scanAndReport(t, client, root, node, namespace)
	assert.Equal(t, ExitNotScanned, code)
	assert.Equal(t, nodescan.ExitNotScanned, code)
	assert.Contains(t, out, "not scanned: cannot read the kubelet configuration: open /opt/kubelet/config.yaml: no such file or directory")

	cm, err := client.CoreV1().ConfigMaps(namespace).Get(t.Context(), report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	var payload report.NodeReport
	require.NoError(t, json.Unmarshal([]byte(cm.Data["node."+node+".json"]), &payload))
	require.NotNil(t, payload.NotScanned)
	assert.Equal(t, "/opt/kubelet/config.yaml", payload.NotScanned.Path)
	assert.Equal(t, "mount /opt/kubelet into the scan (Helm value nodeScan.extraHostPaths)", payload.NotScanned.Hint)

	events, err := client.EventsV1().Events(metav1.NamespaceDefault).List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, events.Items, 1)
	assert.Equal(t, corev1.EventTypeWarning, events.Items[0].Type)
	assert.Equal(t, "eks-2.0.0 section 3: not scanned: cannot read the kubelet configuration: open /opt/kubelet/config.yaml: "+
		"no such file or directory; mount /opt/kubelet into the scan (Helm value nodeScan.extraHostPaths); "+
		"details in ConfigMap cisgate-report key node.ip-10-0-1-1.json", events.Items[0].Note)
}

func TestNodeScanPublisherUnknownNode(t *testing.T) {
	client := fake.NewClientset()
	publisher, err := newNodeScanPublisherFor(client, nil, "ns")
	require.NoError(t, err)
	err = publisher.Publish(t.Context(), report.Scan{Benchmark: policy.EKS200, Node: "gone", Time: time.Now()})
	require.ErrorContains(t, err, "the Event needs the Node")
	// The key is written even so.
	cm, err := client.CoreV1().ConfigMaps("ns").Get(t.Context(), report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Contains(t, cm.Data, "node.gone.json")
}
