# cisgate. `make test` is what CI runs (.ci/run); `make demo` shows it working on a local control plane.
GO       ?= go
PKGS     := ./...
GOFILES   = $(shell git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './vendor/*')

# kube-apiserver, etcd and helm, built from the Go module proxy by test/tools (see tools.mk).
include test/tools/tools.mk

.PHONY: build test unit e2e lint fmt demo clean

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

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./policy/ ./webhook/ ./nodescan/ ./controller/

clean:
	rm -rf bin

# A local control plane, the webhook in enforce mode, the samples in test/demo/samples denied and
# warned with their CIS IDs, the Events, the report ConfigMap and a node scan.
demo: tools
	KUBEBUILDER_ASSETS=$(TOOLS_BIN) $(GO) run ./test/demo
