# cisgate. `make test` is what CI runs (.ci/run); `make demo` shows it working on a local control plane.
GO       ?= go
PKGS     := ./...
GOFILES   = $(shell git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './vendor/*')

# kube-apiserver, etcd and helm, built from the Go module proxy by test/tools (see tools.mk).
include test/tools/tools.mk

.PHONY: build test unit e2e lint fmt demo clean cluster-packages

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/cisgate ./cmd/cisgate

lint:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $(GOFILES)

# Unit tests, fuzz seed corpora and the integration tests on a real kube-apiserver and etcd.
test: lint tools
	KUBEBUILDER_ASSETS=$(TOOLS_BIN) HELM=$(TOOLS_BIN)/helm $(GO) test -count=1 $(PKGS)

unit:
	$(GO) test -count=1 $$($(GO) list $(PKGS) | grep -v /test/e2e)

e2e: tools
	KUBEBUILDER_ASSETS=$(TOOLS_BIN) HELM=$(TOOLS_BIN)/helm $(GO) test -count=1 -v ./test/e2e/...

# The local cluster's node runs on Debian's container runtime and networking (test/cluster). CI is
# root on a fresh Debian machine; a machine that has them all is left alone. Pinned by the Debian
# release: containerd 1.6 and runc 1.1 on bookworm/trixie (both cgroup v1-capable, see docs/cluster.md).
CLUSTER_PKGS := containerd runc containernetworking-plugins iptables conntrack
cluster-packages:
	@missing=""; \
	for c in containerd:containerd runc:runc /usr/lib/cni/bridge:containernetworking-plugins \
	         iptables:iptables conntrack:conntrack; do \
		f=$${c%%:*}; p=$${c#*:}; \
		if [ "$${f#/}" != "$$f" ]; then [ -x "$$f" ] || missing="$$missing $$p"; \
		else command -v $$f >/dev/null 2>&1 || PATH=$$PATH:/usr/sbin:/sbin command -v $$f >/dev/null 2>&1 || missing="$$missing $$p"; fi; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing from Debian"; \
		apt-get -o DPkg::Lock::Timeout=600 update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./policy/ ./webhook/ ./nodescan/ ./controller/

clean:
	rm -rf bin

# A local control plane, the webhook in enforce mode, the samples in test/demo/samples denied and
# warned with their CIS IDs, the Events, the report ConfigMap and a node scan.
demo: tools
	KUBEBUILDER_ASSETS=$(TOOLS_BIN) $(GO) run ./test/demo
