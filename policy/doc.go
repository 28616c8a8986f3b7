// Package policy holds cisgate's checks of the CIS Amazon EKS Benchmark that are decided on one
// Kubernetes object (sections 4 and the admission-decidable part of 5), the catalogue that turns a
// check's stable slug into the ID and title of a benchmark version, and the configuration types.
//
// Everything here is pure: no client, no HTTP, no logging. Cluster state that a few checks need
// (NetworkPolicy counts, a ServiceAccount's automount setting, the IngressClasses) comes through
// the read-only Lookup interface; without one 4.1.6 and 4.3.2 answer WARN, and 5.4.5 knows only
// the IngressClasses the caller passes (Object.IngressClass).
package policy
