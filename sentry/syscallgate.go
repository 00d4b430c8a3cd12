package sentry

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/sentry/arch"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
	slinux "gvisor.dev/gvisor/pkg/sentry/syscalls/linux"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/ring"
	"github.com/athenaos/athena/syscalls"
)

// GateStats are the gate's counters. They are plain atomics so the hot path
// can bump them without a lock.
type GateStats struct {
	// Denied counts calls failed with an errno.
	Denied atomic.Uint64
	// Killed counts calls that killed their thread or thread group.
	Killed atomic.Uint64
	// Recorded counts calls pushed to the event ring.
	Recorded atomic.Uint64
	// Dropped counts recorded calls the full ring refused.
	Dropped atomic.Uint64
}

// SyscallGate joins verdict tables to the sentry.
type SyscallGate struct {
	// tables are the verdict tables of the sandbox's containers,
	// replaced as a whole by an atomic pointer swap (Publish).
	tables atomic.Pointer[containerTables]
	events *ring.Ring[event.Event]
	stats  *GateStats
	// feed is the swarm's call feed (nil when the swarm is off). Set
	// before the kernel starts, never changed.
	feed *callFeed
	// mem is the memory feed (nil when faults are not watched): W+X
	// mapping requests go to it. Set before the kernel starts.
	mem *memFeed
	// net is the packet path (nil: packets are not watched).
	net *netPath
	// spawns guards task creation (spawnguard.go).
	spawns spawnGuard
	// reaps is the reap watch of athena init (nil in tests that do not
	// install the gate).
	reaps *initWatch
	// cpus holds the OCI CPU resources of a pod's containers, by
	// container ID, for the scheduler (the root container's come in
	// its SwarmConfig).
	cpus sync.Map
	// wake rouses the recorder's drainer when it sleeps (drainerAsleep)
	// and an event arrives, so that records reach the host within
	// moments even when the sandbox is killed soon after. Only recorded
	// calls touch it, and only one per sleep of the drainer.
	wake          chan struct{}
	drainerAsleep atomic.Bool
	// flush asks the drainer to drain and save everything now (the
	// container's init is exiting); it closes the channel it is sent.
	flush chan chan struct{}
	// ready is closed when the root container's table is first
	// published; tables is nil until then.
	ready chan struct{}
	// seen marks the syscalls learn mode has recorded once already
	// (learnedBefore); cleared when a new policy is published.
	seen [syscalls.MaxSyscall + 1]atomic.Bool
}

// containerTables is an immutable set of verdict tables: the sandbox's
// root container's, and those of other containers started in the sandbox
// (a pod's), which a task finds by its container ID. Slot 0 is the root;
// other containers keep their slot (index in ids, plus one) for the
// sandbox's lifetime, so that events can name them by number.
type containerTables struct {
	root   *syscalls.Table
	ids    []string
	tables []*syscalls.Table
}

// forTask returns the table of t's container and its slot. With one
// container (Docker) this is one length test.
func (ts *containerTables) forTask(t *kernel.Task) (*syscalls.Table, uint32) {
	if len(ts.ids) == 0 || t == nil {
		return ts.root, 0
	}
	id := t.ContainerID()
	for i, cid := range ts.ids {
		if cid == id {
			return ts.tables[i], uint32(i + 1)
		}
	}
	return ts.root, 0
}

// installed guards against wrapping the table twice (every wrapper would
// then run the gate twice).
var installed atomic.Bool

// InstallSyscallGate wraps every entry of gVisor's x86-64 syscall table,
// and its handler for missing syscalls, so that each call is first decided
// by the table of the caller's container; then it rebuilds the table's
// lookup array. Until the root container's table is published (Publish),
// calls wait for it. Calls whose verdict asks to be recorded are pushed to
// events (dropped and counted when it is full).
//
// Preconditions: called once, before gVisor's kernel starts (gVisor's
// table is read without synchronization once tasks run).
//
// With calls not nil, every call is also pushed into calls for the
// swarm's agents, and the actions the swarm decides about a task are
// carried out at its calls (see callFeed).
func InstallSyscallGate(events *ring.Ring[event.Event], calls *ring.Ring[event.Call], stats *GateStats) *SyscallGate {
	if !installed.CompareAndSwap(false, true) {
		panic("athena: syscall gate installed twice")
	}
	g := newSyscallGate(events, stats)
	g.reaps = newInitWatch()
	if calls != nil {
		g.feed = newCallFeed(calls)
	}
	table := slinux.AMD64
	for num, sc := range table.Table {
		if isSpawn(num) {
			sc.Fn = g.guardSpawn(sc.Fn)
		}
		if isWait4(num) {
			sc.Fn = g.watchReaps(sc.Fn)
		}
		sc.Fn = g.wrap(sc.Fn)
		table.Table[num] = sc
	}
	missing := table.Missing
	// Adapt Missing to a SyscallFn once, here, so the per-call path
	// builds no closure.
	missingFn := func(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, *kernel.SyscallControl, error) {
		rv, err := missing(t, sysno, args)
		return rv, nil, err
	}
	table.Missing = func(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, error) {
		rv, _, err := g.check(t, sysno, &args, missingFn)
		return rv, err
	}
	table.Init()
	return g
}

// newSyscallGate makes a gate without installing it (tests use it alone).
func newSyscallGate(events *ring.Ring[event.Event], stats *GateStats) *SyscallGate {
	return &SyscallGate{events: events, stats: stats, wake: make(chan struct{}, 1), flush: make(chan chan struct{}), ready: make(chan struct{})}
}

// awaitTables waits until the root container's table is published: only
// calls made while the sandbox is still loading its policy come here.
func (g *SyscallGate) awaitTables() *containerTables {
	<-g.ready
	return g.tables.Load()
}

// Publish makes table the policy of container id (the root container
// when id is "" or the root's ID) for every call from now on: an atomic
// pointer swap, calls in flight finish under the table they loaded. Only
// the recorder's control loop publishes, so swaps never race each other.
func (g *SyscallGate) Publish(id string, table *syscalls.Table) {
	old := g.tables.Load()
	if old == nil {
		if id != "" {
			panic("athena: a pod container's policy published before the sandbox's")
		}
		g.tables.Store(&containerTables{root: table})
		close(g.ready)
		return
	}
	ts := &containerTables{root: old.root, ids: old.ids, tables: slices.Clone(old.tables)}
	if i := slices.Index(ts.ids, id); i >= 0 {
		ts.tables[i] = table
	} else if id == "" {
		ts.root = table
		for i := range g.seen {
			g.seen[i].Store(false)
		}
	} else {
		ts.ids = append(slices.Clone(ts.ids), id)
		ts.tables = append(ts.tables, table)
	}
	g.tables.Store(ts)
}

// Table returns the root container's policy.
func (g *SyscallGate) Table() *syscalls.Table { return g.tables.Load().root }

// TableOf returns the policy and the ID of the container in slot (0 for
// the root, whose ID the caller knows).
func (g *SyscallGate) TableOf(slot uint32) (*syscalls.Table, string) {
	ts := g.tables.Load()
	if slot == 0 || int(slot) > len(ts.ids) {
		return ts.root, ""
	}
	return ts.tables[slot-1], ts.ids[slot-1]
}

// Stats returns the gate's counters.
func (g *SyscallGate) Stats() *GateStats { return g.stats }

// wrap returns fn behind the gate. The closure is built once per syscall at
// install time; nothing here allocates per call.
func (g *SyscallGate) wrap(fn kernel.SyscallFn) kernel.SyscallFn {
	if fn == nil {
		return nil
	}
	return func(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, *kernel.SyscallControl, error) {
		return g.check(t, sysno, &args, fn)
	}
}

// check decides one call and carries the verdict out: run fn, fail with an
// errno, or kill like seccomp's SECCOMP_RET_KILL_{PROCESS,THREAD} (exit by
// SIGSYS).
//
// This is the hot path: one atomic load (the table), a table lookup, no
// allocation, no lock and no logging unless the verdict asks for a record
// or for a path, exec or net check (the slow path, slowCheck).
func (g *SyscallGate) check(t *kernel.Task, sysno uintptr, args *arch.SyscallArguments, fn kernel.SyscallFn) (uintptr, *kernel.SyscallControl, error) {
	ts := g.tables.Load()
	if ts == nil {
		ts = g.awaitTables()
	}
	table, slot := ts.forTask(t)
	raw := [6]uint64{
		uint64(args[0].Value), uint64(args[1].Value), uint64(args[2].Value),
		uint64(args[3].Value), uint64(args[4].Value), uint64(args[5].Value),
	}
	if (sysno == unix.SYS_SETSOCKOPT || sysno == unix.SYS_GETSOCKOPT) && g.net != nil && netfilterOpt(&raw) {
		// The app's own iptables would replace the athena filter
		// (IPT_SO_SET_REPLACE), and listing a table that holds it
		// crashes gVisor's netfilter code (it marshals only its own
		// matcher types). Only reachable with --net-raw and
		// CAP_NET_ADMIN.
		g.stats.Denied.Add(1)
		return 0, nil, linuxerr.EPERM
	}
	v := table.Decide(sysno, &raw)
	if f := g.feed; f != nil && t != nil {
		if a := f.call(g, t, sysno, slot); a != 0 {
			if done, ctl, err := f.carryOut(t, sysno, a); done {
				return 0, ctl, err
			}
		}
		switch sysno {
		case unix.SYS_EXECVE, unix.SYS_EXECVEAT:
			f.forget(t)
		case unix.SYS_EXIT_GROUP:
			g.atExit(t)
		case unix.SYS_MMAP, unix.SYS_MPROTECT, unix.SYS_PKEY_MPROTECT:
			if g.mem != nil {
				g.mem.mapping(t, sysno, args)
			}
		}
	}
	if v&slowChecks != 0 {
		return g.slowCheck(t, sysno, args, &raw, fn, table, slot, v)
	}
	if v.Has(syscalls.Record) && !g.learnedBefore(table, slot, sysno, v) {
		if v.Intended() != syscalls.Allow {
			g.recordRefusal(t, slot, sysno, args, &raw, v)
		} else {
			g.record(t, slot, sysno, &raw, v, nil)
		}
	}
	return g.carryOut(t, sysno, args, fn, v)
}

// carryOut applies a verdict.
func (g *SyscallGate) carryOut(t *kernel.Task, sysno uintptr, args *arch.SyscallArguments, fn kernel.SyscallFn, v syscalls.Verdict) (uintptr, *kernel.SyscallControl, error) {
	switch v.Action() {
	case syscalls.Errno:
		g.stats.Denied.Add(1)
		return 0, nil, linuxerr.ErrorFromUnix(unix.Errno(v.Errno()))
	case syscalls.KillProcess:
		g.stats.Killed.Add(1)
		t.PrepareGroupExit(linux.WaitStatusTerminationSignal(linux.SIGSYS))
		return 0, kernel.CtrlDoExit, nil
	case syscalls.KillThread:
		g.stats.Killed.Add(1)
		t.PrepareExit(linux.WaitStatusTerminationSignal(linux.SIGSYS))
		return 0, kernel.CtrlDoExit, nil
	}
	return fn(t, sysno, *args)
}

// learnedBefore reports whether a learn-mode record of this call would
// teach nothing new: a syscall already seen, whose arguments the profile
// does not learn. Without it, learning would push every call of a busy
// app through the ring and drop most of them. (The root container's
// calls only: other containers' learn records are de-duplicated by the
// recorder.)
func (g *SyscallGate) learnedBefore(table *syscalls.Table, slot uint32, sysno uintptr, v syscalls.Verdict) bool {
	if slot != 0 || v.Has(syscalls.WouldDeny) || v.Intended() != v.Action() || sysno >= uintptr(len(g.seen)) ||
		table.Policy().Mode != policy.ModeLearn || syscalls.LearnsArguments(sysno) {
		return false
	}
	return g.seen[sysno].Swap(true)
}

// record pushes an event for a call the policy wants recorded (log action,
// observe-mode would-deny, learn mode). It is off the common path: only
// recorded calls come here. detail, when not nil, is what a slow check saw.
func (g *SyscallGate) record(t *kernel.Task, slot uint32, sysno uintptr, raw *[6]uint64, v syscalls.Verdict, detail *event.Event) {
	var ev event.Event
	if detail != nil {
		ev = *detail
	}
	ev.Time = time.Now().UnixNano()
	ev.Kind = event.KindSyscall
	ev.Container = slot
	ev.Sysno = uint32(sysno)
	ev.Verdict = uint64(v)
	ev.Args = *raw
	if t != nil { // nil only in this package's tests, which have no kernel
		ev.PID = int32(t.ThreadGroup().ID())
		ev.TID = int32(t.ThreadID())
		ev.SetComm(t.Name())
	}
	if g.events.TryPush(&ev) {
		g.stats.Recorded.Add(1)
		g.wakeDrainer()
	} else {
		g.stats.Dropped.Add(1)
	}
}

// wakeDrainer rouses the drainer if it sleeps.
func (g *SyscallGate) wakeDrainer() {
	if g.drainerAsleep.Load() && g.drainerAsleep.CompareAndSwap(true, false) {
		select {
		case g.wake <- struct{}{}:
		default:
		}
	}
}

// flushTimeout bounds how long the container's exiting init waits for
// the drainer to save what the swarm learnt.
const flushTimeout = 2 * time.Second

// atExit makes the exit of the sandbox's init (the container's first
// process, PID 1: the sandbox goes down with it) wait until the drainer
// has drained the rings and saved the model and the status, so that
// nothing the swarm learnt in a short run is lost. This is the one place
// the app waits for the slow path, once, at its end.
func (g *SyscallGate) atExit(t *kernel.Task) {
	if t.Kernel().TaskSet().Root.IDOfThreadGroup(t.ThreadGroup()) != 1 {
		return
	}
	done := make(chan struct{})
	timer := time.NewTimer(flushTimeout)
	defer timer.Stop()
	select {
	case g.flush <- done:
	case <-timer.C:
		return
	}
	select {
	case <-done:
	case <-timer.C:
	}
}

// netfilterOpt reports whether a setsockopt or getsockopt call is one of
// iptables' (IPT_SO_* at SOL_IP, IP6T_SO_* at SOL_IPV6: options 64 to 67).
func netfilterOpt(raw *[6]uint64) bool {
	level, opt := raw[1], raw[2]
	return (level == unix.SOL_IP || level == unix.SOL_IPV6) && opt >= 64 && opt <= 67
}

// setOCIResources stores a pod container's OCI CPU resources (a policy sent
// without them, a policy change, keeps those stored).
func (g *SyscallGate) setOCIResources(id string, c OCIResources) {
	if c != (OCIResources{}) {
		g.cpus.Store(id, c)
	}
}

// ociResources returns a pod container's OCI CPU resources (zero: none).
func (g *SyscallGate) ociResources(id string) OCIResources {
	if v, ok := g.cpus.Load(id); ok {
		return v.(OCIResources)
	}
	return OCIResources{}
}
