package sentry

import (
	"bytes"
	"path"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/sentry/arch"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
)

// The reap watch tells the healer agent (swarm/heal) about every process
// athena init reaps: athena init is the first process of a container that
// asked for in-sandbox restarts (docs/healer.md) and reaps its children
// with wait4(-1, ...) only. Only wait4's table entry is wrapped; for any
// other caller the wrapper costs a name comparison. For athena init it
// first looks at the next exited child without reaping it (the task is
// still there, with its command name and status), then has the real
// wait4 reap exactly that child: the caller gets what wait4(-1) may
// return, and the report names the process. Exits go to the drainer
// through a bounded channel (dropped and counted when it is full).

// AthenaInitPath is where the runtime mounts athena init in a container;
// athenaInitComm is its command name there (the base name of that path).
const (
	AthenaInitPath = "/.athena/init"
	athenaInitComm = "init"
)

// initReap is one child athena init reaped.
type initReap struct {
	time   int64 // Unix ns
	slot   uint32
	pid    int32
	comm   string
	status linux.WaitStatus
	// main is the command (argv[0]) of the container's main process,
	// from athena init's own arguments (after "--").
	main string
}

// initWatch is the gate's reap watch.
type initWatch struct {
	reaps   chan initReap
	Dropped atomic.Uint64
}

func newInitWatch() *initWatch { return &initWatch{reaps: make(chan initReap, 256)} }

func isWait4(num uintptr) bool { return num == unix.SYS_WAIT4 }

// watchReaps wraps wait4's implementation.
func (g *SyscallGate) watchReaps(fn kernel.SyscallFn) kernel.SyscallFn {
	return func(t *kernel.Task, sysno uintptr, args arch.SyscallArguments) (uintptr, *kernel.SyscallControl, error) {
		if int(args[0].Int()) != -1 || !isAthenaInit(t) {
			return fn(t, sysno, args)
		}
		options := int(args[2].Uint())
		// The options as wait4 reads them (gVisor's
		// parseCommonWaitOptions), not consuming the event. Bad
		// options get wait4's own EINVAL.
		opts := kernel.WaitOptions{Events: kernel.EventExit, ConsumeEvent: false}
		switch options & (linux.WCLONE | linux.WALL) {
		case 0:
			opts.NonCloneTasks = true
		case linux.WCLONE:
			opts.CloneTasks = true
		case linux.WALL:
			opts.NonCloneTasks, opts.CloneTasks = true, true
		default:
			return fn(t, sysno, args)
		}
		if options&^(linux.WNOHANG|linux.WUNTRACED|linux.WCONTINUED|linux.WNOTHREAD|linux.WALL|linux.WCLONE) != 0 {
			return fn(t, sysno, args)
		}
		if options&linux.WNOHANG != 0 {
			opts.NonBlock = true
		} else {
			opts.BlockInterruptErr = linuxerr.ERESTARTSYS
		}
		// Children of every thread of init, as wait4 sees them: the
		// thread that started a child is seldom the one that reaps it.
		opts.SiblingChildren = options&linux.WNOTHREAD == 0
		wr, err := t.Wait(&opts)
		if err == linuxerr.ERESTARTSYS {
			return 0, nil, err // as wait4 itself would: the call restarts
		}
		if err != nil || wr == nil || wr.Task == nil {
			// No exited child (ECHILD, or none yet with WNOHANG):
			// wait4 answers as it would have.
			return fn(t, sysno, args)
		}
		comm, status, pid := wr.Task.Name(), wr.Status, int32(wr.TID)
		args[0].Value = uintptr(pid)
		rv, ctl, err := fn(t, sysno, args)
		if err == nil && int32(rv) == pid {
			g.reportReap(t, pid, comm, status)
		}
		return rv, ctl, err
	}
}

// isAthenaInit reports whether t belongs to a container's first process
// and runs athena init: its parent is outside its container (or it has
// none) and its executable is athenaInitPath.
func isAthenaInit(t *kernel.Task) bool {
	if t.Name() != athenaInitComm {
		return false
	}
	if p := t.Parent(); p != nil && p.ContainerID() == t.ContainerID() {
		return false
	}
	mm := t.MemoryManager()
	if mm == nil {
		return false
	}
	exe := mm.Executable()
	if exe == nil {
		return false
	}
	defer exe.DecRef(t)
	return exe.MappedName(t) == AthenaInitPath
}

// reportReap sends one reap to the drainer.
func (g *SyscallGate) reportReap(t *kernel.Task, pid int32, comm string, status linux.WaitStatus) {
	w := g.reaps
	if w == nil {
		return
	}
	slot := uint32(0)
	if ts := g.tables.Load(); ts != nil {
		_, slot = ts.forTask(t)
	}
	r := initReap{time: time.Now().UnixNano(), slot: slot, pid: pid, comm: comm, status: status, main: initMainCommand(t)}
	select {
	case w.reaps <- r:
		g.wakeDrainer()
	default:
		w.Dropped.Add(1)
	}
}

// initMainCommand returns the base name of the main process's argv[0]
// from athena init's arguments (after "--"), "" if it cannot be read.
func initMainCommand(t *kernel.Task) string {
	mm := t.MemoryManager()
	if mm == nil {
		return ""
	}
	start, end := mm.ArgvStart(), mm.ArgvEnd()
	if end <= start || end-start > 64<<10 {
		return ""
	}
	buf := make([]byte, end-start)
	if _, err := t.CopyInBytes(start, buf); err != nil {
		return ""
	}
	args := bytes.Split(bytes.TrimRight(buf, "\x00"), []byte{0})
	for i, a := range args {
		if string(a) == "--" && i+1 < len(args) {
			return path.Base(string(args[i+1]))
		}
	}
	return ""
}
