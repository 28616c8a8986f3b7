// Package controller holds the leader-elected loops that run in `cisgate serve`: the background
// audit, which finds what already breaks the section 4 and 5 policies and writes audit.json; the
// summary, which merges the audit with every replica's, node's and the cloud scan's report key
// into summary.json; the node-scan Job scheduling; and the cloud scan, published through a
// report.Publisher.
package controller
