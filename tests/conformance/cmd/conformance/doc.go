// Command conformance is the runner of the differential syscall conformance
// suite: it runs each static test program from tests/conformance/bin in a
// fresh container under each OCI runtime (runc as the native reference,
// runsc-baseline, athena), parses the "CASE <area>.<name> <result>" records,
// compares every case with the reference and writes the raw results to
// tests/conformance/results/syscalls.json.
//
// It builds nothing (tests/conformance/conformance.mk builds the programs)
// and changes nothing outside its results file and its own containers,
// which are named conf-* and always run with --rm.
//
// Exit status: 0 when the run completed; 1 in -quick mode when a case listed
// in quick.txt differs from the reference under a sandboxed runtime; 2 when
// the harness itself failed (docker unusable, a program missing, a quick
// case absent from the reference run, results not writable). In full mode
// differences are data, not failures.
//
// Imports: the standard library and tests/internal/results.
package main
