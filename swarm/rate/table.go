package rate

// tableSize bounds the syscall numbers the class table covers; the counted
// calls are all below it on amd64 and arm64, and larger numbers are of no
// class.
const tableSize = 512

// Tags of the class table: tagNone, 1+Class, or tagExitGroup.
const (
	tagNone      = 0
	tagExitGroup = NumClasses + 1
)

// table maps a syscall number to its tag, so that Handle answers a call of
// no class with one array read (STYLE §2.7: maps for setup, arrays for the
// hot path).
var table = buildTable()

func buildTable() (t [tableSize]uint8) {
	for c, calls := range classCalls {
		for _, nr := range calls {
			t[nr] = uint8(c) + 1
		}
	}
	t[sysExitGroup] = tagExitGroup
	return t
}

// Calls returns the syscall numbers (in the numbering of the build's
// architecture, which the events carry) counted in class c.
func Calls(c Class) []uint32 {
	if int(c) >= NumClasses {
		return nil
	}
	return append([]uint32(nil), classCalls[c]...)
}

// slot is the detector's state for one thread group (24 bytes; the group
// table adds its key and a mark, see swarm/clocktable).
type slot struct {
	// sec is the Unix second count is for: the second of the group's
	// latest counted call.
	sec   int64
	count [NumClasses]uint32
	flags uint8
}

// Slot flags: decided<<c says that class c has had its decision in the
// current second.
const (
	decided     uint8 = 1
	decidedMask uint8 = 1<<NumClasses - 1
)

func groupKey(container uint32, pid int32) uint64 {
	return uint64(container)<<32 | uint64(uint32(pid))
}
