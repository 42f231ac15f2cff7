# signet — see README.md. Targets are the interface CI and developers use.
GO       ?= go
GOOS     ?= $(shell $(GO) env GOOS)
GOARCH   ?= $(shell $(GO) env GOARCH)
EXE      := $(if $(filter windows,$(GOOS)),.exe,)
BINDIR   ?= bin
BIN      ?= $(BINDIR)/signet$(EXE)
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null)
# Reproducible builds: the build date is the commit's time (or the
# SOURCE_DATE_EPOCH the caller gives), never the clock, so two builds of one
# commit are byte-identical.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
BUILD_DATE := $(shell date -u -d @$(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r $(SOURCE_DATE_EPOCH) +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS  := -s -w -buildid= -X github.com/signetdev/signet/internal/version.gitVersion=$(VERSION) \
            -X github.com/signetdev/signet/internal/version.gitCommit=$(COMMIT) \
            -X github.com/signetdev/signet/internal/version.buildDate=$(BUILD_DATE)
export SOURCE_DATE_EPOCH

.PHONY: build build-pkcs11 install test lint bench e2e e2e-keys demo fuzz fuzz-ci clean stack-up stack-down stack-status docs man dist sbom

# The KMS providers ship as one plugin program beside signet, linked under
# each scheme's name (docs/KEYS.md says why they are not compiled in).
KMS_SCHEMES := awskms gcpkms azurekms hashivault openbao

# Static (no cgo): no dynamic loader at start-up, and a binary that runs
# on any Linux, as cosign's releases do.
# GOOS/GOARCH/BINDIR cross-build into another directory (make dist does).
# -buildvcs=false: the version comes from -X; Go's VCS stamp would change
# with untracked files in the checkout, and so would the binary.
# signet-policy (the CUE and Rego engines, run by signet for --policy and
# admission attestation policies) and the KMS plugins ship beside signet.
build:
	CGO_ENABLED=0 GOOS=$(GOOS) GOARCH=$(GOARCH) $(GO) build -trimpath -buildvcs=false -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/signet
	CGO_ENABLED=0 GOOS=$(GOOS) GOARCH=$(GOARCH) $(GO) build -trimpath -buildvcs=false -ldflags '-s -w -buildid=' -o $(BINDIR)/signet-policy$(EXE) ./cmd/signet-policy
	CGO_ENABLED=0 GOOS=$(GOOS) GOARCH=$(GOARCH) $(GO) build -trimpath -buildvcs=false -ldflags '-s -w -buildid=' -o $(BINDIR)/sigstore-kms-awskms$(EXE) ./cmd/sigstore-kms
	@for s in $(filter-out awskms,$(KMS_SCHEMES)); do ln -f $(BINDIR)/sigstore-kms-awskms$(EXE) $(BINDIR)/sigstore-kms-$$s$(EXE); done

# Release archives of `make build` for each of DIST_PLATFORMS (default: linux,
# darwin, windows × amd64, arm64) and checksums.txt in dist/ — byte-identical
# for two runs on one commit (hack/release/build.sh).
dist:
	./hack/release/build.sh

# A CycloneDX SBOM of the Go modules linked into signet (dist/signet.cdx.json).
sbom:
	./hack/release/sbom.sh

# PKCS#11 keys (pkcs11: URIs, pkcs11-tool) need cgo, as in cosign.
build-pkcs11:
	CGO_ENABLED=1 $(GO) build -trimpath -buildvcs=false -tags pkcs11key -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/signet
	CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false -ldflags '-s -w -buildid=' -o $(BINDIR)/signet-policy$(EXE) ./cmd/signet-policy

install:
	CGO_ENABLED=0 $(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/signet
	CGO_ENABLED=0 $(GO) install -trimpath -ldflags '-s -w' ./cmd/signet-policy
	@d="$$($(GO) env GOBIN)"; d="$${d:-$$($(GO) env GOPATH)/bin}"; \
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '-s -w' -o "$$d/sigstore-kms-awskms" ./cmd/sigstore-kms && \
	for s in $(filter-out awskms,$(KMS_SCHEMES)); do ln -f "$$d/sigstore-kms-awskms" "$$d/sigstore-kms-$$s"; done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags e2e ./...

test: lint
	$(GO) test ./...

# The Markdown command reference in docs/cli/, from the cobra tree. Run it
# after changing a command, flag or help text: a test fails while
# docs/cli/ is stale.
docs:
	$(GO) run ./hack/gendocs markdown docs/cli

# Man pages (section 1) in bin/man/, for packaging; dated by the commit so
# two builds of one commit give the same pages.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
man:
	SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) $(GO) run ./hack/gendocs man bin/man

# Go micro-benchmarks, then signet against openssl (and cosign) on a 1 GiB file.
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 5x ./pkg/...
	$(GO) test -run '^$$' -bench AdmissionCold -benchtime 2000x ./internal/cli/admission/
	$(GO) test -run '^$$' -bench AdmissionWarm -benchtime 20000x -count 3 ./internal/cli/admission/
	./hack/bench.sh

# Every fuzz target for FUZZTIME (seeds always run in `make test`).
FUZZTIME ?= 30s
fuzz:
	FUZZTIME=$(FUZZTIME) ./hack/fuzz.sh

# The bounded fuzz step CI runs (.ci/run): a few seconds per target,
# about three minutes at most in all (no new target after 150 s).
fuzz-ci:
	FUZZTIME=3s FUZZ_BUDGET=150 ./hack/fuzz.sh

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

# Only the key-backend e2e tests (real local-kms, Vault's transit server,
# SoftHSM2; docs/KEYS.md); make e2e runs them with the rest.
e2e-keys:
	E2E_RUN='TestKeyBackend' ./hack/e2e

stack-up:
	./hack/local-stack install && ./hack/local-stack up

stack-down:
	./hack/local-stack down

stack-status:
	./hack/local-stack status

clean:
	rm -rf bin .bench dist
