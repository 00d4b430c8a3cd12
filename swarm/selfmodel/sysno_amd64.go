package selfmodel

// Calls that end a task, in the amd64 numbering the events carry.
const (
	sysExit      = 60  // exit: the calling thread ends
	sysExitGroup = 231 // exit_group: the whole thread group ends
)
