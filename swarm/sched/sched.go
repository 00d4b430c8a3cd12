package sched

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/clocktable"
	"github.com/athenaos/athena/swarm/event"
)

// Stats are the agent's counters.
type Stats struct {
	Containers int    // containers scheduled
	Tasks      int    // tasks in the table
	Samples    uint64 // samples observed (of added containers)
	Spawns     uint64 // thread groups reported created (of added containers)
	// Unknown counts samples and spawn reports of containers not added.
	Unknown uint64
	Periods uint64 // scheduling periods closed
	// Holds counts published holds (enforce), WouldHold the holds
	// computed for observe containers and not published.
	Holds, WouldHold uint64
	// Decisions counts emitted decisions by action.
	Decisions [4]uint64
	Evicted   uint64 // tasks evicted from a full table
	Expired   uint64 // tasks forgotten after IdleTimeout
	Exited    uint64 // tasks forgotten by Forget or RemoveContainer
}

// ContainerStats is one container's state, for status.
type ContainerStats struct {
	Container uint32
	Config    ContainerConfig
	// Used is the CPU its tasks used in the latest closed period, Demand
	// what they would use in a period unheld and Alloc what they are
	// allowed in the next one (ns; Alloc equals Demand in learn mode).
	Used, Demand, Alloc time.Duration
	// Debt is the CPU used over the quota not yet paid back by holds.
	Debt time.Duration
	// Held is the number of its tasks held in the current period and
	// Hold their holds in total (published in enforce mode only).
	Held int
	Hold time.Duration
	// UsedTotal is the CPU its tasks used since it was added.
	UsedTotal time.Duration
	// SpawnRate is the number of thread groups it created in the latest
	// completed second it created any; Spawned in total.
	SpawnRate uint32
	Spawned   uint64
}

// Task is one task's state, as Agent.Task returns it.
type Task struct {
	Container uint32
	PID, TID  int32
	// Duty is the fraction of its unblocked time the task runs (1 for a
	// CPU hog): its demand is Duty × Period.
	Duty float64
	// Interactive: its run bursts were short (InteractiveBurst) in the
	// latest period it ran.
	Interactive bool
	// Hold is its hold in the current period (computed; published in
	// enforce mode only when at least MinHold).
	Hold time.Duration
	// BusySince is when its current run without blocking began (zero:
	// it is not running busy).
	BusySince time.Time
}

// container is the agent's state for one container.
type container struct {
	slot      uint32
	cfg       ContainerConfig
	debt      float64 // ns over the quota
	used      uint64  // ns in the latest closed period
	usedTotal uint64
	demand    float64 // ns per period, unheld
	// interDemand is the demand of its interactive tasks.
	interDemand float64
	alloc       float64 // ns per period
	held        int
	hold        uint64

	// Spawn counting: count in Unix second sec; streak the consecutive
	// seconds over the floor just before sec; last the count of the
	// latest completed second with spawns.
	spawnSec     int64
	spawnCount   uint32
	spawnStreak  int
	spawnLast    uint32
	spawnDecided bool
	spawned      uint64
}

// Agent is the scheduler agent of one sandbox. It implements agent.Agent
// and agent.Snapshotter.
//
// An Agent is a deterministic state machine: it reads no clock (time
// comes from Observe, Spawned, Tick and event times), starts no
// goroutines and does no I/O. It is not safe for concurrent use; one
// driver goroutine calls it, except Published, which any goroutine may
// call.
type Agent struct {
	cfg        Config
	containers map[uint32]*container
	order      []*container // by slot, for deterministic iteration
	tasks      *clocktable.Table[taskSlot]
	// now is the agent's clock (ns): the latest time it was given.
	// periodStart is when the current period began (0: no time yet);
	// nextSweep when Tick next looks for idle tasks.
	now, periodStart, nextSweep int64
	gen                         uint64
	published                   atomic.Pointer[Table]
	stats                       Stats

	// Scratch of closePeriod, reused between periods.
	cshares, gshares, tshares []share
	gowner, towner            []int32
	tkeys                     []uint64
	gindex                    map[uint64]int32
	gorder, gstarts           []int32
	torder, tstarts           []int32
}

var (
	_ agent.Agent       = (*Agent)(nil)
	_ agent.Snapshotter = (*Agent)(nil)
)

// New returns an agent scheduling no container yet (AddContainer adds
// them).
func New(cfg Config) (*Agent, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Agent{
		cfg:        cfg,
		containers: map[uint32]*container{},
		tasks:      clocktable.New[taskSlot](cfg.MaxTasks),
		gindex:     map[uint64]int32{},
	}, nil
}

// Name implements agent.Agent.Name.
func (a *Agent) Name() string { return Name }

// Config returns the agent's configuration, defaults filled in.
func (a *Agent) Config() Config { return a.cfg }

// AddContainer starts scheduling a container, under cfg (zero Weight:
// DefaultWeight).
func (a *Agent) AddContainer(slot uint32, cfg ContainerConfig) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if _, ok := a.containers[slot]; ok {
		return fmt.Errorf("add container %d: already added: %w", slot, ErrContainer)
	}
	if len(a.containers) >= MaxContainers {
		return fmt.Errorf("add container %d: more than %d: %w", slot, MaxContainers, ErrContainer)
	}
	c := &container{slot: slot, cfg: cfg}
	a.containers[slot] = c
	i, _ := slices.BinarySearchFunc(a.order, slot, func(c *container, s uint32) int { return cmp.Compare(c.slot, s) })
	a.order = slices.Insert(a.order, i, c)
	return nil
}

// RemoveContainer stops scheduling a container and forgets its tasks; it
// reports whether the container was there. Its holds leave the published
// table at the next period.
func (a *Agent) RemoveContainer(slot uint32) bool {
	if _, ok := a.containers[slot]; !ok {
		return false
	}
	delete(a.containers, slot)
	a.order = slices.DeleteFunc(a.order, func(c *container) bool { return c.slot == slot })
	a.stats.Exited += uint64(a.tasks.DeleteFunc(func(k uint64, _ *taskSlot) bool { return uint32(k>>32) == slot }))
	return true
}

// SetContainer replaces a container's configuration (a docker update:
// new shares or quota, or a new mode), from the next period on.
func (a *Agent) SetContainer(slot uint32, cfg ContainerConfig) error {
	c, ok := a.containers[slot]
	if !ok {
		return fmt.Errorf("set container %d: %w", slot, ErrContainer)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if cfg.Quota != c.cfg.Quota {
		c.debt = 0
	}
	c.cfg = cfg
	return nil
}

// SetMode switches a container's mode, from the next period on.
func (a *Agent) SetMode(slot uint32, m Mode) error {
	c, ok := a.containers[slot]
	if !ok {
		return fmt.Errorf("set mode of container %d: %w", slot, ErrContainer)
	}
	if m > ModeEnforce {
		return fmt.Errorf("set mode %d: %w", m, ErrConfig)
	}
	c.cfg.Mode = m
	return nil
}

// Stats returns the counters.
func (a *Agent) Stats() Stats {
	s := a.stats
	s.Containers, s.Tasks, s.Evicted = len(a.containers), a.tasks.Len(), a.tasks.Evicted()
	return s
}

// Container returns a container's state.
func (a *Agent) Container(slot uint32) (ContainerStats, bool) {
	c, ok := a.containers[slot]
	if !ok {
		return ContainerStats{}, false
	}
	return ContainerStats{
		Container: slot,
		Config:    c.cfg,
		Used:      time.Duration(c.used),
		Demand:    time.Duration(c.demand),
		Alloc:     time.Duration(c.alloc),
		Debt:      time.Duration(c.debt),
		Held:      c.held,
		Hold:      time.Duration(c.hold),
		UsedTotal: time.Duration(c.usedTotal),
		SpawnRate: c.spawnLast,
		Spawned:   c.spawned,
	}, true
}

// Containers returns every container's state, in slot order.
func (a *Agent) Containers() []ContainerStats {
	out := make([]ContainerStats, 0, len(a.order))
	for _, c := range a.order {
		cs, _ := a.Container(c.slot)
		out = append(out, cs)
	}
	return out
}

// Task returns a task's state.
func (a *Agent) Task(container uint32, tid int32) (Task, bool) {
	t, ok := a.tasks.Get(taskKey(container, tid))
	if !ok {
		return Task{}, false
	}
	r := Task{
		Container:   container,
		PID:         t.pid,
		TID:         tid,
		Duty:        float64(t.duty),
		Interactive: t.flags&flagInteractive != 0,
		Hold:        time.Duration(t.hold),
	}
	if t.busySince != 0 {
		r.BusySince = time.Unix(0, t.busySince)
	}
	return r, true
}

// Published returns the holds in force: the table of the latest closed
// period (nil before the first). It is an atomic load, safe from any
// goroutine; the table must not be modified.
func (a *Agent) Published() *Table { return a.published.Load() }

// Throttles appends the holds in force to out and returns it.
func (a *Agent) Throttles(out []Throttle) []Throttle {
	if t := a.published.Load(); t != nil {
		out = append(out, t.Entries...)
	}
	return out
}

// advance moves the agent's clock to ns if it is later.
func (a *Agent) advance(ns int64) {
	if ns > a.now {
		a.now = ns
	}
	if a.periodStart == 0 {
		a.periodStart = a.now
	}
}

// Observe takes one usage sample of a task at time now. Samples of
// containers not added are counted (Stats.Unknown) and ignored. A task's
// first sample counts what it covers of the current period (its counters
// scaled down to the time since the period began, when they cover more);
// later samples add their differences; counters that went back (a
// reused TID) start the task over. Observe allocates nothing for a known
// task.
func (a *Agent) Observe(now time.Time, s Sample) {
	ns := now.UnixNano()
	a.advance(ns)
	if _, ok := a.containers[s.Container]; !ok {
		a.stats.Unknown++
		return
	}
	a.stats.Samples++
	t, added := a.tasks.Lookup(taskKey(s.Container, s.TID))
	t.pid = s.PID
	switch {
	case added:
		r, w, b := s.RunNS, s.WaitNS, s.Blocks
		el := uint64(max(ns-a.periodStart, 0))
		if tot := r + w; tot > el {
			f := float64(el) / float64(tot)
			r, w, b = uint64(float64(r)*f), uint64(float64(w)*f), uint64(float64(b)*f)
		}
		t.wRun, t.wWait, t.wBlocks = sat32(r), sat32(w), sat32(b)
	case s.RunNS < t.run || s.WaitNS < t.wait || s.Blocks < t.blocks:
		// counters went back: a new task under a reused TID.
		*t = taskSlot{pid: s.PID}
	default:
		t.wRun = add32(t.wRun, s.RunNS-t.run)
		t.wWait = add32(t.wWait, s.WaitNS-t.wait)
		t.wBlocks = add32(t.wBlocks, s.Blocks-t.blocks)
	}
	t.run, t.wait, t.blocks = s.RunNS, s.WaitNS, s.Blocks
	t.lastSeen = ns
}

// Spawned reports that parent, in container, created n thread groups
// (fork, clone without CLONE_THREAD) at time now, and appends the
// fork-bomb decision it leads to, if any: the report that takes the
// container's count in the second of now over SpawnFloor, when the
// SpawnSeconds-1 seconds before were over it too, decides once for that
// second (see the package doc).
func (a *Agent) Spawned(now time.Time, container uint32, parent int32, n uint32, out []agent.Decision) []agent.Decision {
	ns := now.UnixNano()
	a.advance(ns)
	c, ok := a.containers[container]
	if !ok {
		a.stats.Unknown++
		return out
	}
	a.stats.Spawns += uint64(n)
	c.spawned += uint64(n)
	sec := ns / int64(time.Second)
	if sec > c.spawnSec {
		over := c.spawnCount > a.cfg.SpawnFloor
		if over && sec == c.spawnSec+1 {
			c.spawnStreak++
		} else {
			c.spawnStreak = 0
		}
		if c.spawnCount > 0 {
			c.spawnLast = c.spawnCount
		}
		c.spawnSec, c.spawnCount, c.spawnDecided = sec, 0, false
	}
	c.spawnCount = add32(c.spawnCount, uint64(n))
	if c.spawnCount <= a.cfg.SpawnFloor || c.spawnDecided || c.spawnStreak+1 < a.cfg.SpawnSeconds ||
		c.cfg.Mode == ModeLearn {
		return out
	}
	c.spawnDecided = true
	floor := a.cfg.SpawnFloor
	d := agent.Decision{
		Agent:     Name,
		Container: container,
		PID:       parent,
		Action:    agent.ActKill,
		Delay:     a.cfg.Delay,
		Score:     min(1, float64(c.spawnCount)/(2*float64(floor))),
		Reason: fmt.Sprintf("fork bomb: %d thread groups created in 1s, %d seconds over the floor of %d a second",
			c.spawnCount, c.spawnStreak+1, floor),
		Evidence: []string{
			"spawned=" + strconv.FormatUint(uint64(c.spawnCount), 10),
			"floor=" + strconv.FormatUint(uint64(floor), 10),
			"seconds=" + strconv.Itoa(c.spawnStreak+1),
			"parent=" + strconv.Itoa(int(parent)),
		},
	}
	return a.emit(c, d, out)
}

// emit appends d, turned into a record in observe mode.
func (a *Agent) emit(c *container, d agent.Decision, out []agent.Decision) []agent.Decision {
	if c.cfg.Mode == ModeObserve {
		would := d.Action.String()
		switch {
		case d.Action == agent.ActDelay:
			would += " " + d.Delay.String()
		case d.Delay > 0:
			would += " and delay " + d.Delay.String()
		}
		d.Reason = "observe: would " + would + ": " + d.Reason
		d.Action, d.Delay = agent.ActRecord, 0
	}
	a.stats.Decisions[d.Action]++
	return append(out, d)
}

// Handle implements agent.Agent.Handle: event.KindCPU events are usage
// samples (CPUOpTask: Observe) and thread-group creations (CPUOpSpawned:
// Spawned); any other event only advances the clock to its time.
func (a *Agent) Handle(ev *event.Event, out []agent.Decision) []agent.Decision {
	if ev.Kind != event.KindCPU {
		if ev.Time > 0 {
			a.advance(ev.Time)
		}
		return out
	}
	now := time.Unix(0, ev.Time)
	switch ev.Args[0] {
	case event.CPUOpTask:
		a.Observe(now, Sample{Container: ev.Container, PID: ev.PID, TID: ev.TID,
			RunNS: ev.Args[1], WaitNS: ev.Args[2], Switches: ev.Args[3], Blocks: ev.Args[4]})
	case event.CPUOpSpawned:
		out = a.Spawned(now, ev.Container, ev.PID, uint32(min(ev.Args[1], 1<<32-1)), out)
	}
	return out
}

// Tick implements agent.Agent.Tick: it advances the clock and, once a
// Period has passed since the current period began, closes it: measures
// each task's demand, computes and publishes the holds of the next
// period, and appends the busy-loop decisions. At most every
// IdleTimeout/4 it forgets tasks not sampled for IdleTimeout.
func (a *Agent) Tick(now time.Time, out []agent.Decision) []agent.Decision {
	a.advance(now.UnixNano())
	if a.now-a.periodStart >= int64(a.cfg.Period) {
		out = a.closePeriod(out)
	}
	if a.cfg.IdleTimeout >= 0 && a.now >= a.nextSweep {
		idle := int64(a.cfg.IdleTimeout)
		a.stats.Expired += uint64(a.tasks.DeleteFunc(func(_ uint64, t *taskSlot) bool {
			return a.now-t.lastSeen >= idle
		}))
		a.nextSweep = a.now + idle/4
	}
	return out
}

// Forget drops a task (the driver saw it exit) and reports whether it
// was known.
func (a *Agent) Forget(container uint32, tid int32) bool {
	if !a.tasks.Delete(taskKey(container, tid)) {
		return false
	}
	a.stats.Exited++
	return true
}
