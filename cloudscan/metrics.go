package cloudscan

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	errorsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_cloudscan_errors_total",
		Help: "Reads of the cloud scan that failed, by reason (no-credentials, access-denied, throttled, cluster-not-found, endpoint-unreachable, kubernetes-api, error); the items that needed them are WARN.",
	}, []string{"reason"})
	scansTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "cisgate_cloudscan_scans_total",
		Help: "Cloud scans run.",
	})
)

// registerMetrics registers the metrics on controller-runtime's registry, which serve exposes on
// /metrics, once, with every reason at zero so an alert on a rate sees the series from the start.
var registerMetrics = sync.OnceValue(func() error {
	for _, r := range Reasons() {
		errorsTotal.WithLabelValues(string(r))
	}
	for _, c := range []prometheus.Collector{errorsTotal, scansTotal} {
		if err := metrics.Registry.Register(c); err != nil {
			return err
		}
	}
	return nil
})

func countError(r Reason) { errorsTotal.WithLabelValues(string(r)).Inc() }
