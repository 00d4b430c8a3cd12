package rate

// The calls the detector counts, in the arm64 numbering the events carry.
// arm64 has no open, creat, fork or vfork: libc uses openat and clone.
const (
	sysRead      = 63 // a call of no class (tests)
	sysOpenat    = 56
	sysExitGroup = 94 // exit_group: the whole thread group ends
	sysSocket    = 198
	sysConnect   = 203
	sysClone     = 220
	sysExecve    = 221
	sysExecveat  = 281
	sysClone3    = 435
	sysOpenat2   = 437
)

// classCalls lists the counted calls by class.
var classCalls = [NumClasses][]uint32{
	ClassSpawn:   {sysClone, sysClone3, sysExecve, sysExecveat},
	ClassConnect: {sysConnect, sysSocket},
	ClassOpen:    {sysOpenat, sysOpenat2},
}
