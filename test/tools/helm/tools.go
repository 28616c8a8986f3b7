//go:build tools

// Package tools pins helm for the chart tests; ../tools.mk builds it with `go build` from this
// module.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
