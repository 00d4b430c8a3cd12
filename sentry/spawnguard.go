package sentry

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/sentry/arch"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
)

// The spawn guard refuses task creation (clone, clone3, fork, vfork) with
// EAGAIN, as Linux's pids controller does, in two cases:
//
//   - The sandbox holds as many tasks as its share of the container's
//     --pids-limit. On the host that limit counts the sandbox's own
//     processes and threads: under systrap each application process has
//     a stub process and each application thread a stub thread, besides
//     the sentry's and the gofer's threads; the share kept for tasks is
//     (limit - 128) / 4. gVisor does not apply the
//     limit inside, so a fork bomb used to reach it from the host's side,
//     where the sentry cannot create a stub for the next process and
//     panics: the whole sandbox died. Refused inside, in time, the app
//     sees EAGAIN and the sandbox lives.
//   - The scheduler found a fork bomb in the container (enforce mode):
//     its creations are refused for spawnBlockHold, renewed while the
//     storm goes on.
//
// Only the four spawn calls pass through it (their table entries are
// wrapped, no other call's), and a refusal costs one read lock of the task
// set (counting the tasks).
type spawnGuard struct {
	// limit is the most tasks the sandbox may hold (0: none).
	limit atomic.Int64
	// blockUntil is, per container slot, when its spawn block ends (Unix
	// ns; 0: none).
	blockUntil [maxSlots]atomic.Int64
	// Refused counts creations refused (over the limit, blocked).
	RefusedLimit, RefusedBlock atomic.Uint64
}

const (
	// spawnBlockHold is how long a fork-bomb finding blocks creations.
	spawnBlockHold = 10 * time.Second
	// Host tasks per application task under systrap, at worst: an
	// application process is a stub process with a syscall thread and
	// its sysmsg threads (one per context running at once, up to
	// GOMAXPROCS); 2 + 2 on this project's 2-CPU machines, where 2 per
	// task let a fork bomb through. Threads share their process's
	// sysmsg threads, so this overestimates them. Plus the host tasks
	// the sandbox needs besides (the sentry's Go threads, the gofer,
	// the stub factory).
	hostTasksPerTask = 4
	hostTasksReserve = 128
)

// TaskLimitFor returns the sandbox's task limit for a host --pids-limit
// (0: none).
func TaskLimitFor(pids int64) int64 {
	if pids <= 0 {
		return 0
	}
	return max((pids-hostTasksReserve)/hostTasksPerTask, 1)
}

// SetTaskLimit sets the most tasks the sandbox may hold (0: none).
// Preconditions: called before the kernel starts.
func (g *SyscallGate) SetTaskLimit(n int64) { g.spawns.limit.Store(n) }

// blockSpawns refuses container slot's task creations until until.
func (g *SyscallGate) blockSpawns(slot uint32, until time.Time) {
	if slot < maxSlots {
		g.spawns.blockUntil[slot].Store(until.UnixNano())
	}
}

func isSpawn(num uintptr) bool {
	switch num {
	case unix.SYS_CLONE, unix.SYS_CLONE3, unix.SYS_FORK, unix.SYS_VFORK:
		return true
	}
	return false
}

// guardSpawn wraps a spawn call's implementation.
func (g *SyscallGate) guardSpawn(fn kernel.SyscallFn) kernel.SyscallFn {
	return func(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, *kernel.SyscallControl, error) {
		if g.spawnRefused(t, sysno, &args) {
			return 0, nil, linuxerr.EAGAIN
		}
		return fn(t, sysno, args)
	}
}

func (g *SyscallGate) spawnRefused(t *kernel.Task, sysno uintptr, args *arch.SyscallArguments) bool {
	if limit := g.spawns.limit.Load(); limit > 0 && int64(t.PIDNamespace().Root().NumTasks()) >= limit {
		g.spawns.RefusedLimit.Add(1)
		return true
	}
	ts := g.tables.Load()
	if ts == nil {
		return false
	}
	_, slot := ts.forTask(t)
	if until := g.spawns.blockUntil[slot].Load(); until == 0 || time.Now().UnixNano() >= until || createsThread(t, sysno, args) {
		// A fork-bomb block refuses new processes only: threads of
		// the processes already there (a runtime's workers) go on.
		return false
	}
	g.spawns.RefusedBlock.Add(1)
	return true
}

// createsThread reports whether a spawn call creates a thread of the
// caller's process (CLONE_THREAD) rather than a process.
func createsThread(t *kernel.Task, sysno uintptr, args *arch.SyscallArguments) bool {
	switch sysno {
	case unix.SYS_CLONE:
		return args[0].Uint64()&unix.CLONE_THREAD != 0
	case unix.SYS_CLONE3:
		// struct clone_args starts with the flags (u64).
		var flags [8]byte
		if _, err := t.CopyInBytes(args[0].Pointer(), flags[:]); err != nil {
			return false
		}
		return binary.LittleEndian.Uint64(flags[:])&unix.CLONE_THREAD != 0
	}
	return false
}
