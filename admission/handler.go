package admission

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	gojson "github.com/goccy/go-json"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cisgate/cisgate/clusterstate"
	"github.com/cisgate/cisgate/policy"
)

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

// Handler serves /validate: read the AdmissionReview, decode it once into what Decide needs,
// decide, answer. The answer never waits on reporting.
//
// It is a plain http.Handler rather than controller-runtime's admission.Webhook: that one decodes
// the whole review with the API machinery's codec into an admission.Request, and the object a
// second time into its Go type, which cost a third of the throughput (BENCHMARKS.md). The
// semantics are the same (TestServeHTTPSeeds, FuzzServeHTTP): a body that is no AdmissionReview
// is answered 200 with an error response of code 400, as controller-runtime does.
type Handler struct {
	// Policy returns the current policy; the config may be reloaded between requests.
	Policy   func() *policy.Policy
	State    clusterstate.State
	Recorder Recorder
	// DenyOnError denies a request cisgate cannot evaluate; by default it is admitted with a warning.
	DenyOnError bool
	// Bodies bounds the memory request bodies hold at once; nil: only MaxRequestBytes per request.
	Bodies *BodyBudget
}

var _ http.Handler = (*Handler)(nil)

// review is the part of an AdmissionReview cisgate reads, in either version (v1beta1 has the same
// fields). Unknown fields are skipped without being decoded.
type review struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Request    *reviewRequest `json:"request"`
}

type reviewRequest struct {
	UID         types.UID               `json:"uid"`
	Kind        metav1.GroupVersionKind `json:"kind"`
	SubResource string                  `json:"subResource"`
	Name        string                  `json:"name"`
	Namespace   string                  `json:"namespace"`
	Operation   admissionv1.Operation   `json:"operation"`
	UserInfo    struct {
		Username string   `json:"username"`
		Groups   []string `json:"groups"`
	} `json:"userInfo"`
	Object    rawObject `json:"object"`
	OldObject rawObject `json:"oldObject"`
	DryRun    *bool     `json:"dryRun"`
}

// rawObject keeps an embedded object's JSON for decoding once its kind is known (the review
// names the kind next to the object, and a client may send it after).
type rawObject []byte

func (r *rawObject) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		*r = nil
		return nil
	}
	*r = data
	return nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		// Only the API server's POST is a review; a GET or PUT with a body is not evaluated.
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "only POST is served", http.StatusMethodNotAllowed)
		observeRejected(rejectedMethod)
		return
	}
	body, status, err := h.readBody(r)
	if err != nil {
		if status == http.StatusServiceUnavailable {
			// Not the client's fault: the API server applies the failurePolicy to a 503.
			observeRejected(rejectedBudget)
			http.Error(w, err.Error(), int(status))
			return
		}
		writeReview(w, review{}, errored(status, err))
		return
	}
	defer h.Bodies.release(body)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		writeReview(w, review{}, errored(http.StatusBadRequest, fmt.Errorf("contentType=%s, expected application/json", ct)))
		return
	}
	var rv review
	if err := gojson.UnmarshalNoEscape(body.data, &rv); err != nil {
		writeReview(w, review{}, errored(http.StatusBadRequest, fmt.Errorf("json parse error: %w", err)))
		return
	}
	if rv.Request == nil {
		rv.Request = &reviewRequest{}
	}
	resp := h.Handle(r.Context(), rv.Request)
	resp.UID = rv.Request.UID
	writeReview(w, rv, resp)
}

// Handle decides one request. A panic while deciding is answered like any other failure to
// evaluate: allowed=false would be a denial whatever the failurePolicy.
func (h *Handler) Handle(ctx context.Context, req *reviewRequest) (resp admissionv1.AdmissionResponse) {
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
	// Every lookup of this request, cached or live, shares one budget from here.
	budget, cancel := context.WithTimeout(ctx, clusterstate.LookupBudget)
	defer cancel()
	state := h.State
	if s, ok := state.(clusterstate.RequestScoped); ok {
		state = s.ForRequest(budget)
	}
	if mode, err := namespaceMode(state, in.Object.Namespace); err == nil {
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
	if state != nil {
		lookup = state
	}
	d := Decide(pol, in, lookup)

	resp = allowed()
	result := decisionAllowed
	if !d.Allowed {
		resp, result = denied(d.Message), decisionDenied
	}
	resp.Warnings = d.Warnings
	observeRequest(result, req.Kind, req.Operation, start)
	observeFindings(pol.Catalogue, d.Rulings)
	if h.Recorder != nil && !isDryRun(req) && len(d.Rulings) > 0 {
		h.Recorder.Record(Record{Time: start, Benchmark: pol.Catalogue.Benchmark(), Operation: req.Operation, Object: in.Object, OwnedByChecked: policy.ControlledByCheckedKind(in.Object), Decision: d})
	}
	return resp
}

// cannotEvaluate admits the request with a warning, or denies it with DenyOnError.
func (h *Handler) cannotEvaluate(ctx context.Context, req *reviewRequest, start time.Time, err error) admissionv1.AdmissionResponse {
	log.FromContext(ctx).Error(err, "cannot evaluate request", "kind", req.Kind.Kind, "name", req.Name, "namespace", req.Namespace)
	observeRequest(decisionError, req.Kind, req.Operation, start)
	msg := "cisgate could not evaluate this request: " + err.Error()
	if h.DenyOnError {
		return denied(msg)
	}
	resp := allowed()
	resp.Warnings = []string{msg}
	return resp
}

func namespaceMode(state clusterstate.State, ns string) (string, error) {
	if ns == "" || state == nil {
		return "", nil
	}
	return state.NamespaceMode(ns)
}

func isDryRun(req *reviewRequest) bool { return req.DryRun != nil && *req.DryRun }

func allowed() admissionv1.AdmissionResponse {
	return admissionv1.AdmissionResponse{Allowed: true, Result: &metav1.Status{Code: http.StatusOK}}
}

func denied(msg string) admissionv1.AdmissionResponse {
	return admissionv1.AdmissionResponse{Result: &metav1.Status{Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: msg}}
}

// errored answers a body that is no AdmissionReview, as controller-runtime does: the API server
// finds no UID in it and applies the failurePolicy.
func errored(code int32, err error) admissionv1.AdmissionResponse {
	return admissionv1.AdmissionResponse{Result: &metav1.Status{Code: code, Message: err.Error()}}
}

// writeReview answers in the version and kind the review was sent in (admission.k8s.io/v1
// AdmissionReview when it named none).
func writeReview(w http.ResponseWriter, in review, resp admissionv1.AdmissionResponse) {
	out := admissionv1.AdmissionReview{Response: &resp}
	out.APIVersion, out.Kind = in.APIVersion, in.Kind
	if in.APIVersion == "" && in.Kind == "" {
		out.APIVersion, out.Kind = admissionv1.SchemeGroupVersion.String(), "AdmissionReview"
	}
	data, err := gojson.Marshal(&out)
	if err != nil {
		// An AdmissionReview of strings always encodes; this is for a broken writer's sake.
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(data)
}

var errNoObject = errors.New("the request carries no object")

// decodeRequest turns an AdmissionRequest into Decide's Request. Built-in kinds decode to their
// Go types; any other kind to its metadata, which is all 4.5.2 needs.
func decodeRequest(req *reviewRequest) (Request, error) {
	r := Request{SubResource: req.SubResource, Username: req.UserInfo.Username, Groups: req.UserInfo.Groups}
	raw := req.Object
	switch req.Operation {
	case admissionv1.Create:
		r.Operation = policy.OperationCreate
	case admissionv1.Update:
		r.Operation = policy.OperationUpdate
	case admissionv1.Delete:
		r.Operation, raw = policy.OperationDelete, req.OldObject
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
	if r.Operation == policy.OperationUpdate && len(req.OldObject) > 0 {
		old, err := decodeObject(req.Kind, req.OldObject, req.Namespace, req.Name)
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
	o := policy.NewObjectOf(schema.GroupKind{Group: gvk.Group, Kind: gvk.Kind}, obj)
	// The request names the object where its body cannot: generateName, and namespace defaults.
	if o.Namespace == "" {
		o.Namespace = namespace
	}
	if o.Scope == policy.ScopeUnknown {
		// A custom kind: the request's namespace is the API server's word on its scope (it
		// sends one for every namespaced resource and none for a cluster-scoped one).
		o.Scope, o.Namespaced = policy.ScopeCluster, namespace != ""
		if o.Namespaced {
			o.Scope = policy.ScopeNamespaced
		}
	}
	if o.Scope == policy.ScopeCluster {
		// A cluster-scoped object has no namespace, whatever its body says; the API server
		// sends a Namespace's own name as the request's namespace.
		o.Namespace = ""
	}
	if o.Name == "" {
		o.Name = name
	}
	return o, nil
}

// readBody reads at most MaxRequestBytes.
func (h *Handler) readBody(r *http.Request) (*body, int32, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, http.StatusBadRequest, errors.New("request body is empty")
	}
	defer r.Body.Close()
	b, err := h.Bodies.read(r.Body, r.ContentLength)
	switch {
	case errors.Is(err, errTooLarge):
		return nil, http.StatusRequestEntityTooLarge, err
	case errors.Is(err, errBudget):
		return nil, http.StatusServiceUnavailable, err
	case err != nil:
		return nil, http.StatusBadRequest, err
	case len(b.data) == 0:
		h.Bodies.release(b)
		return nil, http.StatusBadRequest, errors.New("request body is empty")
	}
	return b, 0, nil
}
