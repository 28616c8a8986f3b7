package securityhub

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Outcomes of findings, the outcome label of cisgate_securityhub_findings_total.
const (
	outcomeImported  = "imported"
	outcomeFailed    = "failed"
	outcomeArchived  = "archived"
	outcomeResolved  = "resolved"
	outcomeUnchanged = "unchanged"
)

// sources are the writers, the source label.
var sources = []string{ScopeAudit, ScopeCloud, "nodescan"}

var (
	findingsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_securityhub_findings_total",
		Help: "Findings sent to AWS Security Hub by source (audit, cloud, nodescan) and outcome: imported, unchanged (not imported: Security Hub already says the same), failed (refused, or in a call that failed), archived (no longer found by the scan), resolved (workflow set to RESOLVED or SUPPRESSED).",
	}, []string{"source", "outcome"})
	errorsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_securityhub_errors_total",
		Help: "Failed AWS Security Hub calls and refused findings, by IAM action and reason (access-denied, throttled, endpoint-unreachable, not-enabled, invalid-input, error); the scans and their other reports are unaffected.",
	}, []string{"action", "reason"})
)

// registerMetrics registers the metrics on controller-runtime's registry, which serve exposes on
// /metrics, once, with every series at zero so an alert on a rate sees it from the start.
var registerMetrics = sync.OnceValue(func() error {
	for _, s := range sources {
		for _, o := range []string{outcomeImported, outcomeUnchanged, outcomeFailed, outcomeArchived, outcomeResolved} {
			findingsTotal.WithLabelValues(s, o)
		}
	}
	for _, a := range append(IAMActions(), ActionGetCallerIdentity) {
		for _, r := range Reasons() {
			errorsTotal.WithLabelValues(a, string(r))
		}
	}
	for _, c := range []prometheus.Collector{findingsTotal, errorsTotal} {
		if err := metrics.Registry.Register(c); err != nil {
			return err
		}
	}
	return nil
})

func countFindings(source, outcome string, n int) {
	if n > 0 {
		findingsTotal.WithLabelValues(source, outcome).Add(float64(n))
	}
}

func countError(action string, r Reason) { errorsTotal.WithLabelValues(action, string(r)).Inc() }
