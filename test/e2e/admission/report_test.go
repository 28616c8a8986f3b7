package admission

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/webhook"
)

// TestTwoReplicasShareTheReportConfigMap runs two replicas' recorders and writers against the
// same ConfigMap at once, next to the serving replica's own key: no key and no count is lost.
func TestTwoReplicasShareTheReportConfigMap(t *testing.T) {
	serve(t)
	const perReplica = 300
	pol, err := policy.ParseConfig([]byte("mode: enforce"))
	require.NoError(t, err)
	pod := policy.NewObject("Pod", privilegedPod("shop", "x"))
	decision := webhook.Decide(pol, webhook.Request{Operation: policy.OperationCreate, Object: pod}, nil)
	require.False(t, decision.Allowed)

	ctx, cancel := context.WithCancel(context.Background())
	var running, recording sync.WaitGroup
	for _, name := range []string{"replica-a", "replica-b"} {
		writer, err := report.NewWriter(env.Clientset, cisgateNamespace, report.AdmissionKey(name),
			report.SplitBudget(report.AdmissionShare, 4), report.WithWriteInterval(50*time.Millisecond))
		require.NoError(t, err)
		rec := webhook.NewReportRecorder(name, nil, writer)
		running.Add(1)
		go func() { defer running.Done(); _ = rec.Start(ctx) }() // and with it the writer
		recording.Add(1)
		go func() {
			defer recording.Done()
			for range perReplica {
				rec.Record(webhook.Record{Time: time.Now(), Benchmark: policy.EKS180, Operation: admissionv1.Create, Object: pod, Decision: decision})
				time.Sleep(time.Millisecond) // spread over many write intervals
			}
		}()
	}
	recording.Wait()
	cancel()
	running.Wait() // each recorder hands over its last counts, then its writer flushes them

	cm, err := env.Clientset.CoreV1().ConfigMaps(cisgateNamespace).Get(context.Background(), report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	for _, name := range []string{"replica-a", "replica-b"} {
		data, ok := cm.Data[report.AdmissionKey(name).Name]
		require.True(t, ok, "key of %s kept", name)
		var r webhook.AdmissionReport
		require.NoError(t, json.Unmarshal([]byte(data), &r))
		assert.Equal(t, perReplica, r.Checks["4.2.1"].Deny, "%s lost no count", name)
	}
	assert.Contains(t, cm.Data, report.AdmissionKey(replica).Name, "the serving replica's key is still there")
	assertOwnFieldManagers(t, cm)
}

// assertOwnFieldManagers checks that each key is owned by its own server-side apply manager.
func assertOwnFieldManagers(t *testing.T, cm *corev1.ConfigMap) {
	t.Helper()
	managers := map[string]bool{}
	for _, mf := range cm.ManagedFields {
		managers[mf.Manager] = true
	}
	for _, name := range []string{"replica-a", "replica-b"} {
		assert.True(t, managers[report.AdmissionKey(name).FieldManager], "field manager of %s", name)
	}
}
