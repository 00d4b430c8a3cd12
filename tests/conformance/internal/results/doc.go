// Package results defines the result files of the conformance suite and the
// comparisons made on them: the raw syscall records written by
// cmd/conformance (results/syscalls.json) and the two files written by the
// Go-suite worker (results/gostd.json, results/oci.json) that cmd/compatreport
// renders.
//
// The schemas live here, in one place, because a writer and a reader that
// disagree on a field name fail silently with encoding/json.
//
// Imports: the standard library only.
package results
