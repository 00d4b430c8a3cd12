package sentry

import (
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/log"
	"gvisor.dev/gvisor/pkg/sentry/kernel"

	"github.com/athenaos/athena/swarm/sched"
)

// The scheduler's kernel side. The scheduler agent (swarm/sched) decides,
// once a period, how long each task must be held; this loop, a goroutine
// of its own, measures the tasks for it and applies the holds:
//
//   - Measuring. Every schedSlot it reads each task's goroutine state (an
//     atomic load): blocked in the sentry, or runnable (in application
//     code or in the sentry). The blocked samples estimate each task's
//     time blocked, and a runnable sample followed by a blocked one counts
//     a block. Once a period it reads each task's CPU time (gVisor's own
//     accounting: kernel.Task.CPUStats) and hands the agent one sample per
//     task, plus the thread groups created since the last period.
//   - Holding. A hold is an external stop (kernel.Task.BeginExternalStop,
//     the mechanism runsc's pause uses): the task leaves application code
//     at once (the stop interrupts it) and parks in the kernel's stopped
//     state, where it is neither running nor counted in CPU time, until
//     EndExternalStop. A task's hold for the period is split into
//     schedSlot slices spread over the period, each task at its own
//     phase, so that the CPU time given back to the others comes every few
//     milliseconds, not in one block.
//
// Nothing of this runs on the application's path: no system call, fault or
// switch of any task does any work for the scheduler. External stops are
// not saved in a checkpoint (gVisor's stopCount is not saved), so a
// restored task never stays held.
const (
	schedSlot  = 5 * time.Millisecond
	schedSlots = int(sched.DefaultPeriod / schedSlot)
	// holdRun is the longest run of held slots (20ms). Runs of whole
	// 10ms ticks keep gVisor's CPU accounting, which charges a tick to
	// the tasks that run at its instant, from aliasing with the holds:
	// 5ms on, 5ms off against a 10ms tick charged a held hog all or
	// none of its time.
	holdRun = 4
	// schedIdleSleep is how long the loop sleeps between looks while no
	// task runs and nothing is held.
	schedIdleSleep = 100 * time.Millisecond
	// schedStatusTasks bounds the tasks the status lists (the busiest).
	schedStatusTasks = 32
)

// schedSample is one task's cumulative usage, or (spawned > 0) a parent's
// new thread groups, for the agent.
type schedSample struct {
	container        uint32
	pid, tid         int32
	runNS, waitNS    uint64
	blocks, switches uint64
	spawned          uint32
}

// schedKey keys a task (or, for spawns, a parent) by container slot and
// TID.
func schedKey(container uint32, tid int32) uint64 { return uint64(container)<<32 | uint64(uint32(tid)) }

// schedTask is the loop's state for one task.
type schedTask struct {
	t         *kernel.Task
	container uint32
	pid, tid  int32
	// blockedNS and blocks are the sampled time blocked and blocks.
	blockedNS, blocks uint64
	heldNS            uint64
	lastRunnable      bool
	// periodCPU is the task's CPU time at the latest period's start and
	// delta its increase over that period; overheadNS the sentry's
	// time charged to it.
	periodCPU, delta, overheadNS uint64
	// statusHeld is heldNS, with a stop in progress, when the status
	// was last built.
	statusHeld uint64
	seen       uint64
	// holdSlots has bit i set when the task is held in slot i of the
	// current period; carry is hold time not yet given slots (ns).
	holdSlots uint32
	carry     int64
	// delayUntil holds the task until then (a delay decision).
	delayUntil int64
	stopped    bool
	stoppedAt  int64
}

// schedDelay asks the loop to hold a task for a while (a delay decision
// of an agent about a task that makes no system calls to delay).
type schedDelay struct {
	container uint32
	tid       int32
	d         time.Duration
}

// schedLoop is the scheduler's kernel side for one sandbox.
type schedLoop struct {
	published func() *sched.Table
	slotOf    func(*kernel.Task) uint32
	wake      func()

	tasks   map[*kernel.Task]*schedTask
	byKey   map[uint64]*schedTask
	groups  map[*kernel.ThreadGroup]uint64 // thread group -> pass first seen
	scratch []*kernel.Task
	// live are the tasks of the current period's pass.
	live   []*schedTask
	pass   uint64
	gen    uint64
	slot   int
	spawns map[uint64]uint32 // container<<32|parent -> groups created
	// lastProc is the sentry process's CPU time at the latest period.
	lastProc int64

	// samples carries each period's samples to the drainer; delays
	// carries delay decisions from it.
	samples chan []schedSample
	delays  chan schedDelay

	status  atomic.Pointer[SchedLoopStatus]
	dropped atomic.Uint64 // sample batches the drainer had no room for
	crashes atomic.Uint64
	stops   atomic.Uint64 // external stops begun
}

func newSchedLoop(published func() *sched.Table, slotOf func(*kernel.Task) uint32, wake func()) *schedLoop {
	return &schedLoop{
		published: published, slotOf: slotOf, wake: wake,
		tasks: map[*kernel.Task]*schedTask{}, byKey: map[uint64]*schedTask{},
		groups: map[*kernel.ThreadGroup]uint64{}, spawns: map[uint64]uint32{},
		samples: make(chan []schedSample, 2), delays: make(chan schedDelay, 64),
	}
}

// run is the loop; it waits for the sandbox's kernel first. A panic
// releases every hold (a task must never stay stopped) and restarts the
// loop a second later, with the tasks measured afresh.
func (l *schedLoop) run(kernelOf func() *kernel.Kernel) {
	defer func() {
		if p := recover(); p != nil {
			l.releaseAll()
			l.crashes.Add(1)
			log.Warningf("athena: scheduler: loop panicked (%v); holds released, restarting in 1s", p)
			time.AfterFunc(time.Second, func() { go l.run(kernelOf) })
		}
	}()
	var k *kernel.Kernel
	for k == nil {
		if k = kernelOf(); k == nil {
			time.Sleep(schedIdleSleep)
		}
	}
	timer := time.NewTimer(schedSlot)
	var lastClock int64
	idle := false
	for {
		<-timer.C
		select {
		case d := <-l.delays:
			if st := l.byKey[schedKey(d.container, d.tid)]; st != nil {
				st.delayUntil = max(st.delayUntil, time.Now().Add(d.d).UnixNano())
			}
		default:
		}
		// While no task runs (gVisor's CPU clock stands still) and none
		// is held, look only every schedIdleSleep.
		clock := k.CPUClockNow().Nanoseconds()
		idle = clock == lastClock && !l.holding()
		lastClock = clock
		now := time.Now()
		if idle {
			l.period(k, now)
			l.slot = 1 // this look began the period
			timer.Reset(schedIdleSleep)
			continue
		}
		if l.slot == 0 {
			l.period(k, now)
		}
		l.takeHolds(now)
		l.sampleAndHold(now.UnixNano())
		l.slot = (l.slot + 1) % schedSlots
		timer.Reset(schedSlot)
	}
}

// holding reports whether any task is held or has holds to come.
func (l *schedLoop) holding() bool {
	for _, st := range l.tasks {
		if st.stopped || st.holdSlots != 0 || st.delayUntil != 0 {
			return true
		}
	}
	return false
}

// period starts a period: it refreshes the task list and sends the agent
// its samples.
func (l *schedLoop) period(k *kernel.Kernel, now time.Time) {
	l.pass++
	root := k.TaskSet().Root
	l.scratch = root.TasksAppend(l.scratch[:0])
	var totalDelta uint64
	clear(l.spawns)
	l.live = l.live[:0]
	first := l.pass == 1
	for _, t := range l.scratch {
		if t.ExitState() != kernel.TaskExitNone {
			continue
		}
		st := l.tasks[t]
		if st == nil {
			st = &schedTask{t: t, container: l.slotOf(t), tid: int32(root.IDOfTask(t)), pid: int32(root.IDOfThreadGroup(t.ThreadGroup()))}
			if st.tid == 0 {
				continue // not yet (or no longer) in the namespace
			}
			l.tasks[t] = st
			l.byKey[schedKey(st.container, st.tid)] = st
		}
		st.seen = l.pass
		if tg := t.ThreadGroup(); l.groups[tg] == 0 {
			l.groups[tg] = l.pass
			if !first {
				parent := int32(0)
				if p := t.Parent(); p != nil {
					parent = int32(root.IDOfThreadGroup(p.ThreadGroup()))
				}
				l.spawns[schedKey(st.container, parent)]++
			}
		}
		cs := t.CPUStats()
		cpu := uint64(cs.UserTime + cs.SysTime)
		st.delta = 0
		if cpu > st.periodCPU {
			st.delta = cpu - st.periodCPU
		}
		st.periodCPU = cpu
		totalDelta += st.delta
		l.live = append(l.live, st)
	}
	// The sentry's own CPU time (system calls, the network stack, the
	// stops) is the tasks' too: the host counts it against the
	// container's --cpus as it counts the kernel's work under runc. Each
	// task is charged a share in proportion to its CPU time in the
	// period.
	proc := processCPU()
	over := proc - l.lastProc
	if l.lastProc == 0 || over <= 0 || totalDelta == 0 {
		over = 0
	}
	l.lastProc = proc
	batch := make([]schedSample, 0, len(l.live)+len(l.spawns))
	for _, st := range l.live {
		if over > 0 && st.delta > 0 {
			st.overheadNS += uint64(float64(over) * float64(st.delta) / float64(totalDelta))
		}
		batch = append(batch, schedSample{container: st.container, pid: st.pid, tid: st.tid,
			runNS: st.periodCPU + st.overheadNS, waitNS: st.blockedNS, blocks: st.blocks})
	}
	clear(l.scratch)
	clear(l.live) // do not keep exited tasks alive until the next pass
	for t, st := range l.tasks {
		if st.seen != l.pass {
			l.forget(t, st)
		}
	}
	for tg, seen := range l.groups {
		if seen != 0 && tg.Leader() == nil {
			delete(l.groups, tg)
		}
	}
	for key, n := range l.spawns {
		batch = append(batch, schedSample{container: uint32(key >> 32), pid: int32(uint32(key)), spawned: n})
	}
	select {
	case l.samples <- batch:
		l.wake()
	default:
		l.dropped.Add(1)
	}
	l.publishStatus(now)
}

// forget drops a task that exited, ending its stop.
func (l *schedLoop) forget(t *kernel.Task, st *schedTask) {
	if st.stopped {
		t.EndExternalStop()
	}
	delete(l.tasks, t)
	if l.byKey[schedKey(st.container, st.tid)] == st {
		delete(l.byKey, schedKey(st.container, st.tid))
	}
}

// takeHolds turns the agent's latest table, when it is new, into each
// task's hold slots (it looks at every slot: an atomic load). The loop's
// periods are not the agent's (the drainer publishes a table when it
// ticks, about once a period, give or take its own timing), so a table is
// applied until the agent's next one, for at most two periods past its
// own end: a late table then does not leave a period without holds (one
// in which a hog runs unheld and the host throttles the whole sandbox).
// Where that holds too much or too little, the agent's quota debt
// corrects it.
func (l *schedLoop) takeHolds(now time.Time) {
	tab := l.published()
	if tab == nil || now.UnixNano() > tab.Until+2*int64(sched.DefaultPeriod) {
		for _, st := range l.tasks {
			st.holdSlots = 0
		}
		return
	}
	if tab.Gen == l.gen {
		return
	}
	l.gen = tab.Gen
	for _, st := range l.tasks {
		st.holdSlots = 0
	}
	for _, e := range tab.Entries {
		st := l.byKey[schedKey(e.Container, e.TID)]
		if st == nil {
			continue
		}
		st.holdSlots, st.carry = holdSlots(int64(e.HoldNS)+st.carry, int(st.tid))
	}
}

// holdSlots spreads a hold of ns over the period's slots, in runs of at
// most holdRun slots starting at a phase of the task's own, and returns
// the slots and the hold time left over (carried to the next period, so
// short holds are not lost to the rounding).
func holdSlots(ns int64, phase int) (uint32, int64) {
	n := int(ns / int64(schedSlot))
	rest := ns - int64(n)*int64(schedSlot)
	if n >= schedSlots {
		return 1<<schedSlots - 1, 0
	}
	if n == 0 {
		return 0, rest
	}
	// Runs of up to holdRun slots, spread evenly.
	runs := (n + holdRun - 1) / holdRun
	var bits uint32
	for r := range runs {
		start := phase + r*schedSlots/runs
		for i := range min(holdRun, n-r*holdRun) {
			bits |= 1 << ((start + i) % schedSlots)
		}
	}
	return bits, rest
}

// sampleAndHold samples every task's state and starts or ends its stop for
// the current slot.
func (l *schedLoop) sampleAndHold(now int64) {
	bit := uint32(1) << l.slot
	for t, st := range l.tasks {
		state := t.TaskGoroutineState()
		runnable := state == kernel.TaskGoroutineRunningApp || state == kernel.TaskGoroutineRunningSys
		blocked := state == kernel.TaskGoroutineBlockedInterruptible || state == kernel.TaskGoroutineBlockedUninterruptible
		if blocked {
			st.blockedNS += uint64(schedSlot)
			if st.lastRunnable {
				st.blocks++
			}
		}
		if !st.stopped {
			st.lastRunnable = runnable
		}
		if st.delayUntil != 0 && now >= st.delayUntil {
			st.delayUntil = 0
		}
		want := st.holdSlots&bit != 0 || st.delayUntil != 0
		switch {
		case want && !st.stopped && runnable && t.ExitState() == kernel.TaskExitNone:
			t.BeginExternalStop()
			st.stopped, st.stoppedAt = true, now
			l.stops.Add(1)
		case !want && st.stopped:
			t.EndExternalStop()
			st.stopped = false
			st.heldNS += uint64(now - st.stoppedAt)
		}
	}
}

// releaseAll ends every stop (the loop is going away).
func (l *schedLoop) releaseAll() {
	now := time.Now().UnixNano()
	for t, st := range l.tasks {
		if st.stopped {
			t.EndExternalStop()
			st.stopped = false
			st.heldNS += uint64(now - st.stoppedAt)
		}
	}
}

// SchedLoopStatus is the kernel side's view for the status: the busiest
// tasks' cumulative times.
type SchedLoopStatus struct {
	Tasks []SchedTaskStatus
	// Totals per container slot.
	Run, Wait, Held map[uint32]uint64
}

// SchedTaskStatus is one task's times, in nanoseconds since it started
// (Run: CPU time, its share of the sentry's included; Wait: time blocked,
// sampled; Throttled: time held).
type SchedTaskStatus struct {
	Container uint32 `json:"-"`
	PID       int32  `json:"pid"`
	TID       int32  `json:"tid"`
	Comm      string `json:"comm,omitempty"`
	Run       uint64 `json:"run_ns"`
	Wait      uint64 `json:"wait_ns"`
	Throttled uint64 `json:"throttled_ns"`
	// Duty, Interactive and Hold are the agent's view of the task: the
	// fraction of its unblocked time it runs, whether it counts as
	// interactive, and its hold in the current period.
	Duty        float64 `json:"duty"`
	Interactive bool    `json:"interactive"`
	Hold        string  `json:"hold,omitempty"`
}

func (l *schedLoop) publishStatus(now time.Time) {
	s := &SchedLoopStatus{Run: map[uint32]uint64{}, Wait: map[uint32]uint64{}, Held: map[uint32]uint64{}}
	rows := make([]*schedTask, 0, len(l.tasks))
	for _, st := range l.tasks {
		held := st.heldNS
		if st.stopped {
			held += uint64(now.UnixNano() - st.stoppedAt)
		}
		st.statusHeld = held
		s.Run[st.container] += st.periodCPU + st.overheadNS
		s.Wait[st.container] += st.blockedNS
		s.Held[st.container] += held
		rows = append(rows, st)
	}
	// The busiest first: CPU time (as of this period) plus time held.
	busy := func(st *schedTask) uint64 { return st.periodCPU + st.overheadNS + st.statusHeld }
	slices.SortFunc(rows, func(a, b *schedTask) int {
		switch {
		case busy(a) > busy(b):
			return -1
		case busy(a) < busy(b):
			return 1
		}
		return int(a.tid - b.tid)
	})
	for _, st := range rows[:min(len(rows), schedStatusTasks)] {
		s.Tasks = append(s.Tasks, SchedTaskStatus{Container: st.container, PID: st.pid, TID: st.tid, Comm: st.t.Name(),
			Run: st.periodCPU + st.overheadNS, Wait: st.blockedNS, Throttled: st.statusHeld})
	}
	l.status.Store(s)
}

// processCPU returns the sentry process's CPU time (all its threads; the
// application runs in other host processes), 0 if it cannot be read.
func processCPU() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return ts.Nano()
}
