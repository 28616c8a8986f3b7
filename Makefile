# cisgate. `make test` is what CI runs (.ci/run); `make demo` shows it working on a local control plane.
GO       ?= go
PKGS     := ./...
GOFILES   = $(shell git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './vendor/*')

# kube-apiserver, etcd and helm, built from the Go module proxy by test/tools (see tools.mk).
include test/tools/tools.mk

.PHONY: build test unit e2e moto lint fmt demo clean cluster-packages image pause-image cluster-test cluster-up cluster-down bench-cluster scale-tools scale

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/cisgate ./cmd/cisgate

lint:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	cd build/imagebuild && $(GO) vet ./...
	cd test/dashboards && $(GO) vet ./...

fmt:
	gofmt -w $(GOFILES)

# Unit tests, fuzz seed corpora, the integration tests on a real kube-apiserver and etcd, and
# the tests on the local cluster (test/e2e/cluster: root, the image and the node's packages).
# The cluster tests' package runs one cluster for all its tests, hence the longer -timeout.
test: lint tools cluster-tools cluster-packages image pause-image moto
	CISGATE_CLUSTER=1 CISGATE_IMAGE=$(CURDIR)/bin/image KUBEBUILDER_ASSETS=$(TOOLS_BIN) HELM=$(TOOLS_BIN)/helm $(GO) test -count=1 -timeout 30m $(PKGS)
	cd test/dashboards && $(GO) test -count=1 ./...

# Only the local-cluster tests.
cluster-test: tools cluster-tools cluster-packages image pause-image
	CISGATE_CLUSTER=1 KUBEBUILDER_ASSETS=$(TOOLS_BIN) HELM=$(TOOLS_BIN)/helm $(GO) test -count=1 -timeout 30m -v ./test/e2e/cluster/

# A local one-node cluster with the image imported, for trying the chart by hand:
#   make cluster-up   starts it and prints an admin kubeconfig as its last line
#   make cluster-down stops it and removes everything it made (processes, mounts, cgroups, files)
cluster-up: tools cluster-tools cluster-packages image pause-image
	@CGO_ENABLED=0 $(GO) build -o bin/cluster ./test/cluster/cmd/cluster
	@bin/cluster up -tools $(TOOLS_BIN) -image bin/pause-image -image bin/image

cluster-down:
	@CGO_ENABLED=0 $(GO) build -o bin/cluster ./test/cluster/cmd/cluster
	@bin/cluster down

# moto's server, the AWS API emulator the cloud scan's tests run against (cloudscan,
# test/e2e/cloudscan); those tests fail under CI=true without it.
# Found on PATH, else in pyenv's versions (where these machines have it, off a non-login shell's
# PATH), else installed with pip; the tests run $(MOTO_SERVER) when it is set.
MOTO_SERVER ?= $(shell command -v moto_server 2>/dev/null || ls $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/*/bin/moto_server 2>/dev/null | tail -n 1)
export MOTO_SERVER
moto:
	@if [ -z "$(MOTO_SERVER)" ]; then python3 -m pip install 'moto[server]==5.2.1'; else echo "moto_server: $(MOTO_SERVER)"; fi

unit: moto
	$(GO) test -count=1 $$($(GO) list $(PKGS) | grep -v /test/e2e)

e2e: tools moto
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

# The image, without Docker or a registry: an OCI image layout at bin/image whose index.json
# leads to a linux/amd64 and a linux/arm64 manifest (EKS node groups are often Graviton), tagged
# with the chart's appVersion. build/imagebuild packs the static binaries with go-containerregistry.
IMAGE_REPO    := ghcr.io/cisgate/cisgate
IMAGE_VERSION := $(shell sed -n 's/^appVersion: *"*\([^"]*\)"*$$/\1/p' charts/cisgate/Chart.yaml)
IMAGE_REV     := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
IMAGE_ARCHES  := amd64 arm64
IMAGEBUILD    := bin/imagebuild

$(IMAGEBUILD): build/imagebuild/main.go build/imagebuild/go.mod build/imagebuild/go.sum
	cd build/imagebuild && CGO_ENABLED=0 $(GO) build -trimpath -o ../../$@ .

image: $(IMAGEBUILD)
	@for a in $(IMAGE_ARCHES); do \
		echo "building cisgate $(IMAGE_VERSION) for linux/$$a"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$a $(GO) build -trimpath -buildvcs=false \
			-ldflags "-s -w -X github.com/cisgate/cisgate/cmd/cisgate/app.Version=$(IMAGE_VERSION)" \
			-o bin/linux_$$a/cisgate ./cmd/cisgate || exit 1; \
	done
	$(IMAGEBUILD) -o bin/image -name $(IMAGE_REPO):$(IMAGE_VERSION) -path /usr/local/bin/cisgate \
		-user 65532:65532 -cmd serve $(foreach a,$(IMAGE_ARCHES),-binary linux/$(a)=bin/linux_$(a)/cisgate) \
		-label org.opencontainers.image.source=https://github.com/cisgate/cisgate \
		-label org.opencontainers.image.version=$(IMAGE_VERSION) \
		-label org.opencontainers.image.revision=$(IMAGE_REV)
	@echo "bin/image: $(IMAGE_REPO):$(IMAGE_VERSION) for $(foreach a,$(IMAGE_ARCHES),linux/$(a))"

# The local cluster's pod sandbox image, for this machine's platform only.
pause-image: $(IMAGEBUILD)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o bin/pause ./test/cluster/pause
	$(IMAGEBUILD) -o bin/pause-image -name cisgate.test/pause:1 -path /pause \
		-binary linux/$$($(GO) env GOARCH)=bin/pause

# Pod creates through the API server of the local cluster: no webhook, cisgate, Pod Security
# Admission (see BENCHMARKS.md).
bench-cluster: tools cluster-tools cluster-packages image pause-image
	KUBEBUILDER_ASSETS=$(TOOLS_BIN) HELM=$(TOOLS_BIN)/helm $(GO) run ./test/loadgen

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./policy/ ./webhook/ ./nodescan/ ./controller/

# The scale harness (test/scale): kwok simulates SCALE_NODES nodes on a real kube-apiserver, with
# 2,000 namespaces and 50,000 objects, for an hour of cisgate serve with OpenReports and node scans.
# kwok is built from the module proxy into bin/ (go install, as any Go tool), not a dependency.
KWOK_VERSION := v0.8.0
SCALE_NODES  ?= 1000
scale-tools: bin/kwok
bin/kwok:
	GOBIN=$(CURDIR)/bin $(GO) install sigs.k8s.io/kwok/cmd/kwok@$(KWOK_VERSION)

scale: tools scale-tools
	CISGATE_SCALE_NODES=$(SCALE_NODES) CISGATE_SCALE_OUT=$(CURDIR)/bin/scale-$(SCALE_NODES).json KWOK=$(CURDIR)/bin/kwok \
		KUBEBUILDER_ASSETS=$(TOOLS_BIN) $(GO) test -count=1 -timeout 4h -run TestScale -v ./test/scale/

clean:
	rm -rf bin

# The local cluster, the chart installed with helm in enforce mode, the samples in
# test/demo/samples denied and warned with their CIS IDs, the Events, the node scan of the node's
# real kubelet and the report ConfigMap.
demo: tools cluster-tools cluster-packages image pause-image
	KUBEBUILDER_ASSETS=$(TOOLS_BIN) HELM=$(TOOLS_BIN)/helm $(GO) run ./test/demo
