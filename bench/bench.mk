# Side-by-side benchmarks: runc vs runsc-baseline vs athena. Included by the
# top-level Makefile (which defines install, install-baseline, images and GO).
#
#   make bench          full run (5 repetitions, ~35-45 min on 2 cores)
#   make bench-quick    1-2 repetitions, small sizes, a subset (~7 min)
#   make images-debian  build the athena-test/debian image (debootstrap)
#   make bench-bin      build the static C micro-benchmarks into bench/bin
#   make bench-heal     only the healer group (bench/cmd/bench/heal.go):
#                       recovery from injected faults, availability of a
#                       crashing service, checkpoint cost (~8 min); needs
#                       make install install-baseline images-debian first.
#                       Writes bench/results/<date>-heal.json and .md only.
#                       Quick: make bench-heal BENCH_HEAL_FLAGS='-heal-reps 1
#                       -heal-crash-reps 1 -heal-crash-duration 5s
#                       -heal-latency-duration 5s'
#
# Both bench targets write bench/results/<date>-<mode>.json, latest.json,
# docs/benchmarks.md and docs/benchmarks.png. Extra driver flags go in
# BENCH_FLAGS, e.g. make bench BENCH_FLAGS='-reps 3'. Re-render the docs
# from a stored run without measuring:
#   go run ./bench/cmd/bench -render bench/results/latest.json
# Measure a subset (the benchmarks with a metric matching the regexp)
# without touching latest.json or the docs, e.g. the network ones:
#   go run ./bench/cmd/bench -quick -only '^(iperf3|tcp)_' -results /tmp/bench-net \
#     -doc /tmp/bench-net/benchmarks.md
# or the scheduler ones (noisy neighbour, CPU quota, fork bomb):
#   go run ./bench/cmd/bench -quick -only '^(nn_|cpus_|forkbomb_)' -results /tmp/bench-sched \
#     -doc /tmp/bench-sched/benchmarks.md

GO          ?= go
BENCH_CC    ?= gcc
BENCH_CFLAGS ?= -O2 -static -Wall -Wextra
BENCH_FLAGS ?=
BENCH_HEAL_FLAGS ?=
BENCH_PROGS := syscall pagefault forkexec nop tcprr spin
BENCH_BINS  := $(addprefix bench/bin/,$(BENCH_PROGS))

.PHONY: bench bench-quick bench-heal bench-bin bench-deps images-debian

# Host tools: debootstrap builds the image; iperf3 and redis-benchmark are
# the host side of the network and redis benchmarks; gcc and libc6-dev
# (for the static libc) build the micro-benchmarks.
bench-deps:
	scripts/deps.sh debootstrap iperf3 redis-tools gcc libc6-dev

images-debian: dockerd bench-deps
	bench/images-debian.sh

bench-bin: bench-deps $(BENCH_BINS)

# Static, so the same binaries run in any image (busybox has no libc) and
# no dynamic loader is timed.
bench/bin/%: bench/src/%.c bench/src/common.h
	@mkdir -p bench/bin
	$(BENCH_CC) $(BENCH_CFLAGS) -o $@ $<

bench: install install-baseline images images-debian bench-bin
	$(GO) run ./bench/cmd/bench -command 'make bench' $(BENCH_FLAGS)

bench-quick: install install-baseline images images-debian bench-bin
	$(GO) run ./bench/cmd/bench -quick -command 'make bench-quick' $(BENCH_FLAGS)

# No install prerequisite: it measures what is installed (make install
# install-baseline images-debian), registers its own bench-heal-* runtimes
# with runsc-athena docker-install and removes them at the end.
bench-heal:
	$(GO) run ./bench/cmd/bench -group heal -command 'make bench-heal$(if $(BENCH_HEAL_FLAGS), BENCH_HEAL_FLAGS="$(BENCH_HEAL_FLAGS)")' $(BENCH_HEAL_FLAGS)
