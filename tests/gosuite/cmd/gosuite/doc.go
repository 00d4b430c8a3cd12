// Command gosuite runs Go's own standard-library tests inside containers under
// several OCI runtimes and records, per package and runtime, how many
// top-level tests passed, failed and were skipped.
//
// The point is a differential check: the same static test binary, the same
// image, the same mounts and flags run under runc (the reference), plain
// gVisor (runsc-baseline) and athena, so any difference in the counts comes
// from the runtime and not from the test environment. Tests that need the go
// command or an external network skip or fail the same way under every
// runtime; that is expected and cancels out in the comparison.
//
// How a run works:
//
//   - each package is compiled once on the host with
//     `CGO_ENABLED=0 go test -c` into a static binary (the image has no C
//     library, and gVisor's sandbox does not care about the host's);
//   - the binary runs in athena-test/busybox with GOROOT bind-mounted
//     read-only at the same path and the package's source directory as the
//     working directory, so testdata/ is found where the tests expect it;
//     /tmp is a fresh writable tmpfs and there is no network but loopback;
//   - the binary runs under busybox sh rather than as PID 1, because PID 1
//     has special signal semantics that os/signal and os/exec tests would
//     notice and that no test expects;
//   - its output (-test.v=test2json, stdout and stderr merged inside the
//     container so ordering is exact) is converted with `go tool test2json`,
//     the converter `go test -json` itself uses, and top-level tests (no "/"
//     in the name) are counted.
//
// The result file follows the schema the conformance report generator reads:
// {"generated":RFC3339,"packages":[{"package","runtime","passed","failed",
// "skipped","failures","error"}]}; error is for harness-level trouble (build
// failure, docker failure, timeout, a crashed test binary), not test failures.
//
// Imports: the standard library only.
package main
