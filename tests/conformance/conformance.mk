# Differential syscall conformance suite (native Linux via runc vs gVisor).
# Included from the top-level Makefile; every path is relative to the
# repository root. See tests/conformance/README.md.
#
#   make conformance-bin        build the static C test programs
#   make conformance-quick      quick subset, runc vs athena (part of make test)
#   make conformance-syscalls   full run, runc vs runsc-baseline vs athena,
#                               then regenerate docs/compat.md

GO ?= go
CONF_CC ?= gcc

CONF_DIR      := tests/conformance
CONF_SRC      := $(CONF_DIR)/src
CONF_BIN      := $(CONF_DIR)/bin
CONF_RESULTS  := $(CONF_DIR)/results
CONF_PROGRAMS := files fds memory processes signals time sockets ipc identity proc
# Zero-initialised locals keep a result deterministic even when a sandbox
# fails a call that was expected to fill a structure.
CONF_CFLAGS   ?= -static -O1 -Wall -Wno-infinite-recursion -ftrivial-auto-var-init=zero
CONF_LIBS     := -lpthread -lrt
CONF_RUN_ARGS ?=

.PHONY: conformance-deps conformance-bin conformance-quick conformance-syscalls conformance-report conformance-clean

# gcc and the static glibc (libc6-dev) build the test programs.
conformance-deps:
	scripts/deps.sh gcc libc6-dev

conformance-bin: conformance-deps $(addprefix $(CONF_BIN)/,$(CONF_PROGRAMS))

$(CONF_BIN)/%: $(CONF_SRC)/%.c $(CONF_SRC)/common.h
	@mkdir -p $(CONF_BIN)
	$(CONF_CC) $(CONF_CFLAGS) -o $@ $< $(CONF_LIBS)

# Only runc and athena: this is what `make test` gates on, and the subset in
# quick.txt is chosen to match native under athena today.
conformance-quick: install images conformance-bin
	$(GO) run ./$(CONF_DIR)/cmd/conformance -quick -runtimes runc,athena $(CONF_RUN_ARGS)

# Differences are reported, not failures: this exits non-zero only when the
# harness itself breaks.
conformance-syscalls: install install-baseline images conformance-bin
	$(GO) run ./$(CONF_DIR)/cmd/conformance -runtimes runc,runsc-baseline,athena $(CONF_RUN_ARGS)
	$(GO) run ./$(CONF_DIR)/cmd/compatreport

# Regenerates docs/compat.md from whatever results are on disk.
conformance-report:
	$(GO) run ./$(CONF_DIR)/cmd/compatreport

conformance-clean:
	rm -rf $(CONF_BIN)
