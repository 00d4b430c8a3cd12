//go:build !amd64 && !arm64

package memguard

// gVisor runs on amd64 and arm64 only, so no sandbox produces events on
// other architectures; the amd64 numbering is used there so that the
// package (and its tests) behaves the same on any build host.
const (
	sysMmap         = 9
	sysMprotect     = 10
	sysExit         = 60
	sysExitGroup    = 231
	sysPkeyMprotect = 329
)

// Architecture-specific protection and mmap flags.
var (
	archProt []flagName
	archMap  = []flagName{{0x40, "MAP_32BIT"}}
)
