package nodescan

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/cisgate/cisgate/cmd/cisgate/app"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

// scanResults is what the tests read of the nodescan JSON, on stdout and in the report key.
type scanResults struct {
	SchemaVersion int    `json:"schemaVersion"`
	Node          string `json:"node"`
	Benchmark     string `json:"benchmark"`
	Results       []struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Source string `json:"source"`
	} `json:"results"`
}

func (r scanResults) statuses() map[string]string {
	m := map[string]string{}
	for _, res := range r.Results {
		m[res.ID] = res.Status
	}
	return m
}

// sectionThreeIDs are eks-2.0.0's, the default benchmark's (kube-bench cfg/eks-2.0.0/node.yaml).
var sectionThreeIDs = []string{"3.1.1", "3.1.2", "3.1.3", "3.1.4", "3.2.1", "3.2.2", "3.2.3", "3.2.4", "3.2.5", "3.2.6", "3.2.7", "3.2.8"}

// TestNodeScanReport runs `cisgate nodescan --report` as the scan Job does, on fixture hosts, and
// checks what a user finds in the cluster: the CISNodeScan Event on the Node and the node's key in
// the report ConfigMap, with the same results as the command printed.
func TestNodeScanReport(t *testing.T) {
	framework.Require(t, env)
	cases := []struct {
		fixture   string
		wantCode  int
		wantType  string
		wantNotes []string
		wantFail  []string
	}{
		{fixture: "al2", wantCode: app.ExitOK, wantType: corev1.EventTypeNormal,
			wantNotes: []string{"eks-2.0.0 section 3: 0 FAIL, 0 WARN, 12 PASS"}},
		{fixture: "flags-only-insecure", wantCode: app.ExitFindings, wantType: corev1.EventTypeWarning,
			wantNotes: []string{"eks-2.0.0 section 3: 7 FAIL, 2 WARN, 3 PASS", "FAIL [3.2.1] anonymous-auth (true, "},
			wantFail:  []string{"3.2.1", "3.2.2", "3.2.3", "3.2.4", "3.2.5", "3.2.7", "3.2.8"}},
	}
	for _, c := range cases {
		t.Run(c.fixture, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			ns := env.Namespace(t, "cisgate")
			node := createNode(t, uniqueName(c.fixture))
			var stdout, stderr bytes.Buffer
			code := app.Run(ctx, []string{"nodescan", "--host-root", hostFixture(t, c.fixture), "--node-name", node.Name,
				"--report", "--kubeconfig", env.KubeConfig, "--namespace", ns, "-o", "json"},
				app.IOStreams{Out: &stdout, ErrOut: &stderr})
			require.Equal(t, c.wantCode, code, "stderr: %s", stderr.String())

			var printed scanResults
			require.NoError(t, json.Unmarshal(stdout.Bytes(), &printed), stdout.String())
			assert.Equal(t, node.Name, printed.Node)
			assert.ElementsMatch(t, sectionThreeIDs, keys(printed.statuses()))
			for _, id := range c.wantFail {
				assert.Equal(t, "FAIL", printed.statuses()[id], id)
			}

			// The report key: the same results, with their sources.
			key := report.NodeKey(node.Name)
			assert.Equal(t, "node."+node.Name+".json", key.Name)
			cm, err := env.Clientset.CoreV1().ConfigMaps(ns).Get(ctx, report.ConfigMapName, metav1.GetOptions{})
			require.NoError(t, err)
			require.Contains(t, cm.Data, key.Name)
			var stored scanResults
			require.NoError(t, json.Unmarshal([]byte(cm.Data[key.Name]), &stored))
			assert.Equal(t, 1, stored.SchemaVersion)
			assert.Equal(t, node.Name, stored.Node)
			assert.Equal(t, "eks-2.0.0", stored.Benchmark)
			assert.Equal(t, printed.statuses(), stored.statuses())
			for _, res := range stored.Results {
				if res.Status != "WARN" { // a WARN may be about a value that was not found
					assert.NotEmpty(t, res.Source, "result %s names its source", res.ID)
				}
			}

			// The Event on the Node, as `kubectl describe node` shows it.
			var ev eventsv1.Event
			framework.WaitFor(t, 30*time.Second, "the CISNodeScan Event on node "+node.Name, func() error {
				evs, err := env.Clientset.EventsV1().Events(metav1.NamespaceAll).List(ctx, metav1.ListOptions{
					FieldSelector: fields.AndSelectors(
						fields.OneTermEqualSelector("regarding.name", node.Name),
						fields.OneTermEqualSelector("reason", string(report.ReasonNodeScan)),
					).String(),
				})
				if err != nil {
					return err
				}
				if len(evs.Items) != 1 {
					return fmt.Errorf("want exactly one Event, got %d", len(evs.Items))
				}
				ev = evs.Items[0]
				return nil
			})
			assert.Equal(t, "Node", ev.Regarding.Kind)
			assert.Equal(t, node.UID, ev.Regarding.UID)
			assert.Equal(t, c.wantType, ev.Type)
			assert.Contains(t, ev.Note, "details in ConfigMap "+report.ConfigMapName+" key "+key.Name)
			for _, want := range c.wantNotes {
				assert.Contains(t, ev.Note, want)
			}
		})
	}
}

func keys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
