# signet — see README.md. Targets are the interface CI and developers use.
GO       ?= go
BIN      ?= bin/signet
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS  := -s -w -X github.com/signetdev/signet/internal/version.gitVersion=$(VERSION) \
            -X github.com/signetdev/signet/internal/version.gitCommit=$(shell git rev-parse HEAD 2>/dev/null) \
            -X github.com/signetdev/signet/internal/version.buildDate=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)

.PHONY: build build-pkcs11 install test lint bench e2e demo fuzz clean stack-up stack-down stack-status

# The KMS providers ship as one plugin program beside signet, linked under
# each scheme's name (docs/KEYS.md says why they are not compiled in).
KMS_SCHEMES := awskms gcpkms azurekms hashivault openbao
BINDIR      := $(patsubst %/,%,$(dir $(BIN)))

# Static (no cgo): no dynamic loader at start-up, and a binary that runs
# on any Linux, as cosign's releases do.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/signet
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o $(BINDIR)/sigstore-kms-awskms ./cmd/sigstore-kms
	@for s in $(filter-out awskms,$(KMS_SCHEMES)); do ln -f $(BINDIR)/sigstore-kms-awskms $(BINDIR)/sigstore-kms-$$s; done

# PKCS#11 keys (pkcs11: URIs, pkcs11-tool) need cgo, as in cosign.
build-pkcs11:
	CGO_ENABLED=1 $(GO) build -trimpath -tags pkcs11key -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/signet

install:
	CGO_ENABLED=0 $(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/signet
	@d="$$($(GO) env GOBIN)"; d="$${d:-$$($(GO) env GOPATH)/bin}"; \
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o "$$d/sigstore-kms-awskms" ./cmd/sigstore-kms && \
	for s in $(filter-out awskms,$(KMS_SCHEMES)); do ln -f "$$d/sigstore-kms-awskms" "$$d/sigstore-kms-$$s"; done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./...

test: lint
	$(GO) test ./...

# Go micro-benchmarks, then signet against openssl (and cosign) on a 1 GiB file.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 5x ./pkg/...
	./hack/bench.sh

# Every fuzz target for FUZZTIME (seeds always run in `make test`).
FUZZTIME ?= 30s
fuzz:
	FUZZTIME=$(FUZZTIME) ./hack/fuzz.sh

# The main job, end to end on this machine: build signet, sign a file with a
# fresh key (openssl), verify it; and verify real npm provenance when
# ../shared is beside the repository.
demo: build
	./hack/demo.sh

# End-to-end tests against a local Sigstore stack (docs/LOCAL-STACK.md):
# installs the pinned servers into ~/.cache/signet-stack, starts the stack,
# runs `go test -tags e2e ./test/e2e/...` and stops the stack, even on failure.
e2e:
	./hack/e2e

stack-up:
	./hack/local-stack install && ./hack/local-stack up

stack-down:
	./hack/local-stack down

stack-status:
	./hack/local-stack status

clean:
	rm -rf bin .bench
