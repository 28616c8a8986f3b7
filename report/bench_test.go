package report

import (
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
)

// BenchmarkEmit is the webhook's cost per reported admission: validate, reference the object,
// cut the note, queue.
func BenchmarkEmit(b *testing.B) {
	note := strings.Repeat("[4.2.1] container \"app\" must not set securityContext.privileged=true; ", 20)
	p := pod("team-a", "web")
	b.Run("queued", func(b *testing.B) {
		sink, err := NewEventSink(fake.NewClientset(), "cisgate.io/webhook")
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { // a consumer that keeps up, so every Emit is queued
			for {
				select {
				case <-ctx.Done():
					return
				case <-sink.queue.Items():
					sink.queue.Took()
				}
			}
		}()
		b.ReportAllocs()
		for b.Loop() {
			if err := sink.Emit(p, EventWarning, ReasonDenied, ActionAdmission, note); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("dropped", func(b *testing.B) {
		sink, err := NewEventSink(fake.NewClientset(), "cisgate.io/webhook", WithEventQueueSize(1))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := sink.Emit(p, EventWarning, ReasonDenied, ActionAdmission, note); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkWriterSet is the cost of handing a writer a payload of 50 findings: encode, check the
// budget, swap.
func BenchmarkWriterSet(b *testing.B) {
	w, err := NewWriter(fake.NewClientset(), testNamespace, AdmissionKey("bench"), SplitBudget(AdmissionShare, 4))
	if err != nil {
		b.Fatal(err)
	}
	r := newTestReport(50)
	for i := range r.Findings {
		r.Findings[i] = strings.Repeat("[4.2.1] Pod team-a/web: privileged ", 3)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Set(r); err != nil {
			b.Fatal(err)
		}
	}
}
