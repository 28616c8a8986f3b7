//go:build tools

// Package tools pins the Kubernetes components the tests run; tools.mk builds them with
// `go build` from this module, so their version is exactly the one in go.mod/go.sum.
// kube-apiserver is what the envtest integration tests need; kubelet, kube-controller-manager,
// kube-scheduler and kube-proxy complete the local cluster of test/cluster.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
