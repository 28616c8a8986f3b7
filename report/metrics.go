package report

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The sink label values of the metrics below.
const (
	sinkEvents    = "events"
	sinkConfigMap = "configmap"
)

var (
	droppedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_report_dropped_total",
		Help: "Reports dropped because the sink's queue was full or the process stopped before they were sent.",
	}, []string{"sink"})
	writeErrorsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_report_write_errors_total",
		Help: "Failed writes to the API server (Event creations and report ConfigMap applies).",
	}, []string{"sink"})
	writesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_report_writes_total",
		Help: "Successful writes to the API server (Event creations and patches, report ConfigMap applies).",
	}, []string{"sink"})
	queueLength = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cisgate_report_queue_length",
		Help: "Reports waiting in the sink's queue.",
	}, []string{"sink"})
	rejectedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_report_rejected_total",
		Help: "Reports refused before they were queued, as the API server would refuse them (an Event without a valid object, type, reason or action).",
	}, []string{"sink"})
	truncatedTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cisgate_report_truncated_total",
		Help: "Report ConfigMap payloads that were over their byte budget and were summarised.",
	}, []string{"sink"})
)

// registerMetrics registers the metrics on controller-runtime's registry, which its manager serves
// on /metrics. Constructors call it, so a process that never reports registers nothing.
var registerMetrics = sync.OnceValue(func() error {
	for _, c := range []prometheus.Collector{droppedTotal, writeErrorsTotal, writesTotal, queueLength, rejectedTotal, truncatedTotal} {
		if err := metrics.Registry.Register(c); err != nil {
			return err
		}
	}
	return nil
})
