package rate

// The calls the detector counts, in the amd64 numbering the events carry.
const (
	sysRead      = 0 // a call of no class (tests)
	sysOpen      = 2
	sysSocket    = 41
	sysConnect   = 42
	sysClone     = 56
	sysFork      = 57
	sysVfork     = 58
	sysExecve    = 59
	sysCreat     = 85
	sysExitGroup = 231 // exit_group: the whole thread group ends
	sysOpenat    = 257
	sysExecveat  = 322
	sysClone3    = 435
	sysOpenat2   = 437
)

// classCalls lists the counted calls by class.
var classCalls = [NumClasses][]uint32{
	ClassSpawn:   {sysClone, sysClone3, sysFork, sysVfork, sysExecve, sysExecveat},
	ClassConnect: {sysConnect, sysSocket},
	ClassOpen:    {sysOpen, sysOpenat, sysOpenat2, sysCreat},
}
