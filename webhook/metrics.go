package webhook

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// decision is the label value of cisgate_admission_requests_total.
type decision string

const (
	decisionAllowed decision = "allowed"
	decisionDenied  decision = "denied"
	// decisionError: cisgate could not evaluate the request (admitted unless DenyOnError).
	decisionError decision = "error"
)

var (
	requestsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_admission_requests_total",
		Help: "Admission requests answered, by decision, kind and operation.",
	}, []string{"decision", "kind", "operation"})
	requestDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "cisgate_admission_duration_seconds",
		Help:    "Time to decide an admission request, from decoding to the response.",
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1},
	})
	findingsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_findings_total",
		Help: "Findings at admission, by CIS ID and mode (enforce, audit, exempt).",
	}, []string{"id", "mode"})
	namespaceModeIgnored = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_namespace_mode_ignored_total",
		Help: "Admission requests into a namespace whose cisgate.io/mode label holds a value other than enforce or audit, which cisgate ignores, by namespace.",
	}, []string{"namespace"})
)

func init() {
	metrics.Registry.MustRegister(requestsTotal, requestDuration, findingsTotal, namespaceModeIgnored)
}

func observeRequest(d decision, kind, operation string, start time.Time) {
	requestsTotal.WithLabelValues(string(d), kind, operation).Inc()
	requestDuration.Observe(time.Since(start).Seconds())
}

func observeFindings(findings []Finding) {
	for _, f := range findings {
		mode := string(f.Mode)
		if f.Verdict == VerdictExempt {
			mode = string(VerdictExempt)
		}
		findingsTotal.WithLabelValues(f.ID, mode).Inc()
	}
}
