// Package dockerrt registers the Docker runtimes a benchmark program needs
// (runsc-athena docker-install, one --state-file per runtime, so that a
// later run removes exactly what a killed one left), makes dockerd re-read
// daemon.json (scripts/dockerd.sh reload) and waits until dockerd lists the
// runtimes, or no longer does. The benchmark driver (bench/cmd/bench) and
// the evaluation (bench/eval/cmd/eval) share it; each passes its own way of
// running a command.
//
// Imports: the standard library only.
package dockerrt
