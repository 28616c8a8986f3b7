package webhook

import (
	"context"
	"errors"
	"fmt"
	"time"

	gojson "github.com/goccy/go-json"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/cisgate/cisgate/policy"
)

// ClusterState is the read-only view of the cluster the handler decides with, served from
// informer caches.
type ClusterState interface {
	policy.Lookup
	// NamespaceMode is the cisgate.io/mode label of a namespace ("" when none).
	NamespaceMode(namespace string) (string, error)
}

// Recorder takes a decided request for Events, the report and metrics. Record must not block.
type Recorder interface {
	Record(Record)
}

// Record is one decided request, as the recorder sees it.
type Record struct {
	Time      time.Time
	Benchmark policy.Benchmark
	Operation admissionv1.Operation
	Object    policy.Object
	// OwnedByChecked is set for a Pod, ReplicaSet or Job whose controller is itself a checked kind
	// (policy.ControlledByCheckedKind): the owner already carries the Event.
	OwnedByChecked bool
	Decision       Decision
}

// Handler is the admission.Handler behind /validate: decode, evaluate, decide, respond. The
// response never waits on reporting.
type Handler struct {
	// Policy returns the current policy; the config may be reloaded between requests.
	Policy   func() *policy.Policy
	State    ClusterState
	Recorder Recorder
	// DenyOnError denies a request cisgate cannot evaluate; by default it is admitted with a warning.
	DenyOnError bool
}

var _ admission.Handler = (*Handler)(nil)

// Handle implements admission.Handler. A panic while deciding is answered like any other failure
// to evaluate: controller-runtime's own recovery would answer allowed=false, which the API server
// takes as a denial whatever the failurePolicy.
func (h *Handler) Handle(ctx context.Context, req admission.Request) (resp admission.Response) {
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			resp = h.cannotEvaluate(ctx, req, start, fmt.Errorf("internal error: %v", r))
		}
	}()
	in, err := decodeRequest(req)
	if err != nil {
		return h.cannotEvaluate(ctx, req, start, err)
	}
	if mode, err := h.namespaceMode(in.Object.Namespace); err == nil {
		in.NamespaceMode = mode
		if _, ok := policy.NamespaceLabelMode(mode); !ok && mode != "" {
			// The label is ignored (the configured modes apply); counting it shows a reviewer
			// that someone tried to switch cisgate off there.
			namespaceModeIgnored.WithLabelValues(in.Object.Namespace).Inc()
		}
	} else {
		log.FromContext(ctx).V(1).Info("namespace mode unknown; using the configured modes", "namespace", in.Object.Namespace, "error", err.Error())
	}
	pol := h.Policy()
	var lookup policy.Lookup
	if h.State != nil {
		lookup = h.State
	}
	d := Decide(pol, in, lookup)

	resp = admission.Allowed("")
	decision := decisionAllowed
	if !d.Allowed {
		resp, decision = admission.Denied(d.Message), decisionDenied
	}
	if len(d.Warnings) > 0 {
		resp = resp.WithWarnings(d.Warnings...)
	}
	observeRequest(decision, req.Kind.Kind, string(req.Operation), start)
	observeFindings(d.Findings)
	if h.Recorder != nil && !isDryRun(req) && len(d.Findings) > 0 {
		h.Recorder.Record(Record{Time: start, Benchmark: pol.Catalogue.Benchmark(), Operation: req.Operation, Object: in.Object, OwnedByChecked: policy.ControlledByCheckedKind(in.Object), Decision: d})
	}
	return resp
}

// cannotEvaluate admits the request with a warning, or denies it with DenyOnError.
func (h *Handler) cannotEvaluate(ctx context.Context, req admission.Request, start time.Time, err error) admission.Response {
	log.FromContext(ctx).Error(err, "cannot evaluate request", "kind", req.Kind.Kind, "name", req.Name, "namespace", req.Namespace)
	observeRequest(decisionError, req.Kind.Kind, string(req.Operation), start)
	msg := "cisgate could not evaluate this request: " + err.Error()
	if h.DenyOnError {
		return admission.Denied(msg)
	}
	return admission.Allowed("").WithWarnings(msg)
}

func (h *Handler) namespaceMode(ns string) (string, error) {
	if ns == "" || h.State == nil {
		return "", nil
	}
	return h.State.NamespaceMode(ns)
}

func isDryRun(req admission.Request) bool { return req.DryRun != nil && *req.DryRun }

var errNoObject = errors.New("the request carries no object")

// decodeRequest turns an AdmissionRequest into Decide's Request. Built-in kinds decode to their
// Go types; any other kind to its metadata, which is all 4.5.2 needs.
func decodeRequest(req admission.Request) (Request, error) {
	r := Request{SubResource: req.SubResource, Username: req.UserInfo.Username, Groups: req.UserInfo.Groups}
	raw := req.Object.Raw
	switch req.Operation {
	case admissionv1.Create:
		r.Operation = policy.OperationCreate
	case admissionv1.Update:
		r.Operation = policy.OperationUpdate
	case admissionv1.Delete:
		r.Operation, raw = policy.OperationDelete, req.OldObject.Raw
	default:
		r.Operation = policy.OperationNone
	}
	if len(raw) == 0 {
		return r, errNoObject
	}
	obj, err := decodeObject(req.Kind, raw, req.Namespace, req.Name)
	if err != nil {
		return r, err
	}
	r.Object = obj
	if r.Operation == policy.OperationUpdate && len(req.OldObject.Raw) > 0 {
		old, err := decodeObject(req.Kind, req.OldObject.Raw, req.Namespace, req.Name)
		if err != nil {
			return r, fmt.Errorf("old object: %w", err)
		}
		r.OldObject = &old
	}
	return r, nil
}

// decodeObject decodes a built-in kind into its Go type and any other kind into its metadata.
// goccy/go-json decodes the typed object about 2.8x faster than encoding/json (21 µs against
// 59 µs for a 2.4 KB Deployment, BENCHMARKS.md), and decoding is most of what admission costs;
// TestDecodeObjectMatchesEncodingJSON holds its results to encoding/json's.
func decodeObject(gvk metav1.GroupVersionKind, raw []byte, namespace, name string) (policy.Object, error) {
	var obj runtime.Object
	if typed, err := scheme.Scheme.New(schema.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind}); err == nil {
		if err := gojson.Unmarshal(raw, typed); err != nil {
			return policy.Object{}, fmt.Errorf("decoding %s: %w", gvk.Kind, err)
		}
		obj = typed
	} else {
		meta := &metav1.PartialObjectMetadata{}
		if err := gojson.Unmarshal(raw, meta); err != nil {
			return policy.Object{}, fmt.Errorf("decoding %s metadata: %w", gvk.Kind, err)
		}
		obj = meta
	}
	o := policy.NewObject(gvk.Kind, obj)
	// The request names the object where its body cannot: generateName, and namespace defaults.
	if o.Namespace == "" {
		o.Namespace = namespace
	}
	if o.Name == "" {
		o.Name = name
	}
	return o, nil
}

// NewWebhook wraps the handler for controller-runtime's webhook server; panics are recovered
// into an error response rather than taking the server down.
func NewWebhook(h *Handler) *admission.Webhook {
	return (&admission.Webhook{Handler: h}).WithRecoverPanic(true)
}
