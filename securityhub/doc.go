// Package securityhub publishes cisgate's results into AWS Security Hub as AWS Security Finding
// Format (ASFF) findings through BatchImportFindings: one finding per account, region, cluster,
// check and resource, with a stable Id, so a rescan updates a finding and never adds another.
// A finding that passes now is PASSED and its workflow RESOLVED; one the scan no longer finds is
// ARCHIVED. Calls go in batches of at most 100, through a token bucket, retried by the SDK on
// throttling; every failure is logged and counted, never returned to stop a scan.
//
// It is a package of its own, beside openreports, because it is a sink with its own SDK client
// and identity: the scans reach it as a report.Sink (Sink, in the node scan's and the cloud
// scan's report.Publisher), the audit (controller.Auditor, `cisgate audit`) and the node-scan
// scheduler (a deleted node's findings) call the Publisher with plain rows (Row) and a scope.
package securityhub
