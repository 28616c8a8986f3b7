# kube-apiserver, etcd and helm for the integration tests, and kubelet, kube-controller-manager,
# kube-scheduler and kube-proxy for the local cluster (test/cluster), built from the Go module proxy.
# Included by the root Makefile; paths below are relative to the directory make runs in.
#
# Each binary comes from its own build-only module, pinned by that module's go.mod/go.sum:
#   test/tools       k8s.io/kubernetes/cmd/{kube-apiserver,kubelet,kube-controller-manager,
#                    kube-scheduler,kube-proxy} (one k8s.io/kubernetes release for all of them)
#   test/tools/etcd  go.etcd.io/etcd/server/v3 (etcd's main package)
#   test/tools/helm  helm.sh/helm/v3/cmd/helm
#
# They are built into a cache outside the work tree, one directory per hash of those go.mod and
# go.sum files, so a fresh clone on the same machine reuses them, and changing a pinned version
# builds a new set. A binary that is there is never rebuilt (it is written to a temporary name and
# renamed into place, so a build that was interrupted leaves nothing behind).
#
#   make tools          build whatever the envtest tests need (the first kube-apiserver build ~5 min)
#   make cluster-tools  also the node and control-plane components of the local cluster (~6 min more)
#   make tools-path     print TOOLS_BIN, e.g. KUBEBUILDER_ASSETS=$(make -s tools-path) go test ./test/e2e/...
#
# TOOLS_BIN is what KUBEBUILDER_ASSETS points at (envtest finds kube-apiserver and etcd there).

GO ?= go

TOOLS_DIR   := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
TOOLS_MODS  := $(TOOLS_DIR) $(TOOLS_DIR)/etcd $(TOOLS_DIR)/helm
TOOLS_HASH  := $(shell cat $(foreach m,$(TOOLS_MODS),$(m)/go.mod $(m)/go.sum) | sha256sum | cut -c1-12)
# Same place Go's own build cache defaults to (os.UserCacheDir).
TOOLS_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/cisgate/tools
TOOLS_BIN   ?= $(TOOLS_CACHE)/$(TOOLS_HASH)

# Static, reproducible binaries; -s -w only drops the symbol tables (stack traces still work).
TOOLS_GO_BUILD = CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false

# $(call tools_version,MODULE_DIR,MODULE_PATH): shell snippet printing the version go.mod pins.
tools_version = $$(cd $(1) && $(GO) list -m -f '{{.Version}}' $(2))

.PHONY: tools cluster-tools tools-path
tools: $(TOOLS_BIN)/kube-apiserver $(TOOLS_BIN)/etcd $(TOOLS_BIN)/helm
	@:

# Kept apart from `tools` so that envtest-only work never waits for the kubelet build.
CLUSTER_TOOLS := kubelet kube-controller-manager kube-scheduler kube-proxy
cluster-tools: tools $(addprefix $(TOOLS_BIN)/,$(CLUSTER_TOOLS))
	@:

tools-path:
	@echo $(TOOLS_BIN)

# The version variables are the ones kubernetes' hack/lib/version.sh sets for a release build.
# The kubelet reports this version on its Node and the API server compares it with its own.
$(addprefix $(TOOLS_BIN)/,kube-apiserver $(CLUSTER_TOOLS)):
	@mkdir -p $(@D)
	@v=$(call tools_version,$(TOOLS_DIR),k8s.io/kubernetes) && \
	mm=$${v#v}; major=$${mm%%.*}; minor=$${mm#*.}; minor=$${minor%%.*}; \
	echo "building $(@F) $$v from the Go module proxy (first time 1-5 min; cached in $(@D))" && \
	x=""; for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do \
		x="$$x -X $$p.gitVersion=$$v -X $$p.gitMajor=$$major -X $$p.gitMinor=$$minor -X $$p.gitTreeState=clean"; \
	done && \
	cd $(TOOLS_DIR) && $(TOOLS_GO_BUILD) -ldflags "-s -w $$x" -o $@.tmp k8s.io/kubernetes/cmd/$(@F) && \
	mv -f $@.tmp $@

$(TOOLS_BIN)/etcd:
	@mkdir -p $(@D)
	@v=$(call tools_version,$(TOOLS_DIR)/etcd,go.etcd.io/etcd/server/v3) && \
	echo "building etcd $$v from the Go module proxy (first time ~1 min; cached in $(@D))" && \
	cd $(TOOLS_DIR)/etcd && $(TOOLS_GO_BUILD) -ldflags "-s -w" -o $@.tmp go.etcd.io/etcd/server/v3 && \
	mv -f $@.tmp $@

# The version variables are the ones helm's own Makefile sets: its version, and the Kubernetes
# version that `helm template` and `helm lint` assume (from the k8s.io/client-go it was built with).
$(TOOLS_BIN)/helm:
	@mkdir -p $(@D)
	@v=$(call tools_version,$(TOOLS_DIR)/helm,helm.sh/helm/v3) && \
	k=$(call tools_version,$(TOOLS_DIR)/helm,k8s.io/client-go) && \
	k=$${k#v}; kmajor=$$(( $${k%%.*} + 1 )); kminor=$${k#*.}; kminor=$${kminor%%.*}; \
	echo "building helm $$v from the Go module proxy (first time ~2 min; cached in $(@D))" && \
	x="-X helm.sh/helm/v3/internal/version.version=$$v"; \
	for p in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do \
		x="$$x -X $$p.k8sVersionMajor=$$kmajor -X $$p.k8sVersionMinor=$$kminor"; \
	done && \
	cd $(TOOLS_DIR)/helm && $(TOOLS_GO_BUILD) -ldflags "-s -w $$x" -o $@.tmp helm.sh/helm/v3/cmd/helm && \
	mv -f $@.tmp $@
