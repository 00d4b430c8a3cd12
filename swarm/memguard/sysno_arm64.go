package memguard

// The calls the agent names or acts on, in the arm64 numbering the events
// carry.
const (
	sysExit         = 93 // exit: the thread ends
	sysExitGroup    = 94 // exit_group: the calling thread ends with its group
	sysMmap         = 222
	sysMprotect     = 226
	sysPkeyMprotect = 288
)

// Architecture-specific protection and mmap flags.
var (
	archProt = []flagName{{0x10, "PROT_BTI"}, {0x20, "PROT_MTE"}}
	archMap  []flagName
)
