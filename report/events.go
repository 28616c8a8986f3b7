package report

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/tools/record/util"
	"k8s.io/client-go/tools/reference"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// EventType is an Event's type.
type EventType string

const (
	EventNormal  EventType = EventType(corev1.EventTypeNormal)
	EventWarning EventType = EventType(corev1.EventTypeWarning)
)

// Reason is an Event's reason. The values are a fixed interface (docs/architecture.md): users and alerts
// select on them.
type Reason string

const (
	// ReasonDenied: an admission request was denied.
	ReasonDenied Reason = "CISDenied"
	// ReasonViolation: a request was allowed with a finding (audit mode), or the background audit
	// found one.
	ReasonViolation Reason = "CISViolation"
	// ReasonNodeScan: a node's scan result, on the Node.
	ReasonNodeScan Reason = "CISNodeScan"
	// ReasonCloudScan: a cloud scan's result, on the report ConfigMap in cisgate's namespace.
	ReasonCloudScan Reason = "CISCloudScan"
)

// Action is the part of cisgate that acted on the regarding object.
type Action string

const (
	ActionAdmission Action = "Admission"
	ActionAudit     Action = "Audit"
	ActionNodeScan  Action = "NodeScan"
	ActionCloudScan Action = "CloudScan"
)

// The API server's limits on an Event (k8s.io/kubernetes/pkg/apis/core/validation: NoteLengthLimit,
// ReasonLengthLimit, ActionLengthLimit), all in bytes. Longer values are rejected, not cut.
const (
	MaxNoteBytes   = 1024
	maxReasonBytes = 128
	maxActionBytes = 128
)

// noteEllipsis marks a note that was cut to MaxNoteBytes.
const noteEllipsis = "…"

// Defaults for EventSink (see WithEventQueueSize). The events.k8s.io/v1 broadcaster has no rate
// limit of its own (unlike the core/v1 recorder's spam filter), so DefaultEventRate events per
// second, in bursts of up to DefaultEventBurst, is it.
const (
	DefaultEventQueueSize = 256
	DefaultEventRate      = 5.0
	DefaultEventBurst     = 50
)

var errAlreadyStarted = errors.New("report: sink already started")

// EventSink records Events (events.k8s.io/v1) through client-go's events broadcaster, which
// aggregates repeats of the same event into a series. Emit never blocks: events wait in a bounded
// queue, and a single loop passes them to the broadcaster at a limited rate, so a burst of
// admissions drops events (counted) rather than flooding the API server or piling up goroutines.
type EventSink struct {
	client    kubernetes.Interface
	component string
	// instance is the reportingInstance, built the way the broadcaster's recorder builds it.
	instance string
	queue    *queue[event]
	limiter  *rate.Limiter
	started  atomic.Bool

	dropped     prometheus.Counter
	writes      prometheus.Counter
	writeErrors prometheus.Counter
	rejected    prometheus.Counter
}

// event is one validated Emit, holding a reference rather than the caller's object.
type event struct {
	regarding corev1.ObjectReference
	eventType EventType
	reason    Reason
	action    Action
	note      string
}

type eventSinkConfig struct {
	queueSize int
}

// EventSinkOption configures NewEventSink.
type EventSinkOption func(*eventSinkConfig)

// WithEventQueueSize sets how many events may wait to be sent before Emit drops
// (default DefaultEventQueueSize).
func WithEventQueueSize(n int) EventSinkOption {
	return func(c *eventSinkConfig) { c.queueSize = n }
}

// ReportingController is the reportingController of every Event cisgate writes (webhook, audit
// and node scan alike): one name to select on. The action (Admission, Audit, NodeScan) says which
// part acted.
const ReportingController = "cisgate.io/cisgate"

// NewEventSink returns a sink that reports as component, the Event's reportingController: a
// qualified name, ReportingController outside tests. Emit queues events; Start sends them.
func NewEventSink(client kubernetes.Interface, component string, opts ...EventSinkOption) (*EventSink, error) {
	if errs := validation.IsQualifiedName(component); len(errs) > 0 {
		return nil, fmt.Errorf("report: event component %q: %s", component, strings.Join(errs, "; "))
	}
	cfg := eventSinkConfig{queueSize: DefaultEventQueueSize}
	for _, opt := range opts {
		opt(&cfg)
	}
	if cfg.queueSize < 1 {
		return nil, fmt.Errorf("report: event queue size %d must be positive", cfg.queueSize)
	}
	if err := registerMetrics(); err != nil {
		return nil, fmt.Errorf("report: registering metrics: %w", err)
	}
	// The broadcaster's recorder names the instance the same way; EmitNow has to match it.
	hostname, _ := os.Hostname()
	return &EventSink{
		client:      client,
		component:   component,
		instance:    component + "-" + hostname,
		queue:       newQueue[event](sinkEvents, cfg.queueSize),
		limiter:     rate.NewLimiter(DefaultEventRate, DefaultEventBurst),
		dropped:     droppedTotal.WithLabelValues(sinkEvents),
		writes:      writesTotal.WithLabelValues(sinkEvents),
		writeErrors: writeErrorsTotal.WithLabelValues(sinkEvents),
		rejected:    rejectedTotal.WithLabelValues(sinkEvents),
	}, nil
}

// Emit queues an Event about regarding (any object client-go's scheme knows, an object with its
// TypeMeta set, or a *corev1.ObjectReference) without blocking. A full queue drops the event and
// counts it in cisgate_report_dropped_total{sink="events"}; that is not an error. The error is
// for input the API server would reject (unknown kind, bad type, empty reason or action); the sink
// also logs it and counts it in cisgate_report_rejected_total{sink="events"}, so a caller that must
// not stop for it (admission, the audit) can ignore it. Notes longer than MaxNoteBytes are cut on a
// rune boundary and end in "…".
func (s *EventSink) Emit(regarding runtime.Object, eventType EventType, reason Reason, action Action, note string) error {
	ev, err := s.newEvent(regarding, eventType, reason, action, note)
	if err != nil {
		return err
	}
	s.queue.Offer(ev)
	return nil
}

// EmitNow creates the Event at once, bypassing the queue and the broadcaster, and returns when the
// API server has it. It is for a short-lived process (the node scan Job) that must not exit before
// its one Event is written; it needs no Start.
func (s *EventSink) EmitNow(ctx context.Context, regarding runtime.Object, eventType EventType, reason Reason, action Action, note string) error {
	ev, err := s.newEvent(regarding, eventType, reason, action, note)
	if err != nil {
		return err
	}
	now := time.Now()
	namespace := ev.regarding.Namespace
	if namespace == "" {
		// Events about cluster-scoped objects live in "default", as the broadcaster puts them.
		namespace = metav1.NamespaceDefault
	}
	obj := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: util.GenerateEventName(ev.regarding.Name, now.UnixNano()), Namespace: namespace},
		EventTime:           metav1.NewMicroTime(now),
		ReportingController: s.component,
		ReportingInstance:   s.instance,
		Action:              string(ev.action),
		Reason:              string(ev.reason),
		Regarding:           ev.regarding,
		Note:                ev.note,
		Type:                string(ev.eventType),
	}
	if _, err := s.client.EventsV1().Events(namespace).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		s.writeErrors.Inc()
		return fmt.Errorf("report: creating %s event on %s %s/%s: %w", ev.reason, ev.regarding.Kind, ev.regarding.Namespace, ev.regarding.Name, err)
	}
	s.writes.Inc()
	return nil
}

// Start sends queued events until ctx is done, then drops (and counts) what is still queued. It
// blocks, like a controller-runtime manager.Runnable: add the sink to the manager, or run it in a
// goroutine. The broadcaster logs its write failures through ctx's logger.
func (s *EventSink) Start(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errAlreadyStarted
	}
	broadcaster := events.NewBroadcaster(&countingEventSink{
		sink:        &events.EventSinkImpl{Interface: s.client.EventsV1()},
		writes:      s.writes,
		writeErrors: s.writeErrors,
	})
	if err := broadcaster.StartRecordingToSinkWithContext(ctx); err != nil {
		return fmt.Errorf("report: starting the event broadcaster: %w", err)
	}
	defer broadcaster.Shutdown()
	recorder := broadcaster.NewRecorder(scheme.Scheme, s.component).WithLogger(log.FromContext(ctx))
	for {
		select {
		case <-ctx.Done():
			s.queue.DropRemaining()
			return nil
		case ev := <-s.queue.Items():
			s.queue.Took()
			if err := s.limiter.Wait(ctx); err != nil {
				// Only a finished ctx stops the wait (burst is at least 1).
				s.dropped.Inc()
				continue
			}
			// The note is data, so it goes in as an argument, never as the format.
			recorder.Eventf(&ev.regarding, nil, string(ev.eventType), string(ev.reason), string(ev.action), "%s", ev.note)
		}
	}
}

// NeedLeaderElection tells controller-runtime's manager to run the sink on every replica.
func (s *EventSink) NeedLeaderElection() bool { return false }

// newEvent validates an Event; a rejection is logged and counted here, once for every caller.
func (s *EventSink) newEvent(regarding runtime.Object, eventType EventType, reason Reason, action Action, note string) (event, error) {
	ev, err := newEvent(regarding, eventType, reason, action, note)
	if err != nil {
		s.rejected.Inc()
		log.Log.WithName("events").Error(err, "Event rejected", "reason", reason, "action", action)
	}
	return ev, err
}

func newEvent(regarding runtime.Object, eventType EventType, reason Reason, action Action, note string) (event, error) {
	if eventType != EventNormal && eventType != EventWarning {
		return event{}, fmt.Errorf("report: event type %q is neither %s nor %s", eventType, EventNormal, EventWarning)
	}
	if len(reason) == 0 || len(reason) > maxReasonBytes {
		return event{}, fmt.Errorf("report: event reason %q must be 1 to %d bytes", reason, maxReasonBytes)
	}
	if len(action) == 0 || len(action) > maxActionBytes {
		return event{}, fmt.Errorf("report: event action %q must be 1 to %d bytes", action, maxActionBytes)
	}
	if regarding == nil {
		return event{}, errors.New("report: event has no regarding object")
	}
	ref, err := reference.GetReference(scheme.Scheme, regarding)
	if err != nil {
		return event{}, fmt.Errorf("report: referencing the event's object: %w", err)
	}
	return event{regarding: *ref, eventType: eventType, reason: reason, action: action, note: truncateNote(note)}, nil
}

// truncateNote cuts note to at most MaxNoteBytes, on a rune boundary, ending in noteEllipsis.
func truncateNote(note string) string {
	if len(note) <= MaxNoteBytes {
		return note
	}
	cut := MaxNoteBytes - len(noteEllipsis)
	for cut > 0 && !utf8.RuneStart(note[cut]) {
		cut--
	}
	return note[:cut] + noteEllipsis
}

// countingEventSink counts the broadcaster's writes for cisgate_report_writes_total and
// cisgate_report_write_errors_total; the broadcaster itself retries and logs.
type countingEventSink struct {
	sink        events.EventSink
	writes      prometheus.Counter
	writeErrors prometheus.Counter
}

func (c *countingEventSink) Create(ctx context.Context, ev *eventsv1.Event) (*eventsv1.Event, error) {
	return c.count(c.sink.Create(ctx, ev))
}

func (c *countingEventSink) Update(ctx context.Context, ev *eventsv1.Event) (*eventsv1.Event, error) {
	return c.count(c.sink.Update(ctx, ev))
}

func (c *countingEventSink) Patch(ctx context.Context, ev *eventsv1.Event, data []byte) (*eventsv1.Event, error) {
	patched, err := c.sink.Patch(ctx, ev, data)
	if apierrors.IsNotFound(err) {
		// The series' first Event has expired; the broadcaster creates it again, which counts.
		return patched, err
	}
	return c.count(patched, err)
}

func (c *countingEventSink) count(ev *eventsv1.Event, err error) (*eventsv1.Event, error) {
	if err != nil {
		c.writeErrors.Inc()
	} else {
		c.writes.Inc()
	}
	return ev, err
}
