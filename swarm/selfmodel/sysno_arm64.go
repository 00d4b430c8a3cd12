package selfmodel

// Calls that end a task, in the arm64 numbering the events carry.
const (
	sysExit      = 93 // exit: the calling thread ends
	sysExitGroup = 94 // exit_group: the whole thread group ends
)
