//go:build tools

// Package tools pins etcd for the integration tests: go.etcd.io/etcd/server/v3 is etcd's main
// package. ../tools.mk builds it with `go build` from this module.
package tools

import _ "go.etcd.io/etcd/server/v3"
