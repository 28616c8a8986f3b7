// Package report is where findings go. It holds the payload of every report ConfigMap key (the
// webhook replicas', the audit's, the node scans' and the cloud scan's) with its Summarise, the
// Publisher that sends a scan's rows to every enabled Sink (the ConfigMap key, the Event,
// OpenReports through openreports.ScanSink), and the two sinks the webhook, the scans and the
// audit share: Kubernetes Events (events.k8s.io/v1) and the report ConfigMap.
//
// Neither sink ever blocks its caller. EventSink.Emit puts the event on a bounded queue and drops
// it (counting cisgate_report_dropped_total) when the queue is full; Writer.Set replaces the
// latest payload of one ConfigMap key, and a loop writes it at most once per interval.
//
// The ConfigMap cisgate-report has one key per writer, each written by server-side apply under its
// own field manager (see Key), so writers never overwrite each other. Each payload embeds Header
// ("schemaVersion": 1, "truncated") and must fit in the writer's byte budget: the budgets are
// shares of ConfigMapBudget (see SplitBudget), and a payload that implements Summariser is
// summarised when it does not fit.
package report
