// Package event defines the fixed-size record that the hot paths (syscall
// gate, fault path, packet filter, lifecycle sink) hand to the swarm.
//
// An Event holds no pointers, so a ring of them is one flat allocation the
// garbage collector never scans, and pushing one is a plain copy: nothing on
// the hot path allocates.
//
// Imports: the standard library only.
package event

// Kind says which path an event came from.
type Kind uint8

// Event kinds.
const (
	KindNone Kind = iota
	KindSyscall
	KindFault
	KindPacket
	KindLifecycle
)

var kindNames = [...]string{"none", "syscall", "fault", "packet", "lifecycle"}

// String returns the kind's name.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Event is one observation from a hot path. Its meaning per Kind:
//
//   - KindSyscall: Sysno and Args are the call; Verdict the gate's packed
//     verdict; Ret the result when known (after the call).
//   - KindFault: Args[0] the faulting address, Args[1] the access type bits.
//   - KindPacket, KindLifecycle: defined by their producers.
//
// Keep it small and pointer-free: it is copied into and out of rings.
type Event struct {
	// Time is the time of the event in nanoseconds since the Unix epoch.
	Time int64
	// Verdict is the gate's packed verdict for the call
	// (syscalls.Verdict).
	Verdict uint64
	// Container is the gate's slot number for the task's container.
	Container uint32
	// PID and TID are the thread group and thread IDs in the container's
	// root PID namespace.
	PID, TID int32
	// Sysno is the system call number (KindSyscall).
	Sysno uint32
	// Kind says which path produced the event.
	Kind Kind
	_    [7]byte
	// Args are the call's raw arguments.
	Args [6]uint64
	// Ret is the call's return value, when recorded after the call.
	Ret int64
}
