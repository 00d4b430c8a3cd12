// Command bench runs the side-by-side benchmark suite: the same workloads
// in containers of runc, runsc-baseline (plain gVisor built from the same
// gVisor version) and athena, interleaved (runc, baseline, athena, runc,
// ...) for R repetitions so that drift on this shared machine falls on all
// three alike. It stores the raw samples in bench/results/ and renders
// docs/benchmarks.md and docs/benchmarks.png from them.
//
//	bench -quick                 1-2 reps, small sizes, a subset (< ~7 min)
//	bench                        full: 5 reps, everything (< ~45 min)
//	bench -render FILE           only re-render the docs from a stored run
//	bench -quick -only RE        only the benchmarks with a metric matching RE;
//	                             the JSON goes to -results, never latest.json,
//	                             and docs only to an explicit -doc
//
// Benchmarks talk only over loopback: inside a container, or from the host
// to a port the container publishes on 127.0.0.1. Every load is bounded in
// count and time, and every container it starts is named bench-* and
// removed at the end, also on interrupt. The fork bomb (sched.go) runs
// only with a pids limit of 1024 and a memory limit.
//
// Imports: bench/internal/result, bench/internal/parse,
// bench/internal/report; the standard library; the docker, iperf3 and
// redis-benchmark command-line tools, the built bench/bin/tcprr client and
// (for the CPU-quota benchmarks) the host's cgroup files at run time.
package main
