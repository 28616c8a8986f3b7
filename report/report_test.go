package report

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const testNamespace = "cisgate-system"

// testReport is a payload as a caller would write one.
type testReport struct {
	Header
	Total    int      `json:"total"`
	Findings []string `json:"findings"`
}

// Summarise keeps the total and as many findings as fit.
func (r testReport) Summarise(budget int) Payload {
	r.Truncated = true
	for len(r.Findings) > 0 {
		data, _ := json.Marshal(r)
		if len(data) <= budget {
			break
		}
		r.Findings = r.Findings[:len(r.Findings)/2]
	}
	return r
}

// plainReport cannot summarise itself.
type plainReport struct {
	Header
	Blob string `json:"blob"`
}

func newTestReport(total int) testReport {
	r := testReport{Header: NewHeader(), Total: total}
	for i := range total {
		r.Findings = append(r.Findings, strings.Repeat("x", 10)+string(rune('a'+i%26)))
	}
	return r
}

func pod(namespace, name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, UID: types.UID("uid-" + name)}}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// discardContext carries a logger that is safe after the test ends (the broadcaster's goroutines
// may still log then, which testr does not allow).
func discardContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), logr.Discard()))
	t.Cleanup(cancel)
	return ctx
}

func TestEmitNeverBlocksAndCountsDrops(t *testing.T) {
	sink, err := NewEventSink(fake.NewClientset(), "cisgate.io/test", WithEventQueueSize(4))
	require.NoError(t, err)
	dropped := droppedTotal.WithLabelValues(sinkEvents)
	before := counterValue(dropped)

	// Nothing consumes the queue (Start is not running): every Emit past the fourth must drop at once.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			assert.NoError(t, sink.Emit(pod("ns", "p"), EventWarning, ReasonDenied, ActionAdmission, "denied"))
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Emit blocked on a full queue")
	}
	assert.Equal(t, 996.0, counterValue(dropped)-before)
}

func TestEmitRejectsWhatTheAPIServerWould(t *testing.T) {
	sink, err := NewEventSink(fake.NewClientset(), "cisgate.io/test")
	require.NoError(t, err)
	tests := []struct {
		name      string
		regarding runtime.Object
		eventType EventType
		reason    Reason
		action    Action
	}{
		{"no object", nil, EventWarning, ReasonDenied, ActionAdmission},
		{"bad type", pod("ns", "p"), EventType("Error"), ReasonDenied, ActionAdmission},
		{"no reason", pod("ns", "p"), EventWarning, "", ActionAdmission},
		{"no action", pod("ns", "p"), EventWarning, ReasonDenied, ""},
		{"reason too long", pod("ns", "p"), EventWarning, Reason(strings.Repeat("R", 129)), ActionAdmission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := counterValue(rejectedTotal.WithLabelValues(sinkEvents))
			assert.Error(t, sink.Emit(tt.regarding, tt.eventType, tt.reason, tt.action, "note"))
			// Callers that must not stop for it ignore the error: the sink counts it (and logs it).
			assert.Equal(t, before+1, counterValue(rejectedTotal.WithLabelValues(sinkEvents)))
		})
	}

	_, err = NewEventSink(fake.NewClientset(), "not a qualified name")
	assert.Error(t, err)
	_, err = NewEventSink(fake.NewClientset(), "cisgate.io/test", WithEventQueueSize(0))
	assert.Error(t, err)
}

func TestTruncateNote(t *testing.T) {
	assert.Equal(t, "short", truncateNote("short"))
	exact := strings.Repeat("a", MaxNoteBytes)
	assert.Equal(t, exact, truncateNote(exact))

	// Every alignment of 3- and 4-byte runes against the cut.
	for _, r := range []string{"é", "日", "🔒"} {
		for pad := range 4 {
			note := strings.Repeat("a", pad) + strings.Repeat(r, 2*MaxNoteBytes/len(r))
			got := truncateNote(note)
			assert.LessOrEqual(t, len(got), MaxNoteBytes)
			assert.True(t, utf8.ValidString(got), "rune %q pad %d", r, pad)
			assert.True(t, strings.HasSuffix(got, noteEllipsis))
			assert.True(t, strings.HasPrefix(note, strings.TrimSuffix(got, noteEllipsis)))
			assert.Greater(t, len(got), MaxNoteBytes-utf8.UTFMax-len(noteEllipsis))
		}
	}
}

// waitForEvents polls the API server, fake or real, until cond holds for the Events in namespace.
func waitForEvents(t *testing.T, client kubernetes.Interface, namespace string, cond func([]eventsv1.Event) bool) []eventsv1.Event {
	t.Helper()
	var items []eventsv1.Event
	require.Eventually(t, func() bool {
		list, err := client.EventsV1().Events(namespace).List(t.Context(), metav1.ListOptions{})
		if err != nil {
			return false
		}
		items = list.Items
		return cond(items)
	}, 30*time.Second, 10*time.Millisecond)
	return items
}

func TestEventSinkRecordsEvents(t *testing.T) {
	client := fake.NewClientset()
	sink, err := NewEventSink(client, "cisgate.io/webhook")
	require.NoError(t, err)
	ctx := discardContext(t)
	go func() { assert.NoError(t, sink.Start(ctx)) }()

	long := strings.Repeat("日", MaxNoteBytes)
	require.NoError(t, sink.Emit(pod("team-a", "web"), EventWarning, ReasonDenied, ActionAdmission, long))
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "ip-10-0-1-1"}}
	require.NoError(t, sink.Emit(node, EventNormal, ReasonNodeScan, ActionNodeScan, "3 checks failed"))

	got := waitForEvents(t, client, "team-a", func(evs []eventsv1.Event) bool { return len(evs) == 1 })[0]
	assert.Equal(t, string(ReasonDenied), got.Reason)
	assert.Equal(t, string(ActionAdmission), got.Action)
	assert.Equal(t, corev1.EventTypeWarning, got.Type)
	assert.Equal(t, corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: "team-a", Name: "web", UID: "uid-web"}, got.Regarding)
	assert.Equal(t, "cisgate.io/webhook", got.ReportingController)
	assert.LessOrEqual(t, len(got.Note), MaxNoteBytes)
	assert.True(t, utf8.ValidString(got.Note))

	// A cluster-scoped object's Event goes to "default", where the API server accepts it.
	got = waitForEvents(t, client, metav1.NamespaceDefault, func(evs []eventsv1.Event) bool { return len(evs) == 1 })[0]
	assert.Equal(t, string(ReasonNodeScan), got.Reason)
	assert.Equal(t, "Node", got.Regarding.Kind)
	assert.Equal(t, "ip-10-0-1-1", got.Regarding.Name)
	assert.Equal(t, "3 checks failed", got.Note)
}

func TestEventSinkAggregatesRepeatsIntoASeries(t *testing.T) {
	client := fake.NewClientset()
	sink, err := NewEventSink(client, "cisgate.io/audit")
	require.NoError(t, err)
	ctx := discardContext(t)
	go func() { assert.NoError(t, sink.Start(ctx)) }()

	ref := &corev1.ObjectReference{Kind: "Deployment", APIVersion: "apps/v1", Namespace: "team-b", Name: "api"}
	require.NoError(t, sink.Emit(ref, EventWarning, ReasonViolation, ActionAudit, "[4.2.1] privileged"))
	waitForEvents(t, client, "team-b", func(evs []eventsv1.Event) bool { return len(evs) == 1 })
	for range 3 {
		require.NoError(t, sink.Emit(ref, EventWarning, ReasonViolation, ActionAudit, "[4.2.1] privileged"))
	}
	waitForEvents(t, client, "team-b", func(evs []eventsv1.Event) bool {
		return len(evs) == 1 && evs[0].Series != nil && evs[0].Series.Count >= 2
	})
}

func TestEventSinkCountsWriteErrors(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("create", "events", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("API server unavailable")
	})
	sink, err := NewEventSink(client, "cisgate.io/webhook")
	require.NoError(t, err)
	writeErrors := writeErrorsTotal.WithLabelValues(sinkEvents)
	before := counterValue(writeErrors)
	ctx := discardContext(t)
	go func() { assert.NoError(t, sink.Start(ctx)) }()

	require.NoError(t, sink.Emit(pod("ns", "p"), EventWarning, ReasonDenied, ActionAdmission, "denied"))
	require.Eventually(t, func() bool { return counterValue(writeErrors) > before }, 10*time.Second, 10*time.Millisecond)

	// The error comes back from EmitNow, and is counted too.
	before = counterValue(writeErrors)
	assert.Error(t, sink.EmitNow(t.Context(), pod("ns", "q"), EventWarning, ReasonDenied, ActionAdmission, "denied"))
	assert.Equal(t, before+1, counterValue(writeErrors))
}

func TestEmitNowWritesBeforeReturning(t *testing.T) {
	client := fake.NewClientset()
	sink, err := NewEventSink(client, "cisgate.io/nodescan")
	require.NoError(t, err)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "ip-10-0-1-1", UID: "n1"}}
	require.NoError(t, sink.EmitNow(t.Context(), node, EventWarning, ReasonNodeScan, ActionNodeScan, "[3.2.4] read-only port 10255"))

	list, err := client.EventsV1().Events(metav1.NamespaceDefault).List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)
	got := list.Items[0]
	assert.Equal(t, string(ReasonNodeScan), got.Reason)
	assert.Equal(t, corev1.ObjectReference{Kind: "Node", APIVersion: "v1", Name: "ip-10-0-1-1", UID: "n1"}, got.Regarding)
	assert.False(t, got.EventTime.IsZero())
	assert.True(t, strings.HasPrefix(got.ReportingInstance, "cisgate.io/nodescan-"))
	assert.Empty(t, validation.IsDNS1123Subdomain(got.Name))
}

func TestMarshalWithin(t *testing.T) {
	full := newTestReport(100)
	fullJSON, err := json.Marshal(full)
	require.NoError(t, err)

	t.Run("fits", func(t *testing.T) {
		data, err := MarshalWithin(full, len(fullJSON))
		require.NoError(t, err)
		assert.JSONEq(t, string(fullJSON), string(data))
		assert.Contains(t, string(data), `"schemaVersion":1`)
		assert.Contains(t, string(data), `"truncated":false`)
	})
	t.Run("summarised", func(t *testing.T) {
		data, err := MarshalWithin(full, 300)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(data), 300)
		var got testReport
		require.NoError(t, json.Unmarshal(data, &got))
		assert.True(t, got.Truncated)
		assert.Equal(t, SchemaVersion, got.SchemaVersion)
		assert.Equal(t, 100, got.Total)
		assert.NotEmpty(t, got.Findings)
	})
	t.Run("summary still too big", func(t *testing.T) {
		_, err := MarshalWithin(full, 10)
		assert.ErrorIs(t, err, ErrOverBudget)
	})
	t.Run("no summariser", func(t *testing.T) {
		_, err := MarshalWithin(plainReport{Header: NewHeader(), Blob: strings.Repeat("b", 100)}, 50)
		assert.ErrorIs(t, err, ErrOverBudget)
	})
	t.Run("no schema version", func(t *testing.T) {
		_, err := MarshalWithin(plainReport{}, 1000)
		assert.Error(t, err)
		assert.NotErrorIs(t, err, ErrOverBudget)
	})
}

func TestBudgetShares(t *testing.T) {
	assert.Equal(t, ConfigMapBudget, SummaryShare+AuditShare+CloudShare+AdmissionShare+NodeShare)
	assert.Equal(t, AdmissionShare/2, SplitBudget(AdmissionShare, 2))
	assert.Equal(t, NodeShare, SplitBudget(NodeShare, 0))
}

func TestKeys(t *testing.T) {
	assert.Equal(t, Key{Name: "admission.cisgate-7d9f-abcde.json", FieldManager: "cisgate-admission-cisgate-7d9f-abcde"}, AdmissionKey("cisgate-7d9f-abcde"))
	assert.Equal(t, Key{Name: "node.ip-10-0-1-1.ec2.internal.json", FieldManager: "cisgate-nodescan-ip-10-0-1-1.ec2.internal"}, NodeKey("ip-10-0-1-1.ec2.internal"))
	assert.Equal(t, "audit.json", AuditKey().Name)
	assert.Equal(t, "summary.json", SummaryKey().Name)

	// The longest node names still make valid, distinct keys and managers.
	a, b := NodeKey(strings.Repeat("a", 253)), NodeKey(strings.Repeat("a", 252)+"b")
	for _, k := range []Key{a, b, AdmissionKey(strings.Repeat("r", 253))} {
		assert.NoError(t, k.validate(), k.Name)
		assert.True(t, strings.HasSuffix(k.Name, ".json"))
	}
	assert.NotEqual(t, a.Name, b.Name)
	assert.NotEqual(t, a.FieldManager, b.FieldManager)
}

// configMapData reads the report ConfigMap's data.
func configMapData(t *testing.T, client kubernetes.Interface) map[string]string {
	t.Helper()
	cm, err := client.CoreV1().ConfigMaps(testNamespace).Get(t.Context(), ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	return cm.Data
}

// startWriter runs w until the test ends and checks that it stopped cleanly.
func startWriter(t *testing.T, w *Writer) (stop func() error) {
	ctx, cancel := context.WithCancel(logr.NewContext(t.Context(), testr.New(t)))
	result := make(chan error, 1)
	go func() { result <- w.Start(ctx) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-result })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// countApplies counts the configmap applies that reach the fake API server.
func countApplies(client *fake.Clientset) *atomic.Int64 {
	var n atomic.Int64
	client.PrependReactor("patch", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		n.Add(1)
		return false, nil, nil
	})
	return &n
}

func TestWritersKeepEachOthersKeys(t *testing.T) {
	client := fake.NewClientset()
	keys := []Key{AdmissionKey("replica-a"), AdmissionKey("replica-b"), AuditKey(), SummaryKey()}
	var writers []*Writer
	for _, key := range keys {
		w, err := NewWriter(client, testNamespace, key, SplitBudget(AuditShare, 1), WithWriteInterval(5*time.Millisecond))
		require.NoError(t, err)
		writers = append(writers, w)
		startWriter(t, w)
	}

	// All of them, and a node scan's one-shot write, race on the same ConfigMap (which does not
	// exist yet: the first apply creates it).
	var wg sync.WaitGroup
	for i, w := range writers {
		wg.Go(func() {
			for n := 1; n <= 50; n++ {
				require.NoError(t, w.Set(newTestReport(i*1000+n)))
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Go(func() {
		data, err := MarshalWithin(newTestReport(7), SplitBudget(NodeShare, 100))
		require.NoError(t, err)
		require.NoError(t, ApplyKey(t.Context(), client, testNamespace, NodeKey("ip-10-0-1-1"), data))
	})
	wg.Wait()

	require.Eventually(t, func() bool {
		data := configMapData(t, client)
		for i, key := range keys {
			var got testReport
			if json.Unmarshal([]byte(data[key.Name]), &got) != nil || got.Total != i*1000+50 {
				return false
			}
		}
		return data[NodeKey("ip-10-0-1-1").Name] != ""
	}, 10*time.Second, 10*time.Millisecond)

	cm, err := client.CoreV1().ConfigMaps(testNamespace).Get(t.Context(), ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	var managers []string
	for _, entry := range cm.ManagedFields {
		managers = append(managers, entry.Manager)
	}
	for _, key := range append(keys, NodeKey("ip-10-0-1-1")) {
		assert.Contains(t, managers, key.FieldManager)
	}
}

func TestReleaseKeyRemovesOnlyThatKey(t *testing.T) {
	client := fake.NewClientset()
	gone, kept := AdmissionKey("old-replica"), AdmissionKey("new-replica")
	require.NoError(t, ApplyKey(t.Context(), client, testNamespace, gone, []byte(`{"schemaVersion":1}`)))
	require.NoError(t, ApplyKey(t.Context(), client, testNamespace, kept, []byte(`{"schemaVersion":1}`)))

	require.NoError(t, ReleaseKey(t.Context(), client, testNamespace, gone))
	data := configMapData(t, client)
	assert.NotContains(t, data, gone.Name)
	assert.Contains(t, data, kept.Name)
}

func TestWriterBatchesSets(t *testing.T) {
	client := fake.NewClientset()
	applies := countApplies(client)
	w, err := NewWriter(client, testNamespace, AuditKey(), AuditShare, WithWriteInterval(200*time.Millisecond))
	require.NoError(t, err)
	stop := startWriter(t, w)

	start := time.Now()
	for n := 1; n <= 1000; n++ {
		require.NoError(t, w.Set(testReport{Header: NewHeader(), Total: n}))
	}
	elapsed := time.Since(start)
	require.NoError(t, stop())

	// A thousand Sets: one write per interval that passed while they ran, and the flush.
	assert.LessOrEqual(t, applies.Load(), int64(elapsed/(200*time.Millisecond))+2)
	var got testReport
	require.NoError(t, json.Unmarshal([]byte(configMapData(t, client)[AuditKey().Name]), &got))
	assert.Equal(t, 1000, got.Total)
}

func TestWriterWritesNothingUntilSet(t *testing.T) {
	client := fake.NewClientset()
	applies := countApplies(client)
	w, err := NewWriter(client, testNamespace, SummaryKey(), SummaryShare, WithWriteInterval(time.Millisecond))
	require.NoError(t, err)
	stop := startWriter(t, w)
	// Stopping runs the writer's last flush, the same one its every tick runs: with nothing Set,
	// it has nothing to write. (No sleep: a wait for ticks that should write nothing proves
	// nothing on a slow machine.)
	require.NoError(t, stop())
	assert.Zero(t, applies.Load())
}

func TestWriterRetriesWithTheLatestPayload(t *testing.T) {
	client := fake.NewClientset()
	var failing atomic.Bool
	failing.Store(true)
	client.PrependReactor("patch", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		if failing.Load() {
			return true, nil, errors.New("API server unavailable")
		}
		return false, nil, nil
	})
	writeErrors := writeErrorsTotal.WithLabelValues(sinkConfigMap)
	before := counterValue(writeErrors)

	w, err := NewWriter(client, testNamespace, AdmissionKey("replica-a"), AdmissionShare, WithWriteInterval(5*time.Millisecond))
	require.NoError(t, err)
	stop := startWriter(t, w)

	require.NoError(t, w.Set(newTestReport(1)))
	require.Eventually(t, func() bool { return counterValue(writeErrors) >= before+3 }, 10*time.Second, time.Millisecond)

	// Set does not wait for the failing API server.
	start := time.Now()
	for n := 2; n <= 100; n++ {
		require.NoError(t, w.Set(newTestReport(n)))
	}
	assert.Less(t, time.Since(start), time.Second)

	failing.Store(false)
	require.Eventually(t, func() bool {
		cm, err := client.CoreV1().ConfigMaps(testNamespace).Get(t.Context(), ConfigMapName, metav1.GetOptions{})
		if err != nil {
			return false
		}
		var got testReport
		return json.Unmarshal([]byte(cm.Data[AdmissionKey("replica-a").Name]), &got) == nil && got.Total == 100
	}, 10*time.Second, 5*time.Millisecond)
	require.NoError(t, stop())
}

func TestWriterKeepsAFailedPayloadUntilItIsWritten(t *testing.T) {
	client := fake.NewClientset()
	var failures atomic.Int64
	client.PrependReactor("patch", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		if failures.Add(1) <= 3 {
			return true, nil, errors.New("API server unavailable")
		}
		return false, nil, nil
	})
	w, err := NewWriter(client, testNamespace, AuditKey(), AuditShare, WithWriteInterval(5*time.Millisecond))
	require.NoError(t, err)
	startWriter(t, w)

	// One Set, no newer payload: the loop keeps retrying that one.
	require.NoError(t, w.Set(newTestReport(42)))
	require.Eventually(t, func() bool {
		cm, err := client.CoreV1().ConfigMaps(testNamespace).Get(t.Context(), ConfigMapName, metav1.GetOptions{})
		return err == nil && strings.Contains(cm.Data[AuditKey().Name], `"total":42`)
	}, 10*time.Second, 5*time.Millisecond)
}

func TestWriterFlushesWhenStopped(t *testing.T) {
	client := fake.NewClientset()
	w, err := NewWriter(client, testNamespace, NodeKey("ip-10-0-1-1"), SplitBudget(NodeShare, 10), WithWriteInterval(time.Hour))
	require.NoError(t, err)
	stop := startWriter(t, w)
	require.NoError(t, w.Set(newTestReport(3)))
	require.NoError(t, stop())
	assert.Contains(t, configMapData(t, client)[NodeKey("ip-10-0-1-1").Name], `"total":3`)
}

func TestWriterFlushFailureIsReturned(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("patch", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("API server unavailable")
	})
	w, err := NewWriter(client, testNamespace, AuditKey(), AuditShare, WithWriteInterval(time.Hour))
	require.NoError(t, err)
	stop := startWriter(t, w)
	require.NoError(t, w.Set(newTestReport(3)))
	assert.Error(t, stop())
}

func TestWriterRefusesPayloadsOverBudget(t *testing.T) {
	client := fake.NewClientset()
	w, err := NewWriter(client, testNamespace, AuditKey(), 100, WithWriteInterval(time.Hour))
	require.NoError(t, err)
	stop := startWriter(t, w)

	require.NoError(t, w.Set(plainReport{Header: NewHeader(), Blob: "kept"}))
	assert.ErrorIs(t, w.Set(plainReport{Header: NewHeader(), Blob: strings.Repeat("b", 200)}), ErrOverBudget)
	// A Summariser is summarised instead.
	require.NoError(t, w.Set(newTestReport(50)))
	require.NoError(t, stop())

	var got testReport
	require.NoError(t, json.Unmarshal([]byte(configMapData(t, client)[AuditKey().Name]), &got))
	assert.True(t, got.Truncated)
	assert.Equal(t, 50, got.Total)
}

func TestWriterRejectsBadConfig(t *testing.T) {
	client := fake.NewClientset()
	_, err := NewWriter(client, testNamespace, Key{Name: "bad/key", FieldManager: "m"}, 100)
	assert.Error(t, err)
	_, err = NewWriter(client, testNamespace, Key{Name: "k.json"}, 100)
	assert.Error(t, err)
	_, err = NewWriter(client, testNamespace, AuditKey(), ConfigMapBudget+1)
	assert.Error(t, err)
	_, err = NewWriter(client, testNamespace, AuditKey(), 100, WithWriteInterval(0))
	assert.Error(t, err)

	w, err := NewWriter(client, testNamespace, AuditKey(), 100)
	require.NoError(t, err)
	startWriter(t, w)
	require.Eventually(t, w.started.Load, time.Second, time.Millisecond)
	assert.Error(t, w.Start(t.Context()))
}
