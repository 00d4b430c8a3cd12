// Package sentry wires AthenaOS into gVisor's sentry: it installs the hooks
// (today the syscall gate; later the platform wrapper, the packet filter and
// the lifecycle sink) and joins them to the swarm's bus.
//
// It is the only AthenaOS folder that touches gvisor.dev/gvisor/pkg/sentry/
// kernel, platform and seccheck. Everything it installs must be in place
// before gVisor's kernel starts, i.e. before runsc's "boot" command runs.
//
// Imports: syscalls, fs, net, swarm, gVisor.
package sentry
