// Package sentry wires AthenaOS into gVisor's sentry: it installs the hooks
// (today the syscall gate; later the platform wrapper, the packet filter and
// the lifecycle sink) and joins them to the swarm's bus.
//
//   - syscallgate.go: the gate on every entry of gVisor's syscall table,
//     with the verdict tables of the sandbox's containers behind one atomic
//     pointer (the hot path: no allocation, no lock).
//   - slowcheck.go: the gate's slow path for path, exec and net rules
//     (paths resolved by fs/, socket addresses read from the caller).
//   - link.go: the sandbox's end of its link to the host (decision record,
//     status file, control FIFO), opened before the sandbox is sealed.
//   - decisions.go: the Recorder, which drains the gate's event ring into
//     the record, folds repeated refusals, keeps the status current and
//     applies policies the host sends.
//
// It is the only AthenaOS folder that touches gvisor.dev/gvisor/pkg/sentry/
// kernel, platform and seccheck. Everything it installs must be in place
// before gVisor's kernel starts, i.e. before runsc's "boot" command runs.
// docs/architecture.md describes the whole path.
//
// Imports: syscalls, fs, net, swarm, gVisor.
package sentry
