// Package net is the root of AthenaOS's packet path: what the sandbox's
// netstack (gVisor's pkg/tcpip/stack) calls for every packet of the
// application, through the iptables tables that sentry/ installs with
// IPTables().ReplaceTable. See shared/DESIGN.md, "The four paths" (network
// packets).
//
//   - filter: the per-packet matcher, the lock-free flow table, the egress
//     rules and blocks, and the flow events it pushes to the swarm.
//
// Imports: gVisor's pkg/tcpip/... (and pkg/state, to checkpoint the tables) and swarm/ only; never
// gvisor.dev/gvisor/pkg/sentry/..., syscalls/, fs/ or sentry/
// (scripts/check-imports.sh enforces this). The packet path must keep
// building and testing without a kernel: a real netstack runs in-process.
package net
