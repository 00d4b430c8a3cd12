// Package results defines the result files of the conformance suites and the
// comparisons made on them: the raw syscall records written by
// tests/conformance/cmd/conformance (results/syscalls.json) and the files
// written by tests/gosuite (results/gostd.json) and tests/ocivalidation
// (results/oci.json), which tests/conformance/cmd/compatreport renders.
//
// The schemas live here, in one place, and writers and reader all use these
// types, because a writer and a reader that disagree on a field name fail
// silently with encoding/json.
//
// Imports: the standard library only.
package results
