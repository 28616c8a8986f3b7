// Package securityhub publishes cisgate's results into AWS Security Hub as AWS Security Finding
// Format (ASFF) findings through BatchImportFindings: one finding per account, region, cluster,
// check and resource, with a stable Id, so a rescan updates a finding and never adds another.
// A finding that passes now is PASSED and its workflow RESOLVED; one the scan no longer finds is
// ARCHIVED. Calls go in batches of at most 100, through a token bucket, retried by the SDK on
// throttling; every failure is logged and counted, never returned to stop a scan.
//
// It is its own package, beside openreports, because it is a sink of its own with its own SDK
// client: the node scan, the cloud scan and the audit hand it plain rows (Row) and a scope.
package securityhub
