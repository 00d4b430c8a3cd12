package memguard

// taskSlot is the agent's state for one task: 24 bytes on every platform (the
// task table adds its key and a mark: 33 bytes an entry, see
// swarm/clocktable).
type taskSlot struct {
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
	decidedMask = decidedRate | decidedExec | decidedWX
)

func taskKey(container uint32, tid int32) uint64 {
	return uint64(container)<<32 | uint64(uint32(tid))
}
