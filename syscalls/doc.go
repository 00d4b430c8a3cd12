// Package syscalls is the pure core of AthenaOS's syscall gate: the x86-64
// syscall name table, argument names for predicates, syscall classes, and the
// verdict tables compiled from a policy.Policy.
//
// Compile turns a policy (a spec) into an immutable *Table (the live object,
// STYLE §2.17). Table.Decide is the hot path: it works on plain values
// (syscall number, *[6]uint64 arguments), allocates nothing, takes no lock,
// reads no map and makes no interface call. Publishing a new table is an
// atomic pointer swap (Gate). Wiring into gVisor's syscall table lives in
// sentry/, not here, so every test in this package runs without a kernel.
//
// Precedence, per system call (documented in docs/policy.md): rules apply in
// file order and the first matching rule wins. A rule without argument
// predicates ends the search for every syscall it names; a rule with
// predicates is tried and, if its predicates do not hold, the search goes on
// to the next rule that names the syscall (by name or class). If no rule
// matches, the policy's default applies. Path, exec and net rules are not
// decided here: they only mark the syscalls they concern with
// NeedsPathCheck, NeedsExecCheck or NeedsNetCheck for a later slow path.
//
// Imports: swarm/policy and the standard library. Never
// gvisor.dev/gvisor/pkg/sentry/{kernel,platform,seccheck}, fs/, net/ or
// sentry/ (scripts/check-imports.sh).
package syscalls
