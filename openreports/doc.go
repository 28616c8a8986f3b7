// Package openreports publishes cisgate's findings as OpenReports (openreports.io/v1alpha1, the
// types of github.com/openreports/reports-api): a Report per namespace for the audit's findings on
// the objects in it, a ClusterReport for cluster-scoped objects and the benchmark's manual items,
// and a ClusterReport per node for section 3, scoped to and owned by the Node.
//
// Build turns findings into reports (pure); Writer writes them as a controller would: by
// server-side apply under the field manager "cisgate", only when their content changed (a hash of
// it is kept in an annotation and compared with what the API server has), at a bounded rate, and
// deletes the reports it wrote that are no longer wanted. docs/architecture.md, "OpenReports",
// says what each field holds.
package openreports
