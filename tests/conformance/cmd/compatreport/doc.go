// Command compatreport renders docs/compat.md, the compatibility report of
// AthenaOS against native Linux, from the result files in
// tests/conformance/results: syscalls.json (written by cmd/conformance) and,
// when present, gostd.json and oci.json (written by the Go-suite targets).
//
// Syscall cases are classified per area: identical to native; "gVisor gap"
// when plain gVisor (runsc-baseline) differs from runc too; "athena bug"
// when only athena differs; "fixed by athena" when only the baseline does.
// Every differing case is listed with the native and sandboxed results side
// by side. A missing result file renders as "not run".
//
// The output is deterministic for given inputs, date and gVisor version, so
// the unit test compares it with a golden file.
//
// Imports: the standard library and tests/internal/results.
package main
