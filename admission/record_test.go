package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// decided runs a real decision for a record. 4.2.5 is off: a privileged container also fails it
// (allowPrivilegeEscalation is always true when privileged), and these tests are about what the
// recorder does with findings, not about which checks a privileged container fails.
func decided(t testing.TB, config string, req Request) Record {
	t.Helper()
	pol := mustPolicy(t, config+"\nchecks: {privilege-escalation: \"off\"}\n")
	return Record{
		Time: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Benchmark: pol.Catalogue.Benchmark(),
		Operation: admissionv1.Create, Object: req.Object, Decision: Decide(pol, req, cluster()),
	}
}

// writeReport flushes the recorder into the report ConfigMap of a fake API server, the way the
// running webhook does, and returns the replica's key as a reader of the ConfigMap sees it.
func writeReport(t *testing.T, build func(*ReportRecorder)) (report.AdmissionReport, string) {
	t.Helper()
	client := fake.NewClientset()
	writer, err := report.NewWriter(client, "cisgate-system", report.AdmissionKey("replica-0"), report.SplitBudget(report.AdmissionShare, 4))
	require.NoError(t, err)
	r := NewReportRecorder("replica-0", nil, writer)
	build(r)
	ctx := logr.NewContext(context.Background(), logr.Discard())
	r.flush(ctx)
	// A writer whose context has ended writes the pending payload once and returns.
	done, cancel := context.WithCancel(ctx)
	cancel()
	require.NoError(t, writer.Start(done))

	cm, err := client.CoreV1().ConfigMaps("cisgate-system").Get(ctx, report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	data, ok := cm.Data["admission.replica-0.json"]
	require.True(t, ok, "keys: %v", cm.Data)
	var got report.AdmissionReport
	require.NoError(t, json.Unmarshal([]byte(data), &got))
	return got, data
}

func TestReportRecorderCounts(t *testing.T) {
	got, raw := writeReport(t, func(r *ReportRecorder) {
		// Denied: 4.2.1 and 4.2.4.
		r.Record(decided(t, enforceConfig, create(object(pod(ns, "web", privilegedHostNetwork())))))
		// Warned in audit mode: 4.2.1 and 4.2.4.
		r.Record(decided(t, "mode: audit\n", create(object(pod(ns, "web-2", privilegedHostNetwork())))))
		// Exempt by rule: 4.2.4, denied 4.2.1.
		r.Record(decided(t, "mode: enforce\nexemptions: {rules: [{checks: [\"4.2.4\"], name: \"node-exporter-*\", reason: \"host network stats\"}]}\n",
			create(object(pod(ns, "node-exporter-abc", privilegedHostNetwork())))))
		// Owned by a checked kind: counted all the same.
		rec := decided(t, enforceConfig, create(object(pod(ns, "web-3", compliantSpec(privileged(hardened("app")))))))
		rec.OwnedByChecked = true
		r.Record(rec)
	})
	assert.Equal(t, report.SchemaVersion, got.SchemaVersion)
	assert.False(t, got.Truncated)
	assert.Equal(t, "replica-0", got.Replica)
	assert.Equal(t, policy.EKS180, got.Benchmark)
	assert.Equal(t, map[string]*report.CheckCounts{
		"4.2.1": {Slug: "privileged", Deny: 3, Warn: 1},
		"4.2.4": {Slug: "host-network", Deny: 1, Warn: 1, Exempt: 1},
	}, got.Checks)
	require.Len(t, got.Recent, 7)
	assert.Equal(t, report.RecentRuling{
		Time: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), ID: "4.2.4", Verdict: string(VerdictExempt), Operation: "CREATE",
		Kind: "Pod", Namespace: ns, Name: "node-exporter-abc", Path: "spec.hostNetwork", Detail: "pod must not set hostNetwork=true",
		ExemptReason: "host network stats",
	}, got.Recent[5])
	assert.Contains(t, raw, `"schemaVersion":1`)
	assert.Contains(t, raw, `"exemptReason":"host network stats"`)
}

func TestReportRecorderKeepsTheLast50(t *testing.T) {
	got, _ := writeReport(t, func(r *ReportRecorder) {
		for i := range 60 {
			r.Record(decided(t, "mode: audit\n", create(object(pod(ns, fmt.Sprintf("web-%d", i), compliantSpec(privileged(hardened("app"))))))))
		}
	})
	assert.Equal(t, 60, got.Checks["4.2.1"].Warn, "counts are since the start, not of the ring")
	require.Len(t, got.Recent, recentFindings)
	assert.Equal(t, "web-10", got.Recent[0].Name, "oldest first")
	assert.Equal(t, "web-59", got.Recent[49].Name)
}

func TestAdmissionReportSummarise(t *testing.T) {
	r := NewReportRecorder("replica-0", nil, nil)
	for i := range 50 {
		r.Record(decided(t, enforceConfig, create(object(pod(ns, fmt.Sprintf("web-%d", i), privilegedHostNetwork())))))
	}
	full, changed := r.snapshot()
	require.True(t, changed)
	require.Len(t, full.Recent, 50)
	fullJSON, err := json.Marshal(full)
	require.NoError(t, err)

	t.Run("under a small budget: newest findings kept, counts exact", func(t *testing.T) {
		budget := len(fullJSON) / 5
		data, err := report.MarshalWithin(full, budget)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(data), budget)
		var got report.AdmissionReport
		require.NoError(t, json.Unmarshal(data, &got))
		assert.True(t, got.Truncated)
		assert.Equal(t, full.Checks, got.Checks)
		assert.Equal(t, map[string]*report.CheckCounts{"4.2.1": {Slug: "privileged", Deny: 50}, "4.2.4": {Slug: "host-network", Deny: 50}}, got.Checks)
		require.NotEmpty(t, got.Recent)
		assert.Less(t, len(got.Recent), 50)
		assert.Equal(t, full.Recent[len(full.Recent)-1], got.Recent[len(got.Recent)-1], "the newest finding is kept")
	})
	t.Run("under a tiny budget: counts only", func(t *testing.T) {
		s, ok := full.Summarise(10).(*report.AdmissionReport)
		require.True(t, ok)
		assert.True(t, s.Truncated)
		assert.Empty(t, s.Recent)
		assert.Equal(t, full.Checks, s.Checks)
		assert.False(t, full.Truncated, "the full report is not changed")
		assert.Len(t, full.Recent, 50)
	})
	t.Run("counts-only summary fits", func(t *testing.T) {
		countsOnly := *full
		countsOnly.Recent = []report.RecentRuling{}
		countsOnly.Truncated = true
		size, err := json.Marshal(&countsOnly)
		require.NoError(t, err)
		data, err := report.MarshalWithin(full, len(size))
		require.NoError(t, err)
		var got report.AdmissionReport
		require.NoError(t, json.Unmarshal(data, &got))
		assert.True(t, got.Truncated)
		assert.Equal(t, full.Checks, got.Checks)
	})
}

// metricValue reads a counter or gauge of controller-runtime's registry.
func metricValue(t testing.TB, name, sink string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "sink" && l.GetValue() == sink {
					if m.GetCounter() != nil {
						return m.GetCounter().GetValue()
					}
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

func TestRecordNeverBlocks(t *testing.T) {
	denied := decided(t, enforceConfig, create(object(pod(ns, "web", privilegedHostNetwork()))))
	recordMany := func(t *testing.T, r *ReportRecorder, rec Record, n int) {
		t.Helper()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for range n {
				r.Record(rec)
			}
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("Record blocked")
		}
	}

	t.Run("no sinks", func(t *testing.T) {
		r := NewReportRecorder("replica-0", nil, nil)
		recordMany(t, r, denied, 1000)
		s, _ := r.snapshot()
		assert.Equal(t, 1000, s.Checks["4.2.1"].Deny)
	})
	t.Run("event sink that never sends", func(t *testing.T) {
		// The sink is never started: its queue of 8 fills, and every further Event is dropped.
		sink, err := report.NewEventSink(fake.NewClientset(), "cisgate.io/webhook", report.WithEventQueueSize(8))
		require.NoError(t, err)
		r := NewReportRecorder("replica-0", sink, nil)
		dropped := metricValue(t, "cisgate_report_dropped_total", "events")
		queued := metricValue(t, "cisgate_report_queue_length", "events")

		owned := denied
		owned.OwnedByChecked = true
		recordMany(t, r, owned, 100)
		assert.Equal(t, queued, metricValue(t, "cisgate_report_queue_length", "events"), "an object owned by a checked kind raises no Event")

		recordMany(t, r, denied, 1000)
		assert.Equal(t, queued+8, metricValue(t, "cisgate_report_queue_length", "events"))
		assert.Equal(t, dropped+992, metricValue(t, "cisgate_report_dropped_total", "events"))
		s, _ := r.snapshot()
		assert.Equal(t, 1100, s.Checks["4.2.1"].Deny, "counted whether or not the Event was sent")
	})
}

func TestRecordEmitsEvents(t *testing.T) {
	client := fake.NewClientset()
	sink, err := report.NewEventSink(client, "cisgate.io/webhook")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(logr.NewContext(context.Background(), logr.Discard()))
	defer cancel()
	go func() { _ = sink.Start(ctx) }()
	r := NewReportRecorder("replica-0", sink, nil)

	owned := decided(t, enforceConfig, create(object(pod(ns, "shop-abc", privilegedHostNetwork()))))
	owned.OwnedByChecked = true
	r.Record(owned)
	r.Record(decided(t, enforceConfig, create(object(pod(ns, "web", privilegedHostNetwork())))))
	r.Record(decided(t, "mode: audit\n", create(object(deployment(ns, "shop", 2, compliantSpec(privileged(hardened("app"))))))))
	exempt := decided(t, enforceConfig, Request{Operation: policy.OperationCreate, Object: object(pod(ns, "node", privilegedHostNetwork())), Groups: []string{"system:nodes"}})
	r.Record(exempt)
	// The barrier: Record queues Events in order and the sink hands them to the broadcaster in
	// order, so an Event wrongly emitted for the owned or exempt pod is dispatched before this
	// last one. (The broadcaster writes each in its own goroutine, so the wait below is for every
	// expected Event, not for the last alone.)
	r.Record(decided(t, enforceConfig, create(object(pod(ns, "sentinel", privilegedHostNetwork())))))

	var notes map[string]string
	require.Eventually(t, func() bool {
		list, err := client.EventsV1().Events(ns).List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		notes = map[string]string{}
		for _, e := range list.Items {
			notes[e.Regarding.Kind+"/"+e.Regarding.Name] = e.Reason + " " + e.Type + " " + e.Note
		}
		_, sentinel := notes["Pod/sentinel"]
		_, web := notes["Pod/web"]
		_, shop := notes["Deployment/shop"]
		return sentinel && web && shop
	}, 30*time.Second, 20*time.Millisecond)
	delete(notes, "Pod/sentinel")
	assert.Equal(t, map[string]string{
		"Pod/web":         "CISDenied Warning create: [4.2.1] " + msgPrivileged + "; [4.2.4] " + msgHostNetwork,
		"Deployment/shop": "CISViolation Warning create: [4.2.1] " + msgPrivileged,
	}, notes)
}

// TestReportRecorderHandsOverItsLastCountsOnShutdown stops a recorder before its first tick: the
// writer it runs must still write what was recorded, as a replica that is shut down does.
func TestReportRecorderHandsOverItsLastCountsOnShutdown(t *testing.T) {
	client := fake.NewClientset()
	writer, err := report.NewWriter(client, "cisgate-system", report.AdmissionKey("replica-0"), report.SplitBudget(report.AdmissionShare, 4),
		report.WithWriteInterval(time.Hour))
	require.NoError(t, err)
	r := NewReportRecorder("replica-0", nil, writer)
	r.Interval = time.Hour
	ctx, cancel := context.WithCancel(logr.NewContext(context.Background(), logr.Discard()))
	stopped := make(chan error, 1)
	go func() { stopped <- r.Start(ctx) }()
	for range 3 {
		r.Record(decided(t, enforceConfig, create(object(pod(ns, "web", privilegedHostNetwork())))))
	}
	cancel()
	require.NoError(t, <-stopped)

	cm, err := client.CoreV1().ConfigMaps("cisgate-system").Get(context.Background(), report.ConfigMapName, metav1.GetOptions{})
	require.NoError(t, err)
	var got report.AdmissionReport
	require.NoError(t, json.Unmarshal([]byte(cm.Data["admission.replica-0.json"]), &got))
	require.Contains(t, got.Checks, "4.2.1")
	assert.Equal(t, 3, got.Checks["4.2.1"].Deny, "no count of the last interval is lost")
}

// TestReportRecorderKeysCountsBySlug (#9 item 9): a config that changes benchmark renumbers the
// checks; the counts follow the check, rendered under the running benchmark's IDs. default-namespace
// is 4.6.3 in eks-1.2.0 and 4.5.2 in eks-1.8.0 (the catalogue).
func TestReportRecorderKeysCountsBySlug(t *testing.T) {
	got, _ := writeReport(t, func(r *ReportRecorder) {
		r.Record(decided(t, "benchmark: eks-1.2.0\nmode: audit\n", create(object(pod("default", "web", privilegedHostNetwork())))))
		r.Record(decided(t, "benchmark: eks-1.8.0\nmode: audit\n", create(object(pod("default", "web-2", privilegedHostNetwork())))))
	})
	assert.Equal(t, policy.EKS180, got.Benchmark)
	assert.Equal(t, &report.CheckCounts{Slug: "default-namespace", Warn: 2}, got.Checks["4.5.2"])
	assert.NotContains(t, got.Checks, "4.6.3", "no count stays under the old benchmark's ID")
	for id, c := range got.Checks {
		entry, ok := mustCatalogue(t, policy.EKS180).Resolve(id)
		require.True(t, ok, id)
		assert.Equal(t, entry.Slug, c.Slug, "%s is rendered with the running benchmark's ID", id)
	}
}

func mustCatalogue(t *testing.T, b policy.Benchmark) *policy.Catalogue {
	t.Helper()
	cat, err := policy.CatalogueFor(b)
	require.NoError(t, err)
	return cat
}
