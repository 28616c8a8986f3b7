package admission

import (
	"context"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cisgate/cisgate/policy"
	"github.com/cisgate/cisgate/report"
)

// recentFindings is how many findings the replica's report key keeps.
const recentFindings = 50

// ReportRecorder keeps the replica's counters and recent findings, emits Events, and hands the
// report key to its writer every Interval when something changed. Record only takes a mutex for
// a few map updates; Events go through the sink's bounded queue.
type ReportRecorder struct {
	// Interval is how often changes are handed to the writer (default a second).
	Interval time.Duration

	events  *report.EventSink
	writer  *report.Writer
	replica string

	mu    sync.Mutex
	state report.AdmissionReport
	// counts are by slug: the IDs are the running benchmark's, rendered when the key is written,
	// so a config that changes benchmark does not file one check's counts under another's ID.
	counts map[policy.Slug]*report.CheckCounts
	recent []report.RecentRuling
	dirty  bool
}

// NewReportRecorder records into events (nil: no Events) and writer (nil: no report key).
func NewReportRecorder(replica string, events *report.EventSink, writer *report.Writer) *ReportRecorder {
	return &ReportRecorder{
		events: events, writer: writer, replica: replica,
		state:  report.AdmissionReport{Header: report.NewHeader(), Replica: replica, Checks: map[string]*report.CheckCounts{}},
		counts: map[policy.Slug]*report.CheckCounts{},
	}
}

// Record implements Recorder.
func (r *ReportRecorder) Record(rec Record) {
	r.count(rec)
	// An Event about an Event could feed itself: Events of cluster-scoped objects live in default.
	if r.events == nil || rec.OwnedByChecked || rec.Object.Kind == "Event" {
		return
	}
	var notes []string
	for _, f := range rec.Decision.Rulings {
		if f.Verdict != VerdictExempt && f.Status == policy.StatusFail {
			notes = append(notes, f.Message())
		}
	}
	if len(notes) == 0 {
		return
	}
	reason := report.ReasonViolation
	if !rec.Decision.Allowed {
		reason = report.ReasonDenied
	}
	gvk := rec.Object.Raw.GetObjectKind().GroupVersionKind()
	ref := &corev1.ObjectReference{
		Kind: rec.Object.Kind, APIVersion: gvk.GroupVersion().String(),
		Namespace: rec.Object.Namespace, Name: rec.Object.Name,
	}
	// A rejected Event (bad reference) must not affect admission; the sink counts drops itself.
	_ = r.events.Emit(ref, report.EventWarning, reason, report.ActionAdmission,
		strings.ToLower(string(rec.Operation))+": "+strings.Join(notes, "; "))
}

func (r *ReportRecorder) count(rec Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, f := range rec.Decision.Rulings {
		c := r.counts[f.Slug]
		if c == nil {
			c = &report.CheckCounts{Slug: f.Slug}
			r.counts[f.Slug] = c
		}
		switch f.Verdict {
		case VerdictDeny:
			c.Deny++
		case VerdictWarn:
			c.Warn++
		case VerdictExempt:
			c.Exempt++
		}
		if len(r.recent) == recentFindings {
			r.recent = r.recent[1:]
		}
		r.recent = append(r.recent, report.RecentRuling{
			Time: rec.Time.UTC(), ID: f.ID, Verdict: string(f.Verdict), Operation: string(rec.Operation),
			Kind: rec.Object.Kind, Namespace: rec.Object.Namespace, Name: rec.Object.Name,
			Path: f.Path, Detail: f.Detail, ExemptReason: f.ExemptReason,
		})
	}
	r.state.Benchmark = rec.Benchmark
	r.dirty = true
}

// snapshot copies the report for writing; false when nothing changed since the last one.
func (r *ReportRecorder) snapshot() (*report.AdmissionReport, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.dirty {
		return nil, false
	}
	r.dirty = false
	s := r.state
	s.Updated = time.Now().UTC()
	s.Checks = make(map[string]*report.CheckCounts, len(r.counts))
	// A slug the running benchmark lacks has no ID to be filed under; its counts wait for a
	// benchmark that carries it.
	if cat, err := policy.CatalogueFor(r.state.Benchmark); err == nil {
		for slug, c := range r.counts {
			if e, ok := cat.Entry(slug); ok {
				cc := *c
				s.Checks[e.ID] = &cc
			}
		}
	}
	s.Recent = append([]report.RecentRuling(nil), r.recent...)
	return &s, true
}

// Start hands changes to the writer every Interval until ctx ends (a manager.Runnable on every
// replica). It runs the writer too, and stops it only after its own last hand-over, so the counts
// of the last interval still reach the ConfigMap when the replica shuts down.
func (r *ReportRecorder) Start(ctx context.Context) error {
	interval := r.Interval
	if interval <= 0 {
		interval = time.Second
	}
	writerCtx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWriter()
	writerDone := make(chan error, 1)
	if r.writer != nil {
		go func() { writerDone <- r.writer.Start(writerCtx) }()
	} else {
		writerDone <- nil
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.flush(ctx)
			stopWriter()
			return <-writerDone
		case <-t.C:
			r.flush(ctx)
		}
	}
}

func (r *ReportRecorder) flush(ctx context.Context) {
	if r.writer == nil {
		return
	}
	if s, changed := r.snapshot(); changed {
		if err := r.writer.Set(s); err != nil {
			log.FromContext(ctx).Error(err, "admission report not updated")
		}
	}
}

// NeedLeaderElection: every replica writes its own key.
func (r *ReportRecorder) NeedLeaderElection() bool { return false }
