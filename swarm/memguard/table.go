package memguard

// slot is the agent's state for one task: 32 bytes on every platform.
type slot struct {
	key uint64 // container<<32 | tid
	// sec is the Unix second count is for: the second of the task's
	// latest fault or mapping request; prev is the count of the second
	// before it (0 if the task took no fault then).
	sec   int64
	count uint32
	prev  uint32
	flags uint8
}

// Slot flags: decided* say that the task has had a decision of that kind
// in its current second (later ones in the same second are folded).
const (
	decidedRate uint8 = 1 << iota // fault rate over the threshold
	decidedExec                   // executed anonymous memory
	decidedWX                     // asked for a W+X mapping
	decidedMask       = decidedRate | decidedExec | decidedWX

	slotRef  uint8 = 1 << 6 // an event since the clock hand last passed
	slotUsed uint8 = 1 << 7 // the slot holds a task
)

func taskKey(container uint32, tid int32) uint64 {
	return uint64(container)<<32 | uint64(uint32(tid))
}

// lookup returns the slot of task key, adding it (with second sec) if
// new.
func (a *Agent) lookup(key uint64, sec int64) *slot {
	if i, ok := a.index[key]; ok {
		s := &a.slots[i]
		s.flags |= slotRef
		return s
	}
	var i int32
	switch {
	case len(a.free) > 0:
		i = a.free[len(a.free)-1]
		a.free = a.free[:len(a.free)-1]
	case len(a.slots) < a.cfg.MaxTasks:
		a.slots = append(a.slots, slot{})
		i = int32(len(a.slots) - 1)
	default:
		i = a.evict()
	}
	a.slots[i] = slot{key: key, sec: sec, flags: slotUsed | slotRef}
	a.index[key] = i
	return &a.slots[i]
}

// evict frees the slot of a task not seen since the CLOCK hand last
// passed it (every slot is used when it is called) and returns it.
func (a *Agent) evict() int32 {
	for {
		i := a.hand
		a.hand++
		if int(a.hand) == len(a.slots) {
			a.hand = 0
		}
		s := &a.slots[i]
		if s.flags&slotRef != 0 {
			s.flags &^= slotRef
			continue
		}
		a.release(i)
		a.stats.Evicted++
		return i
	}
}

// release empties slot i (the caller puts it on the free list or reuses
// it).
func (a *Agent) release(i int32) {
	delete(a.index, a.slots[i].key)
	a.slots[i] = slot{}
}
