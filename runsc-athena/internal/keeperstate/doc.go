// Package keeperstate is the state file of a container's keeper
// (docs/healer.md, "Sandbox recovery"), Dir/ID.json: written by
// runsc-athena's keeper, read by swarm status and swarm metrics, and by the
// containerd shim, which answers for a kept container while its keeper
// recovers the sandbox. One definition of the file for its writer and its
// readers.
//
// Imports: the standard library.
package keeperstate
