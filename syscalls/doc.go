// Package syscalls is the pure core of AthenaOS's syscall gate: the x86-64
// syscall name table, argument names for predicates, syscall classes, the
// verdict tables compiled from a policy.Policy, the slow path that decides
// path, exec and net rules, the decision record, and learned profiles.
//
// Compile turns a policy (a spec) into an immutable *Table (the live object,
// STYLE §2.17). Table.Decide is the hot path: it works on plain values
// (syscall number, *[6]uint64 arguments), allocates nothing, takes no lock,
// reads no map and makes no interface call. Tables are never changed once
// built: sentry/ publishes a new one by an atomic pointer swap. Wiring into
// gVisor's syscall table lives in sentry/, not here, so every test in this
// package runs without a kernel.
//
// Precedence (documented in docs/policy.md): rules apply in file order and
// the first matching rule wins. A syscall rule without argument predicates
// ends the search for every syscall it names; a rule with predicates is
// tried and, if its predicates do not hold, the search goes on to the next
// rule that names the syscall (by name or class). If no rule matches, the
// policy's default applies. Path, exec and net rules cannot be decided from
// the registers: they mark the syscalls they concern with NeedsPathCheck,
// NeedsExecCheck or NeedsNetCheck (learn mode marks every such syscall),
// and the caller, having resolved the call's paths (fs/) or read its socket
// address (sentry/), asks DecidePath, DecideExec or DecideNet, which let an
// earlier matching slow rule replace the fast verdict (slowpath.go). These
// are pure functions of the table too, and allocate nothing for clean
// paths.
//
// Recorded calls become JSON lines (Decision: AppendDecision,
// ParseDecision); Profile learns a policy from them (ObserveDecision,
// Policy).
//
// Imports: swarm/policy, swarm/event and the standard library. Never
// gvisor.dev/gvisor/pkg/sentry/{kernel,platform,seccheck}, fs/, net/ or
// sentry/ (scripts/check-imports.sh).
package syscalls
