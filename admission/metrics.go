package admission

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/cisgate/cisgate/policy"
)

// decision is the label value of cisgate_admission_requests_total.
type decision string

const (
	decisionAllowed decision = "allowed"
	decisionDenied  decision = "denied"
	// decisionError: cisgate could not evaluate the request (admitted unless DenyOnError).
	decisionError decision = "error"
)

// rejection is why a request was refused before it was a review (cisgate_admission_rejected_total).
type rejection string

const (
	rejectedMethod rejection = "method"
	rejectedBudget rejection = "body-budget"
)

// otherLabel stands for every kind and operation outside the known ones. Label values come from
// the request, which anyone who reaches the port can write: one series per made-up kind would
// grow /metrics and the heap without bound.
const otherLabel = "other"

var (
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_admission_requests_total",
		Help: "Admission requests answered, by decision, kind and operation. Kinds outside the built-in API and operations outside CREATE, UPDATE, DELETE and CONNECT are counted as \"other\".",
	}, []string{"decision", "kind", "operation"})
	requestDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "cisgate_admission_duration_seconds",
		Help:    "Time to decide an admission request, from decoding to the response.",
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1},
	})
	// findingsTotal is keyed by check slug only. An id label rendered from the running benchmark
	// would mix series: after a reload from eks-1.0.1 to eks-1.2.0, id="4.2.7" would sum net-raw
	// counts (1.0.1) and added-capabilities counts (1.2.0) in one counter, and no query could
	// split them again. The slug names the same check in every version; cisgate_check_info maps
	// it to the running benchmark's ID at scrape time.
	findingsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_findings_total",
		Help: "Findings at admission, by check slug and mode (enforce, audit, exempt). Join with cisgate_check_info for the CIS ID.",
	}, []string{"check", "mode"})
	rejectedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_admission_rejected_total",
		Help: "Requests to /validate refused before evaluation: method (not POST), body-budget (large bodies in flight past the bound).",
	}, []string{"reason"})
	namespaceModeIgnored = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_namespace_mode_ignored_total",
		Help: "Admission requests into a namespace whose cisgate.io/mode label holds a value other than enforce or audit, which cisgate ignores, by namespace.",
	}, []string{"namespace"})
)

// runningCatalogue is the catalogue of the policy that decided the latest request: the benchmark
// in force. Nil until the first request, when there is no finding to map either.
var runningCatalogue atomic.Pointer[policy.Catalogue]

var checkInfoDesc = prometheus.NewDesc("cisgate_check_info",
	"1 for every check of the benchmark in force: check slug, its CIS ID in that benchmark, and the benchmark.",
	[]string{"check", "id", "benchmark"}, nil)

// checkInfo renders the slug-to-ID mapping from the benchmark in force when scraped, so a config
// change replaces the mapping rather than leaving the old benchmark's series behind.
type checkInfo struct{}

func (checkInfo) Describe(ch chan<- *prometheus.Desc) { ch <- checkInfoDesc }

func (checkInfo) Collect(ch chan<- prometheus.Metric) {
	cat := runningCatalogue.Load()
	if cat == nil {
		return
	}
	b := string(cat.Benchmark())
	for _, e := range cat.Entries() {
		ch <- prometheus.MustNewConstMetric(checkInfoDesc, prometheus.GaugeValue, 1, string(e.Slug), e.ID, b)
	}
}

func init() {
	metrics.Registry.MustRegister(requestsTotal, requestDuration, findingsTotal, rejectedTotal, namespaceModeIgnored, checkInfo{})
}

func observeRequest(d decision, gvk metav1.GroupVersionKind, op admissionv1.Operation, start time.Time) {
	requestsTotal.WithLabelValues(string(d), kindLabel(gvk), operationLabel(op)).Inc()
	requestDuration.Observe(time.Since(start).Seconds())
}

func observeRejected(r rejection) { rejectedTotal.WithLabelValues(string(r)).Inc() }

// kindLabel is the kind when client-go's scheme knows it (a fixed set compiled in), else "other".
func kindLabel(gvk metav1.GroupVersionKind) string {
	if scheme.Scheme.Recognizes(schema.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind}) {
		return gvk.Kind
	}
	return otherLabel
}

func operationLabel(op admissionv1.Operation) string {
	switch op {
	case admissionv1.Create, admissionv1.Update, admissionv1.Delete, admissionv1.Connect:
		return string(op)
	}
	return otherLabel
}

func observeFindings(cat *policy.Catalogue, findings []Ruling) {
	runningCatalogue.Store(cat)
	for _, f := range findings {
		mode := string(f.Mode)
		if f.Verdict == VerdictExempt {
			mode = string(VerdictExempt)
		}
		findingsTotal.WithLabelValues(string(f.Slug), mode).Inc()
	}
}
