package memguard

// The calls the agent names or acts on, in the amd64 numbering the events
// carry.
const (
	sysMmap         = 9
	sysMprotect     = 10
	sysExit         = 60  // exit: the thread ends
	sysExitGroup    = 231 // exit_group: the calling thread ends with its group
	sysPkeyMprotect = 329
)

// Architecture-specific protection and mmap flags.
var (
	archProt []flagName
	archMap  = []flagName{{0x40, "MAP_32BIT"}}
)
