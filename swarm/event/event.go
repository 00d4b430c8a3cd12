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
	KindMemory
	KindCPU
)

var kindNames = [...]string{"none", "syscall", "fault", "packet", "lifecycle", "memory", "cpu"}

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
//     verdict; Ret the result when known (after the call). Calls that went
//     through a path, exec or net check also carry what the check saw
//     (Ops, Paths, Net).
//   - KindFault (the athena platform, one per fault the sentry handles):
//     Sysno the signal (SIGSEGV or SIGBUS); Args[0] the faulting address;
//     Args[1] the access (Access* bits); Args[2] the instruction pointer;
//     Args[3] the memory the address lies in (Mem*; MemUnknown unless the
//     fault executes, since only exec faults are classified).
//   - KindMemory (the gate's mapping calls and the driver's usage
//     samples): Args[0] the operation (Mem* ops below). MemOpWX: Sysno
//     mmap, mprotect or pkey_mprotect asking for write and execute at
//     once, Args[1] address, Args[2] length, Args[3] prot, Args[4] the
//     mmap flags (0 for mprotect). MemOpGroupUsage: PID's resident set,
//     Args[1] bytes. MemOpContainerUsage (after its groups' samples of
//     the same tick): Args[1] the container's resident bytes in total.
//   - KindPacket (the netstack filter, one per flow event): Sysno the IP
//     protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6); Net the remote
//     end (Family AF_INET or AF_INET6, Port, Protocol SOCK_STREAM for TCP,
//     SOCK_DGRAM for UDP, SOCK_RAW otherwise); Args[0] the local port;
//     Args[1] the flow operation (Flow* below); Args[2], Args[3] packets
//     and bytes sent by the container; Args[4], Args[5] packets and bytes
//     received; Ret the flow's age in nanoseconds; Ops the TCP flags seen
//     (TCP* bits); FlagInbound set when the remote opened the flow.
//   - KindLifecycle: defined by its producer; Ops the operation (LifeOp*
//     below). LifeOpExit (the sentry, for a container run by athena
//     init): init reaped a child, the main process, a service or an
//     orphan it inherited; PID the child, Comm its command name; Args[0]
//     1 if it exited, Args[1] then its exit code; Args[0] 0 if a signal
//     killed it, Args[2] then the signal number.
//   - KindCPU (the scheduler driver's samples, once a scheduling period):
//     Args[0] the operation (CPUOp* below). CPUOpTask: one task's
//     cumulative usage, Args[1] CPU time (application and sentry), Args[2]
//     time blocked, Args[3] switches (0: not measured), Args[4] blocks, all since the task
//     started (ns, counts). CPUOpSpawned: PID created Args[1] thread
//     groups since the previous sample.
//
// It is pointer-free and fixed-size (512 bytes): it is copied into and out
// of rings, and only recorded calls are copied at all.
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
	// Flags holds Flag* bits.
	Flags uint8
	// Ops is the set of path operations (policy.OpSet) of a checked
	// call; for KindLifecycle, the operation (LifeOp*).
	Ops uint16
	// Errno is the error a check itself ended the call with (for example
	// ENOENT when a path could not be resolved), 0 otherwise.
	Errno uint16
	// Repeats counts calls alike (same syscall, rule, command, paths and
	// address) that the recorder folded into this one since the last
	// record of them, saturating at 65535. Set by the recorder, not by
	// the hot path.
	Repeats uint16
	// Args are the call's raw arguments.
	Args [6]uint64
	// Ret is the call's return value, when recorded after the call.
	Ret int64
	// Comm is the task's command name (NUL-padded, as in /proc/PID/comm).
	Comm [16]byte
	// Net is the socket address of a checked connect, bind or sendto.
	Net NetAddr
	// PathLen are the lengths of the paths in Path (0: none). A path
	// longer than the room for it is cut and FlagPathCut is set.
	PathLen [2]uint16
	// Path holds up to two resolved paths of a checked call (rename's
	// source and destination, say), each NUL-free and not terminated.
	Path [2][PathRoom]byte
}

// PathRoom is the room for one path in an Event; longer paths are cut.
const PathRoom = 184

// Event flags.
const (
	// FlagPathCut: a path in Path was longer than PathRoom and is cut.
	FlagPathCut uint8 = 1 << iota
	// FlagNet: Net holds an address.
	FlagNet
	// FlagTarget: Path[1] is where the symlink named by Path[0] leads
	// (exec), not a second path argument.
	FlagTarget
	// FlagInbound (KindPacket): the flow was opened from outside the
	// container (a client of a server in it).
	FlagInbound
)

// Access bits of a KindFault event (Args[1]).
const (
	AccessRead  = 1
	AccessWrite = 2
	AccessExec  = 4
)

// Memory classes of a KindFault event (Args[3]).
const (
	MemUnknown  = iota // not classified
	MemAnon            // private anonymous memory (heap, stack, anonymous mmap)
	MemFile            // a file mapping
	MemOther           // shared anonymous memory, device or special mappings
	MemUnmapped        // no mapping at the address
)

// Operations of a KindMemory event (Args[0]).
const (
	MemOpWX             = 1
	MemOpGroupUsage     = 2
	MemOpContainerUsage = 3
)

// Operations of a KindCPU event (Args[0]).
const (
	CPUOpTask    = 1
	CPUOpSpawned = 2
)

// Operations of a KindLifecycle event (Ops).
const (
	// LifeOpExit: a process athena init supervises, or an orphan it
	// inherited, was reaped: PID, Comm (its command name), Args[0] = 1
	// if it exited (Args[1] = exit code) or 0 if killed (Args[2] =
	// signal number).
	LifeOpExit = 1
)

// Flow operations of a KindPacket event (Args[1]).
const (
	// FlowNew: the first packet of a flow passed the filter.
	FlowNew = 1
	// FlowEnd: the flow ended (FIN or RST both ways, or idle past the
	// flow table's timeout); the counters are its totals.
	FlowEnd = 2
	// FlowRefused: the egress policy refused the flow's first packet.
	FlowRefused = 3
	// FlowBlocked: a swarm block (a carried network decision) dropped it.
	FlowBlocked = 4
	// FlowUpdate: the counters of a long-lived flow, periodically.
	FlowUpdate = 5
)

// TCP flags seen on a flow (KindPacket Ops).
const (
	TCPSynOut    = 1 << iota // the container sent a SYN
	TCPSynAckIn              // the remote answered with SYN-ACK
	TCPRstIn                 // the remote reset the flow
	TCPFin                   // either side sent FIN
	TCPSynIn                 // the remote sent a SYN (inbound flows)
	TCPSynAckOut             // the container answered a SYN
	TCPRstOut                // the container reset the flow
)

// NetAddr is a socket address in an Event. Family is AF_INET, AF_INET6 or
// AF_UNIX; for AF_UNIX the path (or "@name") is in Event.Path[1].
type NetAddr struct {
	Family uint16
	Port   uint16
	// Protocol is the socket's type: SOCK_STREAM (tcp), SOCK_DGRAM (udp)
	// or another SOCK_* value.
	Protocol uint8
	_        [3]byte
	// IP is the address, IPv4 in its first 4 bytes.
	IP [16]byte
}

// SetPath stores p as path i (0 or 1), cutting it to PathRoom bytes.
func (e *Event) SetPath(i int, p string) {
	n := copy(e.Path[i][:], p)
	e.PathLen[i] = uint16(n)
	if n < len(p) {
		e.Flags |= FlagPathCut
	}
}

// PathString returns path i as a string.
func (e *Event) PathString(i int) string { return string(e.Path[i][:e.PathLen[i]]) }

// SetComm stores a command name.
func (e *Event) SetComm(c string) { copy(e.Comm[:], c) }

// CommString returns the command name without padding.
func (e *Event) CommString() string {
	n := 0
	for n < len(e.Comm) && e.Comm[n] != 0 {
		n++
	}
	return string(e.Comm[:n])
}

// Call is one system call in the swarm's call feed: the compact item the
// gate pushes for the calls of the application the agents need (64 bytes,
// where an Event takes 512): the sequence agent's prefilter in the gate
// passes novel windows, the calls after them and lifecycle calls, and
// says what it skipped.
type Call struct {
	// Task is the task's goroutine ID in the sentry: unique for the
	// sandbox's lifetime, never reused (TIDs are).
	Task uint64
	// TID and PID are the thread and thread group IDs in the sandbox's
	// root PID namespace.
	TID, PID  int32
	Sysno     uint16
	Container uint16
	// Skipped counts the task's calls before this one that were not
	// pushed (their windows were normal); Hist is the task's history
	// before this call, HistHead and HistN its ring position and length
	// (selfmodel.Ring's layout).
	Skipped  uint32
	Hist     [16]uint16
	HistHead uint8
	HistN    uint8
}

// Mem is one memory observation: the compact item (56 bytes) the athena
// platform pushes for each page fault the sentry handles, and the gate for
// each W+X mapping request. The driver turns it into an Event of Kind
// (KindFault or KindMemory, whose Args layouts A follows: A[0..3] are a
// fault's Args[0..3]; a KindMemory item's op is Op and A[0..3] its
// Args[1..4]).
type Mem struct {
	Time      int64
	A         [4]uint64
	Container uint32
	TID, PID  int32
	Sysno     uint16
	Kind      Kind
	Op        uint8
}

// ToEvent fills e (reset first) from m.
func (m *Mem) ToEvent(e *Event) {
	*e = Event{Time: m.Time, Container: m.Container, PID: m.PID, TID: m.TID, Sysno: uint32(m.Sysno), Kind: m.Kind}
	if m.Kind == KindMemory {
		e.Args[0] = uint64(m.Op)
		copy(e.Args[1:5], m.A[:])
		return
	}
	copy(e.Args[:4], m.A[:])
}
