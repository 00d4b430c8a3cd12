//go:build !amd64 && !arm64

package rate

// gVisor runs on amd64 and arm64 only, so no sandbox produces events on
// other architectures; the amd64 numbering is used there so that the
// package (and its tests, which replay amd64 traces) behaves the same on
// any build host.
const (
	sysRead      = 0
	sysOpen      = 2
	sysSocket    = 41
	sysConnect   = 42
	sysClone     = 56
	sysFork      = 57
	sysVfork     = 58
	sysExecve    = 59
	sysCreat     = 85
	sysExitGroup = 231
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
