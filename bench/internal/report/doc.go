// Package report renders a stored benchmark run (result.Run) as the
// generated documentation: docs/benchmarks.md (one markdown table plus the
// run's context and method notes) and docs/benchmarks.png (a bar chart of
// athena's ratios to the baseline gVisor and to runc).
//
// Rendering depends on the Run alone, never on the machine, so
// `bench -render FILE` can regenerate both from any stored JSON, and the
// tests render fixture data.
//
// Imports: bench/internal/result; gonum.org/v1/plot (pure Go, no cgo).
package report
