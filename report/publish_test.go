package report_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/cisgate/cisgate/output"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

const namespace = "cisgate-system"

// recordingSink is a sink that records what it was sent and fails when told to.
type recordingSink struct {
	got  *[]string
	name string
	err  error
}

func (s recordingSink) Publish(_ context.Context, scan report.Scan, _ *report.Subject) error {
	*s.got = append(*s.got, s.name+" "+scan.Node)
	return s.err
}

// The cloud scan lands in cloud.json within its share and in a CISCloudScan Event on the report
// ConfigMap, a Warning that points to the key before it lists the failures and AWS's errors.
func TestPublishCloudScan(t *testing.T) {
	client := fake.NewClientset()
	events, err := report.NewEventSink(client, report.ReportingController)
	require.NoError(t, err)
	p := report.NewPublisher(client, namespace, report.KeySink{Client: client, Namespace: namespace}, report.ScanEvents{Events: events})
	scan := report.Scan{Benchmark: policy.EKS180, Time: time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC),
		CloudCluster: &report.CloudCluster{Cluster: "prod", Region: "us-east-1", Errors: []string{"kms:DescribeKey: AccessDenied"}},
		Results: []output.EvidenceResult{
			{ID: "2.1.1", Slug: "control-plane-logging", Status: policy.StatusFail, Actual: "enabled: api"},
			{ID: "5.3.1", Slug: "secrets-kms-encryption", Status: policy.StatusWarn, Actual: "unknown"},
		}}
	require.NoError(t, p.Publish(t.Context(), scan))

	cm, err := client.CoreV1().ConfigMaps(namespace).Get(t.Context(), report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	var got report.CloudReport
	require.NoError(t, json.Unmarshal([]byte(cm.Data[report.CloudKey().Name]), &got))
	assert.Equal(t, "prod", got.Cluster)
	assert.Equal(t, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), got.Time, "whole seconds")
	assert.Equal(t, map[policy.Status]int{policy.StatusFail: 1, policy.StatusWarn: 1}, got.Counts)

	list, err := client.EventsV1().Events(namespace).List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)
	ev := list.Items[0]
	assert.Equal(t, "CISCloudScan", ev.Reason)
	assert.Equal(t, corev1.EventTypeWarning, ev.Type)
	assert.Equal(t, "ConfigMap", ev.Regarding.Kind)
	assert.Equal(t, report.ConfigMapName, ev.Regarding.Name)
	assert.Equal(t, "eks-1.8.0 cloud scan of EKS cluster prod (us-east-1): 1 FAIL, 1 WARN, 0 PASS; details in ConfigMap cisgate-report key cloud.json; "+
		"FAIL [2.1.1] control-plane-logging (enabled: api); error: kms:DescribeKey: AccessDenied", ev.Note)
}

// A failing sink does not stop the ones after it, and a Node that cannot be found fails every
// sink that needs it with one error, not one per sink.
func TestPublishGoesOnPastFailures(t *testing.T) {
	client := fake.NewClientset()
	events, err := report.NewEventSink(client, report.ReportingController)
	require.NoError(t, err)
	var got []string
	p := report.NewPublisher(client, namespace,
		recordingSink{got: &got, name: "first", err: errors.New("first sink down")},
		report.KeySink{Client: client, Namespace: namespace},
		report.ScanEvents{Events: events},
		report.ScanEvents{Events: events},
		recordingSink{got: &got, name: "last"})
	err = p.Publish(t.Context(), report.Scan{Benchmark: policy.EKS200, Node: "gone", Time: time.Now()})
	require.ErrorContains(t, err, "first sink down")
	assert.Equal(t, 1, strings.Count(err.Error(), "the Event needs the Node"), err.Error())
	assert.Equal(t, []string{"first gone", "last gone"}, got)
	cm, err := client.CoreV1().ConfigMaps(namespace).Get(t.Context(), report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	assert.Contains(t, cm.Data, "node.gone.json", "the key does not need the Node")
}
