// Package swarm is the root of AthenaOS's agent swarm: the vocabulary
// (events, verdicts), the bus (rings), the agents and the policy language.
//
// Everything under swarm/ is plain Go that knows nothing of gVisor: it sees
// events and emits decisions. That keeps it testable without a kernel (from
// recorded traces, with a fake clock) and lets it follow gVisor upgrades.
// See shared/DESIGN.md, "The swarm".
//
// Imports: the standard library and small pure dependencies only; never
// gvisor.dev/gvisor/pkg/sentry/..., pkg/tcpip/..., or another AthenaOS folder
// (scripts/check-imports.sh enforces this).
package swarm
