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

// slot is the detector's state for one thread group: 32 bytes on every
// platform.
type slot struct {
	key uint64 // container<<32 | pid
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
	slotRef     uint8 = 1 << 6 // a counted call since the clock hand last passed
	slotUsed    uint8 = 1 << 7 // the slot holds a group
)

func groupKey(container uint32, pid int32) uint64 {
	return uint64(container)<<32 | uint64(uint32(pid))
}

// lookup returns the slot of group key, adding it (with second sec) if
// new.
func (d *Detector) lookup(key uint64, sec int64) *slot {
	if i, ok := d.index[key]; ok {
		s := &d.slots[i]
		s.flags |= slotRef
		return s
	}
	var i int32
	switch {
	case len(d.free) > 0:
		i = d.free[len(d.free)-1]
		d.free = d.free[:len(d.free)-1]
	case len(d.slots) < d.cfg.MaxGroups:
		d.slots = append(d.slots, slot{})
		i = int32(len(d.slots) - 1)
	default:
		i = d.evict()
	}
	d.slots[i] = slot{key: key, sec: sec, flags: slotUsed | slotRef}
	d.index[key] = i
	return &d.slots[i]
}

// evict frees the slot of a group not seen since the CLOCK hand last
// passed it (every slot is used when it is called) and returns it.
func (d *Detector) evict() int32 {
	for {
		i := d.hand
		d.hand++
		if int(d.hand) == len(d.slots) {
			d.hand = 0
		}
		s := &d.slots[i]
		if s.flags&slotRef != 0 {
			s.flags &^= slotRef
			continue
		}
		d.release(i)
		d.stats.Evicted++
		return i
	}
}

// release empties slot i (the caller puts it on the free list or reuses
// it).
func (d *Detector) release(i int32) {
	delete(d.index, d.slots[i].key)
	d.slots[i] = slot{}
}
