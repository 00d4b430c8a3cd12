package sentry

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/sentry/kernel"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/ring"
)

// The call feed is the hot-path half of the swarm: every call of the
// application is pushed, as a 24-byte event.Call, into a ring the swarm's
// drainer consumes, and the task's pending action (a delay or a deny the
// swarm decided) is read back and carried out.
//
// A task is known by its goroutine ID (Task.GoroutineID: one atomic load,
// unique for the sandbox's life) and found in a direct-mapped table of
// taskSlots slots, indexed by the low bits of that ID. A slot caches the
// task's TID and PID (which gVisor computes under a lock, so only the
// first call of a task, or the first after another task took its slot,
// pays for it) and carries the task's action. Each slot has a single
// writer per word: the task itself for ident, the drainer for action and
// until. Two live tasks whose IDs share the low bits share a slot: they
// then refill the cache in turn, and an action written for one is ignored
// by the other (the action's tag is the goroutine ID); an action can be
// overwritten by the other task's, which the drainer's next decision about
// it restores.
const (
	taskSlotBits = 12
	taskSlots    = 1 << taskSlotBits
	taskMask     = taskSlots - 1
	// wakeEvery: a sleeping drainer is woken every wakeEvery calls, so
	// that a busy app's calls are drained long before the ring fills.
	wakeEvery = 4096
	// CallRingSize is the call feed's ring: 2 MiB of address space,
	// touched as calls pass through it; some 60 ms of calls at a
	// million calls a second.
	CallRingSize = 1 << 16
)

// Action kinds in a slot's action word.
const (
	actNone uint64 = iota
	actDelay
	actDeny
	actKill
)

// taskSlot is one entry of the task table (32 bytes).
type taskSlot struct {
	// ident is goid(32) | tid(16) | pid(16), IDs in the root PID
	// namespace (gVisor's TasksLimit keeps them below 1<<16).
	ident atomic.Uint64
	// action is goid(32) | kind(8) | param(24): the delay in
	// microseconds, or the errno of a deny.
	action atomic.Uint64
	// until is when the action lapses, in Unix nanoseconds.
	until atomic.Int64
	_     [8]byte
}

// callFeed is the gate's end of the call feed.
type callFeed struct {
	calls *ring.Ring[event.Call]
	slots [taskSlots]taskSlot
	// kernel is the sandbox's kernel, taken from the first task seen:
	// the drainer needs it to signal a thread group.
	kernel atomic.Pointer[kernel.Kernel]
	// denySet marks the calls a deny fails.
	denySet [512]bool
	// closed is set when an enforcing agent failed: every call in the
	// deny set is then refused (the swarm fails closed).
	closed atomic.Bool
	// Delayed and Denied count calls the swarm's actions held or failed.
	Delayed, Denied, Killed atomic.Uint64
}

// denied are the calls a swarm deny fails: those that spread an attack
// beyond the task (new programs and processes, new connections and
// listeners, signals and tracing of other processes, namespace and mount
// changes). Reading, writing and closing what the task already holds keep
// working, so the app can fail the way it handles EPERM.
var denied = []uintptr{
	unix.SYS_EXECVE, unix.SYS_EXECVEAT, unix.SYS_FORK, unix.SYS_VFORK, unix.SYS_CLONE, unix.SYS_CLONE3,
	unix.SYS_CONNECT, unix.SYS_BIND, unix.SYS_LISTEN, unix.SYS_SOCKET, unix.SYS_SOCKETPAIR,
	unix.SYS_PTRACE, unix.SYS_PROCESS_VM_WRITEV, unix.SYS_PROCESS_VM_READV, unix.SYS_KILL, unix.SYS_TKILL, unix.SYS_TGKILL,
	unix.SYS_MOUNT, unix.SYS_UNSHARE, unix.SYS_SETNS, unix.SYS_CHROOT, unix.SYS_PIVOT_ROOT,
	unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_MEMFD_CREATE,
}

func newCallFeed(calls *ring.Ring[event.Call]) *callFeed {
	f := &callFeed{calls: calls}
	for _, n := range denied {
		f.denySet[n] = true
	}
	return f
}

// call pushes t's call and returns t's action word (0 when none). It is
// on the hot path: two atomic loads and a ring push, no allocation, no
// lock (the ident cache miss aside).
func (f *callFeed) call(g *SyscallGate, t *kernel.Task, sysno uintptr, container uint32) uint64 {
	goid := uint64(t.GoroutineID())
	s := &f.slots[goid&taskMask]
	id := s.ident.Load()
	if uint32(id>>32) != uint32(goid) {
		id = f.fill(t, s, goid)
	}
	c := event.Call{Task: goid, TID: int32(uint16(id >> 16)), PID: int32(uint16(id)), Sysno: uint16(min(sysno, 0xffff)), Container: uint16(container)}
	if pos, ok := f.calls.Push(&c); ok && pos%wakeEvery == 0 {
		g.wakeDrainer()
	}
	a := s.action.Load()
	if a == 0 || uint32(a>>32) != uint32(goid) {
		if f.closed.Load() {
			return closedAction
		}
		return 0
	}
	return a
}

// closedAction is the action word of a swarm that fails closed (deny the
// deny set, for ever): no task's action word, whose kind is below 0xff.
const closedAction = ^uint64(0)

// holds reports whether goroutine goid's slot caches thread tid.
func (f *callFeed) holds(goid uint64, tid int32) bool {
	id := f.slots[goid&taskMask].ident.Load()
	return uint32(id>>32) == uint32(goid) && int32(uint16(id>>16)) == tid
}

// goidOf finds the goroutine of thread tid in the task table (0 if it is
// not there): a scan, for the rare action about a task other than the
// one whose call is being handled.
func (f *callFeed) goidOf(tid int32) uint64 {
	for i := range f.slots {
		id := f.slots[i].ident.Load()
		if id != 0 && int32(uint16(id>>16)) == tid {
			return id >> 32 // the goroutine ID's low 32 bits, which is all slots and actions use
		}
	}
	return 0
}

// fill caches t's IDs in its slot: once per task (and after a collision).
func (f *callFeed) fill(t *kernel.Task, s *taskSlot, goid uint64) uint64 {
	k := t.Kernel()
	if f.kernel.Load() == nil {
		f.kernel.Store(k)
	}
	root := k.TaskSet().Root
	tid, pid := uint64(root.IDOfTask(t)), uint64(root.IDOfThreadGroup(t.ThreadGroup()))
	id := goid<<32 | (tid&0xffff)<<16 | pid&0xffff
	s.ident.Store(id)
	return id
}

// forget drops t's cached IDs: an execve by a thread that is not its
// group's leader takes the leader's TID.
func (f *callFeed) forget(t *kernel.Task) {
	goid := uint64(t.GoroutineID())
	s := &f.slots[goid&taskMask]
	if id := s.ident.Load(); uint32(id>>32) == uint32(goid) {
		s.ident.CompareAndSwap(id, 0)
	}
}

// carryOut applies action word a to t's call sysno: a delay holds the
// task and lets the call run; a deny fails the call if it is in the deny
// set; a kill ends the thread group. It reports whether the call is
// over (then with its result).
func (f *callFeed) carryOut(t *kernel.Task, sysno uintptr, a uint64) (done bool, ctl *kernel.SyscallControl, err error) {
	if a == closedAction {
		if sysno < uintptr(len(f.denySet)) && f.denySet[sysno] {
			f.Denied.Add(1)
			return true, nil, linuxerr.EPERM
		}
		return false, nil, nil
	}
	goid := uint64(t.GoroutineID())
	s := &f.slots[goid&taskMask]
	if time.Now().UnixNano() > s.until.Load() {
		s.action.CompareAndSwap(a, 0) // lapsed; unless the drainer renewed it meanwhile
		return false, nil, nil
	}
	param := a & 0xffffff
	switch (a >> 24) & 0xff {
	case actDelay:
		f.Delayed.Add(1)
		// Interruptible: a signal (SIGKILL included) ends the wait.
		t.BlockWithTimeout(nil, true, time.Duration(param)*time.Microsecond)
	case actDeny:
		if sysno < uintptr(len(f.denySet)) && f.denySet[sysno] {
			f.Denied.Add(1)
			return true, nil, linuxerr.ErrorFromUnix(unix.Errno(param))
		}
	case actKill:
		f.Killed.Add(1)
		t.PrepareGroupExit(linux.WaitStatusTerminationSignal(linux.SIGKILL))
		return true, kernel.CtrlDoExit, nil
	}
	return false, nil, nil
}

// setAction gives the task of goroutine goid an action until the given
// time (the drainer's, which is the only writer of action and until).
func (f *callFeed) setAction(goid uint64, kind, param uint64, until time.Time) {
	s := &f.slots[goid&taskMask]
	s.until.Store(until.UnixNano())
	s.action.Store(goid<<32 | (kind&0xff)<<24 | min(param, 0xffffff))
}

// killGroup sends SIGKILL to thread group pid (root namespace) at once,
// so that a task blocked in a call dies too.
func (f *callFeed) killGroup(pid int32) bool {
	k := f.kernel.Load()
	if k == nil {
		return false
	}
	t := k.TaskSet().Root.TaskWithID(kernel.ThreadID(pid))
	if t == nil {
		return false
	}
	return t.SendGroupSignal(&linux.SignalInfo{Signo: int32(linux.SIGKILL), Code: linux.SI_KERNEL}) == nil
}

// taskName returns the command name of task tid (root namespace), "" if
// it is gone.
func (f *callFeed) taskName(tid int32) string {
	k := f.kernel.Load()
	if k == nil {
		return ""
	}
	if t := k.TaskSet().Root.TaskWithID(kernel.ThreadID(tid)); t != nil {
		return t.Name()
	}
	return ""
}

// clearGroup lifts the actions on the tasks of thread group pid (the
// drainer's: an operator tolerized the group).
func (f *callFeed) clearGroup(pid int32) {
	for i := range f.slots {
		s := &f.slots[i]
		if id := s.ident.Load(); id != 0 && int32(uint16(id)) == pid {
			s.action.Store(0)
		}
	}
}
