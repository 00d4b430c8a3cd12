# AthenaOS build, install and test entry points. See README.md.
#
#   make              build bin/runsc-athena, bin/containerd-shim-athena-v1, bin/runsc-baseline
#   make install      install deps, binaries (runtime + containerd shim), register runtime "athena" in Docker
#   make uninstall    undo what install added (binaries, shim link, daemon.json entry)
#   make images       import the test images into Docker
#   make test         unit tests + integration tests + containerd/CRI tests + quick conformance subset
#   make test-containerd  the shim under a containerd (and CRI) of its own
#   make conformance  full conformance suites, regenerates docs/compat.md
#   make bench        side-by-side benchmarks (bench-quick: a short run;
#                     bench-heal: the healer group only)
#   make check        vet, checklocks, gofmt, import rules

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
export CGO_ENABLED := 0

PREFIX    ?= /usr/local
DESTBIN   := $(DESTDIR)$(PREFIX)/bin
# athena init (docs/healer.md): runsc-athena finds it at ../lib/athena.
DESTLIB   := $(DESTDIR)$(PREFIX)/lib/athena
# The containerd shim runs runsc-athena as "runsc" from this directory,
# which it finds relative to itself (../lib/athena/shim).
SHIMLINKDIR := $(DESTLIB)/shim
RUNTIME   ?= athena
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0-dev)
GO        ?= go
GOFLAGS_BUILD := -trimpath -ldflags "-X main.athenaVersion=$(VERSION)"
TEST_TIMEOUT ?= 45m

.PHONY: all build install install-baseline install-shim uninstall images test unit integration test-containerd conformance check clean go-check deps dockerd images-eval eval

all: build

go-check:
	@command -v $(GO) >/dev/null || { echo "Go is required (go.mod asks for $$(sed -n 's/^go //p' go.mod)); install it to /usr/local/go" >&2; exit 1; }

# Go's build cache decides what is stale, so these always run.
build: go-check
	@mkdir -p bin
	$(GO) build $(GOFLAGS_BUILD) -o bin/runsc-athena ./runsc-athena
	$(GO) build -trimpath -o bin/containerd-shim-athena-v1 ./runsc-athena/cmd/containerd-shim-athena-v1
	$(GO) build -trimpath -ldflags "-s -w" -o bin/athena-init ./runsc-athena/cmd/athena-init
	$(GO) build -trimpath -o bin/runsc-baseline gvisor.dev/gvisor/runsc

deps:
	scripts/deps.sh

dockerd: deps
	scripts/dockerd.sh ensure

# install-shim installs runsc-athena and athena init too.
install: deps build install-shim
	$(DESTBIN)/runsc-athena docker-install --runtime=$(RUNTIME) --path=$(DESTBIN)/runsc-athena
	scripts/dockerd.sh reload
	@docker info --format '{{json .Runtimes}}' | grep -q '"$(RUNTIME)"' || { echo "install: dockerd does not list runtime $(RUNTIME) after reload" >&2; exit 1; }
	@echo "install: runtime '$(RUNTIME)' ready: docker run --rm --runtime=$(RUNTIME) athena-test/busybox echo hello"
	@echo "install: containerd runtime type io.containerd.athena.v1 installed; its containerd/CRI configuration: docs/containerd.md"

# The containerd shim (runtime type io.containerd.athena.v1) and its link
# to runsc-athena. containerd finds the shim on its PATH; configuring
# containerd (runtime handler "athena") is the operator's step, see
# docs/containerd.md: this does not edit containerd's config.
install-shim: build
	install -D -m 0755 bin/containerd-shim-athena-v1 $(DESTBIN)/containerd-shim-athena-v1
	install -D -m 0755 bin/runsc-athena $(DESTBIN)/runsc-athena
	install -D -m 0755 bin/athena-init $(DESTLIB)/athena-init
	mkdir -p $(SHIMLINKDIR)
	ln -sfn ../../../bin/runsc-athena $(SHIMLINKDIR)/runsc

# The plain gVisor runsc built from the same gVisor version, registered as
# runtime "runsc-baseline": the reference every comparison needs.
install-baseline: deps build
	install -D -m 0755 bin/runsc-baseline $(DESTBIN)/runsc-baseline
	bin/runsc-athena docker-install --runtime=runsc-baseline --path=$(DESTBIN)/runsc-baseline
	scripts/dockerd.sh reload

uninstall:
	@for rt in $(RUNTIME) runsc-baseline; do \
		if [ -x $(DESTBIN)/runsc-athena ]; then $(DESTBIN)/runsc-athena docker-uninstall --runtime=$$rt; \
		elif [ -x bin/runsc-athena ]; then bin/runsc-athena docker-uninstall --runtime=$$rt; fi; \
	done
	@if pgrep -x dockerd >/dev/null; then scripts/dockerd.sh reload; fi
	rm -f $(DESTBIN)/runsc-athena $(DESTBIN)/runsc-baseline $(DESTBIN)/containerd-shim-athena-v1 $(SHIMLINKDIR)/runsc $(DESTLIB)/athena-init
	-rmdir $(SHIMLINKDIR) $(DESTLIB) 2>/dev/null

images: dockerd
	scripts/images.sh

unit: check
	$(GO) test ./...

integration: install images images-debian
	ATHENA_INTEGRATION=1 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) -v ./tests/integration/... 2>&1 | tee /tmp/athena-integration.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go' ; exit $${PIPESTATUS[0]}

# The shim under Debian's containerd and its CRI plugin (with crictl, built
# into /var/cache/athena when missing): the tests start their own
# containerd and never touch the system's or Docker's. libcap2-bin gives
# capsh (a containerd without CAP_SYS_RESOURCE).
test-containerd: build
	scripts/deps.sh libcap2-bin
	ATHENA_CONTAINERD=1 ATHENA_BIN_DIR=$(CURDIR)/bin $(GO) test -count=1 -timeout 20m -v ./tests/containerd/... 2>&1 | tee /tmp/athena-containerd.log | grep -E '^(=== RUN|--- |PASS|FAIL|ok|panic)|_test.go' ; exit $${PIPESTATUS[0]}

# make test gates on the quick conformance subset too: those cases must stay
# identical to native Linux under athena.
test: unit integration test-containerd conformance-quick

# The full differential suites (runc vs plain gVisor vs athena), then
# docs/compat.md from all their results. About 15 minutes.
conformance: conformance-syscalls conformance-gostd conformance-oci
	$(GO) run ./tests/conformance/cmd/compatreport

# The security evaluation (bench/eval/cmd/eval): benign workloads (a
# python web app, redis under redis-benchmark, a make/gcc build) and
# attacks from inside the web app, in containers of athena-test/eval,
# each learnt and then enforced, plus the conformance suite under its own
# learned profile. Writes bench/results/eval-*.json and docs/eval.md
# (about 6 minutes). Driver flags go in EVAL_FLAGS, e.g.
#   make eval EVAL_FLAGS='-families web -attacks shell,forkbomb'
#   make eval EVAL_FLAGS='-families web,redis,build,conformance,gostd'  (+ Go's std tests, ~12 min more)
#   make eval EVAL_FLAGS='-learn-runs 5 -stable-after 10000'   (a sense of self stable sooner)
EVAL_FLAGS ?=

# debootstrap builds the image; only when bench/images-eval.sh changed.
images-eval: dockerd
	scripts/deps.sh debootstrap
	bench/images-eval.sh

# redis-tools: redis-benchmark and redis-cli run on the host.
eval: install images-eval conformance-bin
	scripts/deps.sh redis-tools
	$(GO) run ./bench/eval/cmd/eval -command 'make eval' $(EVAL_FLAGS)

include tests/conformance/conformance.mk
include tests/gosuite/gosuite.mk
include tests/ocivalidation/ocivalidation.mk
include bench/bench.mk

# checklocks is gVisor's lock analyzer, built from the gVisor module we
# depend on (see shared/STYLE.md, convention 9).
check: go-check
	$(GO) vet ./...
	@mkdir -p bin
	$(GO) build -o bin/checklocks gvisor.dev/gvisor/tools/checklocks/cmd/checklocks
	$(GO) vet -vettool=$(CURDIR)/bin/checklocks ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting" >&2; exit 1; }
	scripts/check-imports.sh

clean:
	rm -rf bin
