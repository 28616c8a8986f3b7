// Package controller holds the leader-elected loops that run in `cisgate serve`'s manager: the
// background audit, which finds what already breaks the section 4 policies and writes audit.json
// and summary.json to the report ConfigMap, and the node-scan Job scheduling.
package controller
