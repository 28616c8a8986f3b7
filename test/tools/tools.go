//go:build tools

// Package tools pins kube-apiserver for the integration tests; tools.mk builds it with
// `go build` from this module, so its version is exactly the one in go.mod/go.sum.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
