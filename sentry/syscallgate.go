package sentry

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/sentry/arch"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
	slinux "gvisor.dev/gvisor/pkg/sentry/syscalls/linux"

	"github.com/athenaos/athena/swarm/event"
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

// syscallGate joins a verdict gate to the sentry.
type syscallGate struct {
	gate   *syscalls.Gate
	events *ring.Ring
	stats  *GateStats
}

// installed guards against wrapping the table twice (every wrapper would
// then run the gate twice).
var installed atomic.Bool

// InstallSyscallGate wraps every entry of gVisor's x86-64 syscall table,
// and its handler for missing syscalls, so that each call is first decided
// by gate; then it rebuilds the table's lookup array. Calls whose verdict
// asks to be recorded are pushed to events (dropped and counted when it is
// full).
//
// Preconditions: called once, before gVisor's kernel starts (the table is
// read without synchronization once tasks run).
func InstallSyscallGate(gate *syscalls.Gate, events *ring.Ring, stats *GateStats) {
	if !installed.CompareAndSwap(false, true) {
		panic("athena: syscall gate installed twice")
	}
	g := &syscallGate{gate: gate, events: events, stats: stats}
	table := slinux.AMD64
	for num, sc := range table.Table {
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
}

// wrap returns fn behind the gate. The closure is built once per syscall at
// install time; nothing here allocates per call.
func (g *syscallGate) wrap(fn kernel.SyscallFn) kernel.SyscallFn {
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
// allocation, no lock and no logging unless the verdict asks for a record.
func (g *syscallGate) check(t *kernel.Task, sysno uintptr, args *arch.SyscallArguments, fn kernel.SyscallFn) (uintptr, *kernel.SyscallControl, error) {
	table := g.gate.Load()
	if table == nil {
		// No policy: for performance this skips the argument copy, not
		// needed for correctness.
		return fn(t, sysno, *args)
	}
	raw := [6]uint64{
		uint64(args[0].Value), uint64(args[1].Value), uint64(args[2].Value),
		uint64(args[3].Value), uint64(args[4].Value), uint64(args[5].Value),
	}
	v := table.Decide(sysno, &raw)
	if v.Has(syscalls.Record) {
		g.record(t, sysno, &raw, v)
	}
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

// record pushes an event for a call the policy wants recorded (log action,
// observe-mode would-deny, learn mode). It is off the common path: only
// recorded calls come here, and it takes the PID namespace's read lock to
// name the task.
func (g *syscallGate) record(t *kernel.Task, sysno uintptr, raw *[6]uint64, v syscalls.Verdict) {
	ev := event.Event{
		Time:    time.Now().UnixNano(),
		Kind:    event.KindSyscall,
		Sysno:   uint32(sysno),
		Verdict: uint64(v),
		PID:     int32(t.ThreadGroup().ID()),
		TID:     int32(t.ThreadID()),
		Args:    *raw,
	}
	if g.events.TryPush(&ev) {
		g.stats.Recorded.Add(1)
	} else {
		g.stats.Dropped.Add(1)
	}
}
