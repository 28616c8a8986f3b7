package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cisgate/cisgate/admission"
	"github.com/cisgate/cisgate/controller"
	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
	"github.com/cisgate/cisgate/test/e2e/framework"
)

// TestTwoReplicasShareTheReportConfigMap runs two replicas' recorders and writers against the
// same ConfigMap at once, next to the serving replica's own key: no key and no count is lost.
func TestTwoReplicasShareTheReportConfigMap(t *testing.T) {
	serve(t)
	const perReplica = 300
	pol, err := policy.ParseConfig([]byte("mode: enforce"))
	require.NoError(t, err)
	pod := policy.NewObject("Pod", privilegedPod("shop", "x"))
	decision := admission.Decide(pol, admission.Request{Operation: policy.OperationCreate, Object: pod}, nil)
	require.False(t, decision.Allowed)

	ctx, cancel := context.WithCancel(context.Background())
	var running, recording sync.WaitGroup
	for _, name := range []string{"replica-a", "replica-b"} {
		writer, err := report.NewWriter(env.Clientset, cisgateNamespace, report.AdmissionKey(name),
			report.SplitBudget(report.AdmissionShare, 4), report.WithWriteInterval(50*time.Millisecond))
		require.NoError(t, err)
		rec := admission.NewReportRecorder(name, nil, writer)
		running.Add(1)
		go func() { defer running.Done(); _ = rec.Start(ctx) }() // and with it the writer
		recording.Add(1)
		go func() {
			defer recording.Done()
			for range perReplica {
				rec.Record(admission.Record{Time: time.Now(), Benchmark: policy.EKS180, Operation: admissionv1.Create, Object: pod, Decision: decision})
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
		var r report.AdmissionReport
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

// TestSummaryCarriesDenialsPromptly: after a denial, summary.json (written by the leader) counts it
// per check and in its total before its interval comes round: the leader refreshes the summary
// when a replica's report key changes (issue: the summary lagged and showed no denials).
func TestSummaryCarriesDenialsPromptly(t *testing.T) {
	serve(t)
	ns := prepareNamespace(t, "summary", "")
	before := summary(t)
	_, err := env.Clientset.CoreV1().Pods(ns).Create(context.Background(), privilegedPod(ns, "priv"), metav1.CreateOptions{})
	requireDenied(t, err, "[4.2.1]")
	// Well within one summary interval (summaryInterval, 10m, so its tick plays no part): the
	// replica writes its key within --report-interval and the leader follows the key.
	framework.WaitFor(t, 30*time.Second, "summary.json to count the denial", func() error {
		after := summary(t)
		if after.Denials <= before.Denials {
			return fmt.Errorf("denials %d, want more than %d", after.Denials, before.Denials)
		}
		if got, was := admissionDeny(after, "4.2.1"), admissionDeny(before, "4.2.1"); got <= was {
			return fmt.Errorf("4.2.1 admission deny %d, want more than %d", got, was)
		}
		return nil
	})
}

// summary reads summary.json (empty before the first one).
func summary(t *testing.T) controller.Summary {
	t.Helper()
	var s controller.Summary
	cm, err := env.Clientset.CoreV1().ConfigMaps(cisgateNamespace).Get(context.Background(), report.ConfigMapName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return s
	}
	require.NoError(t, err)
	if data, ok := cm.Data[report.SummaryKey().Name]; ok {
		require.NoError(t, json.Unmarshal([]byte(data), &s))
	}
	return s
}

func admissionDeny(s controller.Summary, id string) int {
	if c := s.Checks[id]; c != nil && c.Admission != nil {
		return c.Admission.Deny
	}
	return 0
}
