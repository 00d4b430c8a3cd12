// Package parse turns the output of the tools the benchmarks run (the C
// micro-benchmarks, fio, iperf3, redis-benchmark) and of /proc files into
// numbers. It is separate from the driver so it can be tested on stored
// fixtures (testdata/) without Docker or timing.
//
// Imports: the standard library and internal/mountinfo.
package parse
