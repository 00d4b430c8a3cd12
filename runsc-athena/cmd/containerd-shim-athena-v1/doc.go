// Command containerd-shim-athena-v1 is AthenaOS's containerd shim v2, the
// runtime type io.containerd.athena.v1 (containerd derives the binary's
// name from it). It is gVisor's shim (gvisor.dev/gvisor/pkg/shim/v1, used
// as a library, not patched) driving runsc-athena, run through containerd's
// shim library (github.com/containerd/containerd/v2/pkg/shim), with what it
// takes to work under Debian 12's containerd 1.6 as well as containerd 2:
//
//   - "start" prints the shim's address alone, the answer containerd 1.6
//     reads (containerd 2 takes it as a task API v2 shim, which this is);
//   - a shim whose OOM score cannot be lowered (a containerd without
//     CAP_SYS_RESOURCE) keeps the score it inherited and logs why, instead
//     of failing the container;
//   - a container created without CRI's container-type annotation (ctr run,
//     BuildKit, any direct client) is marked as its sandbox's first
//     container before gVisor's shim reads the bundle, so that runsc-athena
//     gets the container's stdio at create; otherwise the sandbox keeps the
//     pipe of "runsc create" open and the create never returns;
//   - runsc-athena is the runtime: the shim puts the directory of a "runsc"
//     link to it (installed beside this binary, ../lib/athena/shim) first in
//     PATH, so gVisor's shim runs it under the name it looks for;
//   - a container kept by runsc-athena's keeper (checkpoints) keeps one
//     running task across sandbox recoveries: gVisor's shim runs
//     runsc-athena through this binary (a "runsc" link to it), which
//     answers "wait" and "state" for such a container from its keeper,
//     and the keeper's exit status is the task's (keeper.go).
//
// Imports: the standard library, containerd's libraries (shim, API types,
// plugin registry, logging, ttrpc) and gVisor's shim packages. Nothing of
// AthenaOS's own packages: the shim is host-side plumbing, the swarm lives
// in runsc-athena.
package main
