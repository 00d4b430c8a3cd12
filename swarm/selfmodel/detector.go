package selfmodel

import (
	"errors"
	"fmt"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
)

// Name is the detector's agent name.
const Name = "selfmodel"

// Mode is the detector's mode (agent.Mode): learn builds the model,
// observe reports what enforce would do, enforce decides.
type Mode = agent.Mode

// Modes.
const (
	ModeLearn   = agent.ModeLearn
	ModeObserve = agent.ModeObserve
	ModeEnforce = agent.ModeEnforce
)

// ParseMode parses a mode name ("learn", "observe", "enforce").
func ParseMode(s string) (Mode, error) {
	m, err := agent.ParseMode(s)
	if err != nil {
		return 0, fmt.Errorf("%v: %w", err, ErrConfig)
	}
	return m, nil
}

// Defaults (see the package doc for the reasons).
const (
	DefaultFrame       = 32
	DefaultDelayAt     = 2
	DefaultDelayBase   = 10 * time.Microsecond
	DefaultDelayFactor = 2.0
	DefaultDelayMax    = time.Second
	DefaultDenyAt      = 12
	DefaultKillAt      = 24
	DefaultStableAfter = 100_000
	DefaultMaxTasks    = 16384
	DefaultIdleTimeout = 10 * time.Minute
	// MaxFrame bounds Config.Frame (the frame is a 128-bit ring).
	MaxFrame = 128
	// evidenceWindows is how many of a task's novel windows a decision
	// carries as Evidence.
	evidenceWindows = 4
)

// Config configures a Detector. New fills the zero value of a shape field
// (K, Frame, DelayFactor, DelayMax, StableAfter, MaxTasks, IdleTimeout,
// Keep) with its default; a zero threshold (DelayAt, DenyAt, KillAt) or
// DelayBase disables that step. DefaultConfig has every step on.
type Config struct {
	// Mode is the starting mode (learn for the zero value).
	Mode Mode
	// K is the window length, MinK..MaxK; default 6.
	K int
	// Frame is the locality frame L: the LFC counts anomalous windows
	// among a task's last Frame windows. 1..MaxFrame; default 32.
	Frame int
	// DelayAt is the LFC from which every call of the task is delayed,
	// by DelayBase * DelayFactor^LFC capped at DelayMax.
	DelayAt     int
	DelayBase   time.Duration
	DelayFactor float64 // at least 1; default 2 (pH's doubling)
	DelayMax    time.Duration
	// DenyAt is the LFC from which the task's anomalous calls are denied.
	DenyAt int
	// KillAt is the LFC at which the task's thread group is killed.
	KillAt int
	// StableAfter is the number of training windows without change after
	// which the model is Stable; default 100,000.
	StableAfter uint64
	// MaxTasks bounds the task table; when it is full, a new task evicts
	// one not seen recently (CLOCK). Default 16,384.
	MaxTasks int
	// IdleTimeout forgets a task after this long without events (checked
	// by Tick); negative: never. Default 10 minutes.
	IdleTimeout time.Duration
	// Keep is the number of distinct anomalous windows kept per task, for
	// Tolerize and evidence, 1..1024; default Frame, so that Tolerize
	// accepts every anomalous window the LFC it clears was counting.
	Keep int
	// PerProcess keys tasks by thread group (PID) instead of by thread
	// (TID): the threads of a group then share one history and frame.
	PerProcess bool
}

// DefaultConfig returns the defaults with every response step on, in
// learn mode.
func DefaultConfig() Config {
	return Config{
		K:           DefaultK,
		Frame:       DefaultFrame,
		DelayAt:     DefaultDelayAt,
		DelayBase:   DefaultDelayBase,
		DelayFactor: DefaultDelayFactor,
		DelayMax:    DefaultDelayMax,
		DenyAt:      DefaultDenyAt,
		KillAt:      DefaultKillAt,
		StableAfter: DefaultStableAfter,
		MaxTasks:    DefaultMaxTasks,
		IdleTimeout: DefaultIdleTimeout,
		Keep:        DefaultFrame,
	}
}

// Errors of Detector.
var (
	// ErrConfig: a Config or Mode is invalid.
	ErrConfig = errors.New("selfmodel: invalid config")
	// ErrSnapshot: Restore was given something Snapshot did not return.
	ErrSnapshot = errors.New("selfmodel: not a selfmodel snapshot")
)

// withDefaults fills zero shape fields and validates.
func (c Config) withDefaults() (Config, error) {
	def := DefaultConfig()
	if c.K == 0 {
		c.K = def.K
	}
	if c.Frame == 0 {
		c.Frame = def.Frame
	}
	if c.DelayFactor == 0 {
		c.DelayFactor = def.DelayFactor
	}
	if c.DelayMax == 0 {
		c.DelayMax = def.DelayMax
	}
	if c.StableAfter == 0 {
		c.StableAfter = def.StableAfter
	}
	if c.MaxTasks == 0 {
		c.MaxTasks = def.MaxTasks
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = def.IdleTimeout
	}
	if c.Keep == 0 {
		c.Keep = c.Frame
	}
	switch {
	case c.Mode > ModeEnforce:
		return c, fmt.Errorf("config: mode %d: %w", c.Mode, ErrConfig)
	case c.K < MinK || c.K > MaxK:
		return c, fmt.Errorf("config: K %d not in [%d, %d]: %w", c.K, MinK, MaxK, ErrConfig)
	case c.Frame < 1 || c.Frame > MaxFrame:
		return c, fmt.Errorf("config: Frame %d not in [1, %d]: %w", c.Frame, MaxFrame, ErrConfig)
	case c.DelayFactor < 1:
		return c, fmt.Errorf("config: DelayFactor %g below 1: %w", c.DelayFactor, ErrConfig)
	case c.DelayBase < 0 || c.DelayMax < 0:
		return c, fmt.Errorf("config: negative delay: %w", ErrConfig)
	case c.MaxTasks < 1 || c.MaxTasks > 1<<24:
		return c, fmt.Errorf("config: MaxTasks %d not in [1, 2^24]: %w", c.MaxTasks, ErrConfig)
	case c.Keep < 1 || c.Keep > 1024:
		return c, fmt.Errorf("config: Keep %d not in [1, 1024]: %w", c.Keep, ErrConfig)
	}
	for _, th := range []struct {
		name string
		v    int
	}{{"DelayAt", c.DelayAt}, {"DenyAt", c.DenyAt}, {"KillAt", c.KillAt}} {
		if th.v < 0 || th.v > c.Frame {
			return c, fmt.Errorf("config: %s %d not in [0 (off), Frame %d]: %w", th.name, th.v, c.Frame, ErrConfig)
		}
	}
	return c, nil
}

// Stats are the detector's counters.
type Stats struct {
	Tasks     int    // tasks in the table
	Events    uint64 // syscall events handled
	Windows   uint64 // windows scored (observe, enforce)
	Anomalous uint64 // anomalous windows
	// Decisions counts emitted decisions by action.
	Decisions [4]uint64
	Evicted   uint64 // tasks evicted from a full table
	Expired   uint64 // tasks forgotten after IdleTimeout
	Exited    uint64 // tasks forgotten at exit, exit_group or Forget
	Tolerized uint64 // windows added to the model by Tolerize
}

// Detector is the sense-of-self agent of one workload: one Model shared by
// all the workload's tasks, and a bounded table of per-task state. It
// implements agent.Agent and agent.Snapshotter.
//
// A Detector is a deterministic state machine: it reads no clock (time
// comes from Tick and event times), starts no goroutines and does no I/O.
// It is not safe for concurrent use; one driver goroutine calls it.
type Detector struct {
	cfg   Config
	model *Model
	// tasks is the table's slab; index maps a task key to its slot; free
	// lists unused slots; hand is the CLOCK eviction hand.
	tasks []Task
	index map[uint64]int32
	free  []int32
	hand  int32
	// now is the detector's clock in nanoseconds: the latest of Tick's
	// time and event times. nextSweep is when Tick next looks for idle
	// tasks.
	now       int64
	nextSweep int64
	stats     Stats
	// Derived from cfg by derive: the delay and reasons per LFC, and a
	// scratch window.
	delays  []time.Duration
	reasons []string
	observe [4][]string
	scratch [MaxK]uint16
}

var (
	_ agent.Agent       = (*Detector)(nil)
	_ agent.Snapshotter = (*Detector)(nil)
)

// New returns a detector with an empty model.
func New(cfg Config) (*Detector, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, _ := NewModel(cfg.K)
	d := &Detector{cfg: cfg, model: m, index: make(map[uint64]int32)}
	d.derive()
	return d, nil
}

// derive rebuilds the tables that depend on cfg only.
func (d *Detector) derive() {
	c := &d.cfg
	d.delays = make([]time.Duration, c.Frame+1)
	d.reasons = make([]string, c.Frame+1)
	for a := range d.observe {
		d.observe[a] = make([]string, c.Frame+1)
	}
	delay := float64(c.DelayBase)
	for lfc := 0; lfc <= c.Frame; lfc++ {
		if delay >= float64(c.DelayMax) {
			d.delays[lfc] = c.DelayMax
		} else {
			d.delays[lfc] = time.Duration(delay)
		}
		delay *= c.DelayFactor
		d.reasons[lfc] = fmt.Sprintf("%d of the last %d windows anomalous (K=%d)", lfc, c.Frame, c.K)
		for a := range d.observe {
			d.observe[a][lfc] = fmt.Sprintf("observe: would %s: %s", agent.Action(a), d.reasons[lfc])
		}
	}
}

// Name implements agent.Agent.Name.
func (d *Detector) Name() string { return Name }

// Config returns the detector's configuration, defaults filled in.
func (d *Detector) Config() Config { return d.cfg }

// Mode returns the current mode.
func (d *Detector) Mode() Mode { return d.cfg.Mode }

// SetMode switches mode. Tasks keep their history and frames, so a switch
// from learn to enforce scores the very next window.
func (d *Detector) SetMode(m Mode) error {
	if m > ModeEnforce {
		return fmt.Errorf("set mode %d: %w", m, ErrConfig)
	}
	d.cfg.Mode = m
	return nil
}

// Model returns the live model (for Marshal, Merge, statistics). The
// caller must not use it concurrently with the detector.
func (d *Detector) Model() *Model { return d.model }

// SetModel replaces the model by a copy of m (a profile loaded from the
// host's long memory, say), which must have the detector's K.
func (d *Detector) SetModel(m *Model) error {
	if m.K() != d.cfg.K {
		return fmt.Errorf("set model: K %d, detector K %d: %w", m.K(), d.cfg.K, ErrK)
	}
	d.model = m.Clone()
	return nil
}

// Stable reports whether the model is Stable after Config.StableAfter
// windows. The detector does not switch mode by itself: the host decides
// when a stable profile is enforced.
func (d *Detector) Stable() bool { return d.model.Stable(d.cfg.StableAfter) }

// Stats returns the counters.
func (d *Detector) Stats() Stats {
	s := d.stats
	s.Tasks = len(d.index)
	return s
}

// Task returns a copy of a task's state; id is the TID, or the PID with
// Config.PerProcess.
func (d *Detector) Task(container uint32, id int32) (Task, bool) {
	i, ok := d.index[taskKey(container, id)]
	if !ok {
		return Task{}, false
	}
	t := d.tasks[i]
	if t.novel != nil {
		t.novel = t.novel.clone()
	}
	return t, true
}

// Handle implements agent.Agent.Handle. It takes syscall events
// (event.KindSyscall) and ignores the others. For the event's task it
// scores the window ending in the call (learn mode: adds it to the model),
// then, in observe and enforce modes, appends at most one decision:
//
//   - ActKill while the task's LFC is at least KillAt;
//   - else ActDeny for an anomalous window while the LFC is at least
//     DenyAt;
//   - else ActDelay for any call while the LFC is at least DelayAt (as pH
//     delays every call of an anomalous task);
//   - else ActRecord for an anomalous window.
//
// In observe mode the decision is ActRecord and its Reason says what
// enforce would have done. A decision on an anomalous window carries the
// task's last few novel windows as Evidence (see FormatWindow). After an
// exit (the thread) or exit_group (its thread group) the task is
// forgotten. An event folded by the recorder (Repeats > 0) counts as
// 1+Repeats calls, of which at most K-1+Frame are replayed: more would
// leave the history and frame as they are.
//
// For a known task whose window needs no decision (learn mode on known
// windows included) Handle allocates nothing; a new task may grow the
// table, a new syscall in learn mode the model, and a decision with
// evidence allocates its strings.
func (d *Detector) Handle(ev *event.Event, out []agent.Decision) []agent.Decision {
	if ev.Kind != event.KindSyscall {
		return out
	}
	d.stats.Events++
	if ev.Time > d.now {
		d.now = ev.Time
	}
	id := ev.TID
	if d.cfg.PerProcess {
		id = ev.PID
	}
	t := d.lookup(ev.Container, id, ev.PID)
	cur := sysIndex(ev.Sysno)
	anomalous := false
	for range 1 + min(int(ev.Repeats), d.cfg.K-1+d.cfg.Frame) {
		if d.step(t, cur) {
			anomalous = true
		}
	}
	if d.cfg.Mode != ModeLearn {
		out = d.decide(t, ev, anomalous, out)
	}
	switch ev.Sysno {
	case sysExit:
		if !d.cfg.PerProcess {
			d.forget(taskKey(ev.Container, id))
		}
	case sysExitGroup:
		d.forgetGroup(ev.Container, ev.PID)
	}
	return out
}

// step takes one call of task t and reports whether its window was
// anomalous (never in learn mode).
func (d *Detector) step(t *Task, cur uint16) bool {
	t.windows++
	anomalous := false
	if d.cfg.Mode == ModeLearn {
		d.model.learn(cur, &t.hist, t.head, t.n)
	} else {
		d.stats.Windows++
		anomalous = !d.model.normal(cur, &t.hist, t.head, t.n)
		if anomalous {
			t.anomalies++
			d.stats.Anomalous++
			if t.novel == nil {
				t.novel = newNovel(d.cfg.K, d.cfg.Keep)
			}
			t.novel.add(t.window(cur, d.scratch[:]))
		}
	}
	t.mark(anomalous, d.cfg.Frame)
	t.push(cur, d.cfg.K)
	return anomalous
}

// decide appends the decision for task t's latest call, if any.
func (d *Detector) decide(t *Task, ev *event.Event, anomalous bool, out []agent.Decision) []agent.Decision {
	c := &d.cfg
	lfc := int(t.lfc)
	var act agent.Action
	switch {
	case c.KillAt > 0 && lfc >= c.KillAt:
		act = agent.ActKill
	case anomalous && c.DenyAt > 0 && lfc >= c.DenyAt:
		act = agent.ActDeny
	case c.DelayAt > 0 && c.DelayBase > 0 && lfc >= c.DelayAt:
		act = agent.ActDelay
	case anomalous:
		act = agent.ActRecord
	default:
		return out
	}
	dec := agent.Decision{
		Agent:     Name,
		Container: ev.Container,
		PID:       ev.PID,
		TID:       ev.TID,
		Action:    act,
		Score:     float64(lfc) / float64(c.Frame),
		Reason:    d.reasons[lfc],
	}
	if act == agent.ActDelay {
		dec.Delay = d.delays[lfc]
	}
	if c.Mode == ModeObserve {
		dec.Reason = d.observe[act][lfc]
		dec.Action, dec.Delay = agent.ActRecord, 0
	}
	if anomalous {
		dec.Evidence = t.novel.last(evidenceWindows)
	}
	d.stats.Decisions[dec.Action]++
	return append(out, dec)
}

// Tick implements agent.Agent.Tick: it advances the detector's clock and,
// at most every IdleTimeout/4, forgets tasks idle for IdleTimeout. It
// decides nothing (delays are the enforcer's to time).
func (d *Detector) Tick(now time.Time, out []agent.Decision) []agent.Decision {
	if ns := now.UnixNano(); ns > d.now {
		d.now = ns
	}
	if d.cfg.IdleTimeout < 0 || d.now < d.nextSweep {
		return out
	}
	idle := int64(d.cfg.IdleTimeout)
	for i := range d.tasks {
		t := &d.tasks[i]
		if t.flags&taskUsed != 0 && d.now-t.seen >= idle {
			d.release(int32(i))
			d.free = append(d.free, int32(i))
			d.stats.Expired++
		}
	}
	d.nextSweep = d.now + idle/4
	return out
}

// Tolerize accepts the recent behaviour of thread group pid of a
// container (the operator's word that it is normal): every task of the
// group adds its kept anomalous windows to the model and clears its
// locality frame. It returns the number of windows added. This and Merge
// are the only ways the model learns outside learn mode.
func (d *Detector) Tolerize(container uint32, pid int32) int {
	n := 0
	for i := range d.tasks {
		t := &d.tasks[i]
		if t.flags&taskUsed == 0 || t.Container() != container || t.pid != pid {
			continue
		}
		if t.novel != nil {
			t.novel.each(func(w []uint16) {
				d.model.Add(w)
				n++
			})
			t.novel = nil
		}
		t.clearFrame()
	}
	d.stats.Tolerized += uint64(n)
	return n
}

// Forget drops a task's state (the driver saw it exit); id is the TID, or
// the PID with Config.PerProcess. It reports whether the task was known.
func (d *Detector) Forget(container uint32, id int32) bool {
	return d.forget(taskKey(container, id))
}

// lookup returns the task for key (container, id), adding it if new.
func (d *Detector) lookup(container uint32, id, pid int32) *Task {
	key := taskKey(container, id)
	if i, ok := d.index[key]; ok {
		t := &d.tasks[i]
		t.flags |= taskRef
		t.seen = d.now
		return t
	}
	var i int32
	switch {
	case len(d.free) > 0:
		i = d.free[len(d.free)-1]
		d.free = d.free[:len(d.free)-1]
	case len(d.tasks) < d.cfg.MaxTasks:
		d.tasks = append(d.tasks, Task{})
		i = int32(len(d.tasks) - 1)
	default:
		i = d.evict()
	}
	d.tasks[i] = Task{key: key, pid: pid, seen: d.now, flags: taskUsed | taskRef}
	d.index[key] = i
	return &d.tasks[i]
}

// evict frees the slot of a task not seen since the CLOCK hand last passed
// it (every slot is used when it is called) and returns it.
func (d *Detector) evict() int32 {
	for {
		i := d.hand
		d.hand++
		if int(d.hand) == len(d.tasks) {
			d.hand = 0
		}
		t := &d.tasks[i]
		if t.flags&taskRef != 0 {
			t.flags &^= taskRef
			continue
		}
		d.release(i)
		d.stats.Evicted++
		return i
	}
}

// release empties slot i (the caller puts it on the free list or reuses
// it).
func (d *Detector) release(i int32) {
	delete(d.index, d.tasks[i].key)
	d.tasks[i] = Task{}
}

func (d *Detector) forget(key uint64) bool {
	i, ok := d.index[key]
	if !ok {
		return false
	}
	d.release(i)
	d.free = append(d.free, i)
	d.stats.Exited++
	return true
}

// forgetGroup forgets every task of a thread group.
func (d *Detector) forgetGroup(container uint32, pid int32) {
	if d.cfg.PerProcess {
		d.forget(taskKey(container, pid))
		return
	}
	for i := range d.tasks {
		t := &d.tasks[i]
		if t.flags&taskUsed != 0 && t.pid == pid && t.Container() == container {
			d.forget(t.key)
		}
	}
}
