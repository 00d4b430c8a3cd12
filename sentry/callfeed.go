package sentry

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/sentry/kernel"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/rate"
	"github.com/athenaos/athena/swarm/ring"
	"github.com/athenaos/athena/swarm/selfmodel"
)

// The call feed is the hot-path half of the swarm: the calls of the
// application the agents need are pushed, as 64-byte event.Calls, into a
// ring the swarm's drainer consumes (see call for the prefilter that
// keeps normal calls out), and the task's pending action (a delay or a
// deny the swarm decided) is read back and carried out.
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

// taskSlot is one entry of the task table (72 bytes).
type taskSlot struct {
	// ident is goid(32) | tid(16) | pid(16), IDs in the root PID
	// namespace (gVisor's TasksLimit keeps them below 1<<16).
	ident atomic.Uint64
	// action is goid(32) | kind(8) | param(24): the delay in
	// microseconds, or the errno of a deny.
	action atomic.Uint64
	// until is when the action lapses, in Unix nanoseconds.
	until atomic.Int64
	// owner is goid(32) | ownedBit | tid(16) of the task that owns the slot's
	// prefilter state (0: none): claimed by compare-and-swap, released
	// at the owner's exit or by the drainer's sweep once the owner is
	// gone. A task that finds the slot owned by another goes unfiltered.
	owner atomic.Uint64
	// The prefilter's state, the owner's alone: the task's history, the
	// calls still to pass after a novel window, the calls skipped since
	// the last one passed.
	ring    selfmodel.Ring
	hot     uint8
	_       [1]byte
	skipped uint32
	// win is the task's last K calls packed 9 bits each (K <= 7), and
	// memo the last few full windows found normal (with memoValid set),
	// under the model of generation gen: a loop's windows are then
	// recognised in the slot's own cache lines, without reading the
	// model (whose rows the sentry's own work between two calls of the
	// app evicts from the cache).
	win      uint64
	memo     [memoSize]uint64
	gen      uint32
	memoNext uint8
}

// seqModel is what the prefilter of a container's calls reads: a copy
// of its sense-of-self model that nobody writes, published by the
// drainer.
type seqModel struct {
	m *selfmodel.Model
	k int
	// hot is how many calls pass after a novel window, so that the
	// detector sees the task's frame decay and can delay each of them
	// (Frame+K; 0 in learn mode, where the detector decides nothing).
	hot uint8
	// gen numbers the publications: a slot's memo is of one of them.
	gen uint32
	// pack is the mask of a packed window, 0 when K is too large to pack
	// (K > 7: 9 bits a call in 63).
	pack uint64
}

// memoSize is how many normal windows a task remembers: a loop of up to
// this many distinct windows is checked without reading the model.
const memoSize = 4

// memoValid marks a memo entry as used (a packed window is below 1<<63).
const memoValid = 1 << 63

// callFeed is the gate's end of the call feed.
type callFeed struct {
	calls *ring.Ring[event.Call]
	slots [taskSlots]taskSlot
	// kernel is the sandbox's kernel, taken from the first task seen:
	// the drainer needs it to signal a thread group.
	kernel atomic.Pointer[kernel.Kernel]
	// denySet marks the calls a deny fails.
	denySet [512]bool
	// models are the containers' published models, by slot (nil: no
	// detector yet, every call passes; seqOff: the sense of self is
	// off, only alwaysPass calls pass).
	models [maxSlots]atomic.Pointer[seqModel]
	seqOff atomic.Bool
	// alwaysPass marks the calls that pass whatever their window: those
	// the rate detector counts, and exits (the agents forget tasks).
	alwaysPass [512]bool
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
	for c := range rate.Class(rate.NumClasses) {
		for _, n := range rate.Calls(c) {
			f.alwaysPass[n] = true
		}
	}
	f.alwaysPass[unix.SYS_EXIT] = true
	f.alwaysPass[unix.SYS_EXIT_GROUP] = true
	return f
}

// call passes t's call to the swarm if it needs it, and returns t's
// action word (0 when none). It is on the hot path: a few atomic loads,
// the window check against the published model (K-1 bit tests), and for
// the calls that pass a ring push; no allocation, no lock (the ident
// cache miss aside).
//
// The prefilter: a call whose window is normal under the model, outside
// the calls that follow a novel window, is not pushed; the task's history
// and a count of the calls skipped go with its next pushed call, so that
// the detector decides as if it had seen every call
// (selfmodel.Detector.Resync).
func (f *callFeed) call(g *SyscallGate, t *kernel.Task, sysno uintptr, container uint32) uint64 {
	goid := uint64(t.GoroutineID())
	s := &f.slots[goid&taskMask]
	id := s.ident.Load()
	if uint32(id>>32) != uint32(goid) {
		id = f.fill(t, s, goid)
	}
	pass := sysno < uintptr(len(f.alwaysPass)) && f.alwaysPass[sysno]
	var sm *seqModel
	if container < maxSlots {
		sm = f.models[container].Load()
	}
	owned := false
	if sm == nil {
		pass = pass || !f.seqOff.Load() // no detector yet: it needs every call
	} else if owned = f.own(s, goid, id); !owned {
		pass = true
	} else {
		cur := selfmodel.SysIndex(uint32(sysno))
		switch {
		case !f.normal(s, sm, cur):
			s.hot, pass = sm.hot, true
		case s.hot > 0:
			s.hot--
			pass = true
		}
		if pass {
			f.push(g, s, goid, id, sysno, container, true)
		} else {
			s.skipped++
		}
		s.ring.Push(cur, sm.k)
		pass = false
	}
	if pass {
		f.push(g, s, goid, id, sysno, container, false)
	}
	if owned && (sysno == unix.SYS_EXIT || sysno == unix.SYS_EXIT_GROUP) {
		s.owner.Store(0) // the task is leaving: the slot's state is free
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

// own reports whether goroutine goid owns slot s's prefilter state,
// claiming it if nobody does (and then starting it afresh).
func (f *callFeed) own(s *taskSlot, goid, id uint64) bool {
	o := s.owner.Load()
	if o != 0 && uint32(o>>32) == uint32(goid) {
		return true
	}
	if o != 0 || !s.owner.CompareAndSwap(0, goid<<32|ownedBit|(id>>16)&0xffff) {
		return false
	}
	s.ring, s.hot, s.skipped, s.win, s.memo = selfmodel.Ring{}, 0, 0, 0, [memoSize]uint64{}
	return true
}

// push puts one call into the ring; with the prefilter's state (owned),
// the task's history and skipped count go with it. A dropped call counts
// as skipped, so the detector's history is resynced all the same.
func (f *callFeed) push(g *SyscallGate, s *taskSlot, goid, id uint64, sysno uintptr, container uint32, owned bool) {
	c := event.Call{Task: goid, TID: int32(uint16(id >> 16)), PID: int32(uint16(id)), Sysno: uint16(min(sysno, 0xffff)), Container: uint16(container)}
	if owned {
		c.Skipped, c.Hist, c.HistHead, c.HistN = s.skipped, s.ring.Calls, s.ring.Head, s.ring.N
	}
	pos, ok := f.calls.Push(&c)
	switch {
	case !ok && owned:
		s.skipped++
	case owned:
		s.skipped = 0
	}
	if ok && pos%wakeEvery == 0 {
		g.wakeDrainer()
	}
}

// publish makes m (a copy nobody writes) the model the prefilter of
// container slot checks windows against.
func (f *callFeed) publish(slot uint32, m *selfmodel.Model, hot int) {
	if slot >= maxSlots {
		return
	}
	sm := &seqModel{m: m, k: m.K(), hot: uint8(min(hot, 255))}
	if old := f.models[slot].Load(); old != nil {
		sm.gen = old.gen + 1
	}
	if sm.k <= 7 {
		sm.pack = 1<<(9*sm.k) - 1
	}
	f.models[slot].Store(sm)
}

// normal reports whether the window of s's history and cur is normal
// under sm: from the slot's memo when it holds the window, else from the
// model (and then memoised). Only full windows are memoised: a short
// one at a task's start can pack like a full one.
func (f *callFeed) normal(s *taskSlot, sm *seqModel, cur uint16) bool {
	if sm.pack == 0 {
		return sm.m.NormalAfter(&s.ring, cur)
	}
	if s.gen != sm.gen {
		s.gen, s.memo = sm.gen, [memoSize]uint64{}
	}
	w := (s.win<<9 | uint64(cur)) & sm.pack
	s.win = w
	full := int(s.ring.N) == sm.k-1
	if full {
		key := w | memoValid
		for _, m := range s.memo {
			if m == key {
				return true
			}
		}
	}
	if !sm.m.NormalAfter(&s.ring, cur) {
		return false
	}
	if full {
		s.memo[s.memoNext%memoSize] = w | memoValid
		s.memoNext++
	}
	return true
}

// sweep releases the prefilter state of tasks that are gone without an
// exit call (threads ended by another's exit_group, killed tasks). The
// drainer's, every few seconds.
func (f *callFeed) sweep() {
	k := f.kernel.Load()
	if k == nil {
		return
	}
	root := k.TaskSet().Root
	for i := range f.slots {
		s := &f.slots[i]
		o := s.owner.Load()
		if o == 0 {
			continue
		}
		if t := root.TaskWithID(kernel.ThreadID(uint16(o))); t == nil || uint32(t.GoroutineID()) != uint32(o>>32) {
			s.owner.CompareAndSwap(o, 0)
		}
	}
}

// ownedBit marks an owner word as taken, whatever the goroutine ID and
// TID in it.
const ownedBit = 1 << 31

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
