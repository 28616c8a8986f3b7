// Package policy holds cisgate's checks of the CIS Amazon EKS Benchmark that are decided on one
// Kubernetes object (sections 4 and the admission-decidable part of 5), the catalogue that turns a
// check's stable slug into the ID and title of a benchmark version, and the configuration types.
//
// Everything here is pure: no client, no HTTP, no logging. Cluster state that a few checks need
// (NetworkPolicy counts, a ServiceAccount's automount setting) comes through the read-only Lookup
// interface; without one those checks answer WARN.
package policy
