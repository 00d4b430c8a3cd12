package sentry

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/context"
	"gvisor.dev/gvisor/pkg/hostarch"
	"gvisor.dev/gvisor/pkg/sentry/arch"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
	"gvisor.dev/gvisor/pkg/sentry/platform"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/ring"
)

// MemRingSize bounds the memory observations (faults, W+X requests)
// waiting for the drainer: 4096 items of 56 bytes.
const MemRingSize = 4096

// memFeed is the fault path's and the W+X check's end of the memory
// feed: it pushes one event.Mem per page fault the sentry handles and per
// mapping call that asks for write and execute at once. Like the call
// feed it is on the task's goroutine: a counter, the task's cached IDs,
// one ring push; no allocation, no lock (exec faults aside, which are
// classified under the memory manager's read lock, see classify).
type memFeed struct {
	ring *ring.Ring[event.Mem]
	gate *SyscallGate
	// Counters for status.
	faults, execFaults, wx atomic.Uint64
}

// MemStats are the memory feed's counters.
type MemStats struct {
	Faults, ExecFaults, WX uint64
	Ring                   ring.Stats
}

// EnableFaultPath makes the athena platform push page faults, and the
// gate W+X mapping requests, into r. Preconditions: called once, after
// InstallSyscallGate and before the kernel starts.
func (g *SyscallGate) EnableFaultPath(r *ring.Ring[event.Mem]) {
	f := &memFeed{ring: r, gate: g}
	g.mem = f
	faultPath.Store(f)
}

// ident returns t's thread and thread group IDs and container slot from
// the call feed's cache (filled at most once per task).
func (f *memFeed) ident(t *kernel.Task) (tid, pid int32, slot uint32) {
	g := f.gate
	if ts := g.tables.Load(); ts != nil {
		_, slot = ts.forTask(t)
	}
	if cf := g.feed; cf != nil {
		goid := uint64(t.GoroutineID())
		s := &cf.slots[goid&taskMask]
		id := s.ident.Load()
		if uint32(id>>32) != uint32(goid) {
			id = cf.fill(t, s, goid)
		}
		return int32(id >> 16 & 0xffff), int32(id & 0xffff), slot
	}
	root := t.Kernel().TaskSet().Root
	return int32(root.IDOfTask(t)), int32(root.IDOfThreadGroup(t.ThreadGroup())), slot
}

// fault takes one page fault of the task ctx is (the sentry is about to
// handle it).
func (f *memFeed) fault(ctx context.Context, as platform.MemoryManager, info *linux.SignalInfo, at hostarch.AccessType, ip uintptr) {
	t, ok := ctx.(*kernel.Task)
	if !ok {
		return
	}
	f.faults.Add(1)
	addr := info.Addr()
	var access uint64
	if at.Read {
		access |= event.AccessRead
	}
	if at.Write {
		access |= event.AccessWrite
	}
	class := uint64(event.MemUnknown)
	if at.Execute {
		access |= event.AccessExec
		f.execFaults.Add(1)
		class = classify(ctx, as, hostarch.Addr(addr))
	}
	m := event.Mem{Time: time.Now().UnixNano(), Kind: event.KindFault, Sysno: uint16(info.Signo),
		A: [4]uint64{addr, access, uint64(ip), class}}
	m.TID, m.PID, m.Container = f.ident(t)
	f.ring.TryPush(&m)
}

// mapping checks a mmap, mprotect or pkey_mprotect call for W+X.
func (f *memFeed) mapping(t *kernel.Task, sysno uintptr, args *arch.SyscallArguments) {
	const wx = unix.PROT_WRITE | unix.PROT_EXEC
	if args[2].Uint64()&wx != wx {
		return
	}
	f.wx.Add(1)
	var flags uint64
	if sysno == unix.SYS_MMAP {
		flags = args[3].Uint64()
	}
	m := event.Mem{Time: time.Now().UnixNano(), Kind: event.KindMemory, Op: event.MemOpWX, Sysno: uint16(sysno),
		A: [4]uint64{args[0].Uint64(), args[1].Uint64(), args[2].Uint64(), flags}}
	m.TID, m.PID, m.Container = f.ident(t)
	f.ring.TryPush(&m)
}

func (f *memFeed) stats() MemStats {
	return MemStats{Faults: f.faults.Load(), ExecFaults: f.execFaults.Load(), WX: f.wx.Load(), Ring: f.ring.Stats()}
}
