// Package policy is the AthenaOS syscall policy language: a YAML file that
// says, per container, which system calls are allowed, denied with an errno,
// logged, or answered by killing the caller, with argument predicates, path,
// exec and network rules. Its optional swarm section (Swarm) configures the
// container's swarm agents with plain values, which the sentry converts into
// the agents' own configurations.
//
// A Policy is a spec (STYLE §2.17): pure, deterministic data with a
// validation step. Parse decodes and validates it, Marshal writes it back so
// that Parse(Marshal(p)) equals p, and Default returns the built-in policy.
// Nothing here depends on the kernel: syscall names and argument names are
// checked, and the verdict table is built, by package syscalls (Compile),
// which reports its errors as *Error with the policy's FILE:LINE too.
//
// The format is documented in docs/policy.md.
//
// Imports: the standard library, gopkg.in/yaml.v3 and swarm/restart (the
// heal section's restart vocabulary) only (no gVisor, no other AthenaOS
// folder).
package policy
