// Command runsc-athena is the AthenaOS OCI runtime: gVisor's runsc command
// line (gvisor.dev/gvisor/runsc/cli/maincli) with AthenaOS's registrations and
// subcommands added before it starts.
//
// The binary re-executes itself for the sandbox ("boot") and the file server
// ("gofer"), so everything registered here is in force inside the sandbox
// too. It must be built static (CGO_ENABLED=0): the sandbox runs it in an
// empty chroot with no dynamic loader.
//
// Imports: everything (this is the composition root).
package main
