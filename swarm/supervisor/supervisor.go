package supervisor

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
)

// Policy says what happens to a child the supervisor cannot keep running.
type Policy uint8

// Policies. FailClosed is the zero value: a Spec that does not say fails
// safe.
const (
	// FailClosed is for enforcement agents: the child is marked Failed,
	// the supervisor emits one ActDeny decision in its name and reports
	// Degraded, and the enforcement side denies by default what the agent
	// guarded.
	FailClosed Policy = iota
	// FailOpen is for advisory agents: the child is marked Stopped and
	// dropped, and the application runs on without it.
	FailOpen
)

var policyNames = [...]string{"fail-closed", "fail-open"}

func (p Policy) String() string {
	if int(p) < len(policyNames) {
		return policyNames[p]
	}
	return "policy?"
}

// Spec describes one child.
type Spec struct {
	// Agent is the running instance. Its Name names the child.
	Agent agent.Agent
	// New makes a fresh instance of the agent. A child that is not an
	// agent.Snapshotter needs it to be restarted; a Snapshotter's snapshot
	// is restored into a fresh instance when New is set.
	New func() agent.Agent
	// Policy says what happens when the child cannot be kept running.
	Policy Policy
}

// Defaults for a zero Config.
const (
	DefaultIntensity     = 5
	DefaultPeriod        = 10 * time.Second
	DefaultSnapshotEvery = 256
	DefaultSnapshotTicks = 1
	// MaxIntensity bounds Intensity, and so the restart ring of each
	// child (8 bytes per entry).
	MaxIntensity = 256
)

// Config tunes a Supervisor. Its zero value gives the defaults.
type Config struct {
	// Name is the supervisor's agent name (default "supervisor").
	Name string
	// Intensity is how many times one child may be restarted within
	// Period before the supervisor gives up on it (0: DefaultIntensity;
	// negative: never restart, the first panic ends the child).
	Intensity int
	// Period is the window of Intensity (0: DefaultPeriod).
	Period time.Duration
	// SnapshotEvery is how many events a Snapshotter child handles
	// between snapshots (0: DefaultSnapshotEvery; negative: none on
	// events).
	SnapshotEvery int
	// SnapshotTicks is how many ticks a Snapshotter child takes between
	// snapshots (0: DefaultSnapshotTicks, every tick; negative: none on
	// ticks).
	SnapshotTicks int
}

// Errors from New and Add, matched with errors.Is.
var (
	ErrConfig    = errors.New("invalid supervisor config")
	ErrNoAgent   = errors.New("spec has no agent")
	ErrPolicy    = errors.New("unknown policy")
	ErrDuplicate = errors.New("duplicate child name")
)

// Supervisor runs its children under supervision. See the package comment.
type Supervisor struct {
	name      string
	intensity int
	period    int64 // nanoseconds
	snapEvery int   // <= 0: never on events
	snapTicks int   // <= 0: never on ticks
	// now is the latest time Tick gave, in Unix nanoseconds; it never
	// goes back.
	now      int64
	children []child
	names    map[string]struct{}

	// degraded is set once a FailClosed child has failed. Read from any
	// goroutine.
	degraded atomic.Bool
	stats    counters
}

var _ agent.Agent = (*Supervisor)(nil)

// New returns a supervisor running the given children, in order.
func New(cfg Config, specs ...Spec) (*Supervisor, error) {
	s := &Supervisor{
		name:      cfg.Name,
		intensity: cfg.Intensity,
		period:    int64(cfg.Period),
		snapEvery: cfg.SnapshotEvery,
		snapTicks: cfg.SnapshotTicks,
		names:     make(map[string]struct{}, len(specs)),
	}
	switch {
	case cfg.Intensity > MaxIntensity:
		return nil, fmt.Errorf("%w: intensity %d above %d", ErrConfig, cfg.Intensity, MaxIntensity)
	case cfg.Period < 0:
		return nil, fmt.Errorf("%w: negative period %v", ErrConfig, cfg.Period)
	}
	if s.name == "" {
		s.name = "supervisor"
	}
	if s.intensity == 0 {
		s.intensity = DefaultIntensity
	} else if s.intensity < 0 {
		s.intensity = 0
	}
	if s.period == 0 {
		s.period = int64(DefaultPeriod)
	}
	if s.snapEvery == 0 {
		s.snapEvery = DefaultSnapshotEvery
	}
	if s.snapTicks == 0 {
		s.snapTicks = DefaultSnapshotTicks
	}
	s.children = make([]child, 0, len(specs))
	for _, sp := range specs {
		if err := s.Add(sp); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Add starts supervising one more child, after the others. A Snapshotter
// child is snapshotted at once, so it can always be restarted.
//
// Preconditions: not called from inside Handle or Tick.
func (s *Supervisor) Add(sp Spec) error {
	if sp.Agent == nil {
		return ErrNoAgent
	}
	if sp.Policy > FailOpen {
		return fmt.Errorf("%w: %d", ErrPolicy, sp.Policy)
	}
	name := sp.Agent.Name()
	if _, dup := s.names[name]; dup {
		return fmt.Errorf("%w: %q", ErrDuplicate, name)
	}
	s.names[name] = struct{}{}
	s.children = append(s.children, child{
		name:   name,
		newFn:  sp.New,
		policy: sp.Policy,
		window: window{t: make([]int64, s.intensity)},
	})
	c := &s.children[len(s.children)-1]
	c.setAgent(sp.Agent)
	if c.sn != nil {
		s.snapshot(c)
	}
	return nil
}

// Name implements agent.Agent.Name.
func (s *Supervisor) Name() string { return s.name }

// Handle implements agent.Agent.Handle: it hands ev to every live child in
// order and appends their decisions to out, plus the deny decision of a
// FailClosed child that fails during the call. It does not allocate in the
// steady state.
func (s *Supervisor) Handle(ev *event.Event, out []agent.Decision) []agent.Decision {
	s.stats.events.Add(1)
	kept := 0
	for i := range s.children {
		c := &s.children[i]
		if c.state != Running {
			var runs bool
			if out, runs = s.revive(c, out); !runs {
				continue
			}
		}
		n := len(out)
		res, p := handle(c, ev, out)
		if p != nil {
			// out still has length n: the decisions of the call are
			// discarded.
			out = s.crashed(c, "Handle", p, out)
			continue
		}
		out = res
		c.handled++
		kept += c.count(len(out) - n)
		if c.sn != nil && s.snapEvery > 0 {
			if c.since++; c.since >= s.snapEvery {
				s.snapshot(c)
			}
		}
	}
	if kept > 0 {
		s.stats.decisions.Add(uint64(kept))
	}
	return out
}

// Tick implements agent.Agent.Tick: it records now as the supervisor's time
// (ignoring a time earlier than the last one) and passes it to every live
// child in order, appending their decisions to out.
func (s *Supervisor) Tick(now time.Time, out []agent.Decision) []agent.Decision {
	s.stats.ticks.Add(1)
	if t := now.UnixNano(); t > s.now {
		s.now = t
	}
	kept := 0
	for i := range s.children {
		c := &s.children[i]
		if c.state != Running {
			var runs bool
			if out, runs = s.revive(c, out); !runs {
				continue
			}
		}
		n := len(out)
		res, p := tick(c, now, out)
		if p != nil {
			out = s.crashed(c, "Tick", p, out)
			continue
		}
		out = res
		kept += c.count(len(out) - n)
		if c.sn != nil && s.snapTicks > 0 {
			if c.ticks++; c.ticks >= s.snapTicks {
				s.snapshot(c)
			}
		}
	}
	if kept > 0 {
		s.stats.decisions.Add(uint64(kept))
	}
	return out
}

// revive restarts a child that is not running if it waits for a restart,
// and reports whether it runs now (stopped and failed children stay so).
func (s *Supervisor) revive(c *child, out []agent.Decision) ([]agent.Decision, bool) {
	if c.state != Restarting {
		return out, false
	}
	out = s.restart(c, out)
	return out, c.state == Running
}

// count adds d decisions made by c to its counter and returns d.
func (c *child) count(d int) int {
	c.decisions += uint64(d)
	return d
}

// ErrNoChild: Inject named no child of the supervisor.
var ErrNoChild = errors.New("supervisor: no such agent")

// Inject rehearses a fault of child name: with stop false, its next call
// panics (and it is restarted as for any crash); with stop true it is
// stopped for good now, as if it had used up its restart intensity (a
// fail-closed child then degrades the swarm). Operators use it to check
// what a crash does, tests to prove it.
func (s *Supervisor) Inject(name string, stop bool, out []agent.Decision) ([]agent.Decision, error) {
	for i := range s.children {
		c := &s.children[i]
		if c.name != name {
			continue
		}
		if c.state != Running {
			return out, fmt.Errorf("supervisor: agent %q is %s", name, c.state)
		}
		if !stop {
			c.injected = true
			return out, nil
		}
		c.lastPanic = InjectedPanic
		c.to(Restarting) // a child leaves Running only to restart or to give up from there
		return s.giveUp(c, "stopped by the operator", out), nil
	}
	return out, fmt.Errorf("%w: %q", ErrNoChild, name)
}

// Degraded reports whether a FailClosed child has failed, so that the swarm
// now denies by default what it guarded. It may be called from any
// goroutine.
func (s *Supervisor) Degraded() bool { return s.degraded.Load() }

// crashed records that c panicked with p in where, and restarts it.
func (s *Supervisor) crashed(c *child, where string, p any, out []agent.Decision) []agent.Decision {
	c.panics++
	s.stats.panics.Add(1)
	c.lastPanic = panicMessage(where, p)
	c.to(Restarting)
	return s.restart(c, out)
}

// restart brings back c, which is Restarting, or gives up on it when it has
// no way to restart or has used up its intensity.
func (s *Supervisor) restart(c *child, out []agent.Decision) []agent.Decision {
	if !c.hasSnap && c.newFn == nil {
		return s.giveUp(c, "no snapshot and no New to restart it from", out)
	}
	c.window.prune(s.now, s.period)
	if c.window.n >= s.intensity {
		return s.giveUp(c, fmt.Sprintf("more than %d restarts within %v", s.intensity, time.Duration(s.period)), out)
	}
	c.window.push(s.now)
	c.restarts++
	s.stats.restarts.Add(1)
	a := s.rebuild(c)
	if a == nil {
		// Stay Restarting: tried again before the child's next input.
		s.stats.restartErrors.Add(1)
		return out
	}
	c.setAgent(a)
	c.to(Running)
	if c.sn != nil {
		// A fresh snapshot right away: the restored agent may keep
		// references into the old one, and a fresh instance's first
		// state is a good one.
		s.snapshot(c)
	}
	return out
}

// rebuild returns the instance that replaces crashed child c, or nil when it
// could not make one.
func (s *Supervisor) rebuild(c *child) agent.Agent {
	if c.hasSnap {
		inst := c.agent
		if c.newFn != nil {
			if inst = s.newAgent(c); inst == nil {
				return nil
			}
		}
		sn, ok := inst.(agent.Snapshotter)
		if !ok {
			// New made an agent without snapshots: it starts fresh.
			return inst
		}
		if s.restore(c, sn) {
			return inst
		}
		s.stats.restoreErrors.Add(1)
		// Fall back to a fresh instance (not the one Restore may have
		// half changed).
	}
	if c.newFn != nil {
		return s.newAgent(c)
	}
	return nil
}

// newAgent calls c's New, returning nil if it panics or returns nil.
func (s *Supervisor) newAgent(c *child) agent.Agent {
	a, p := callNew(c.newFn)
	if p != nil {
		c.lastPanic = panicMessage("New", p)
		return nil
	}
	return a
}

// restore restores c's snapshot into sn and reports whether that worked.
func (s *Supervisor) restore(c *child, sn agent.Snapshotter) bool {
	p, err := restore(sn, c.snap)
	if p != nil {
		c.lastPanic = panicMessage("Restore", p)
		return false
	}
	return err == nil
}

// snapshot takes a snapshot of Snapshotter child c. A Snapshot that panics
// keeps the previous snapshot.
func (s *Supervisor) snapshot(c *child) {
	c.since, c.ticks = 0, 0
	snap, p := snapshot(c.sn)
	if p != nil {
		c.lastPanic = panicMessage("Snapshot", p)
		s.stats.snapshotErrors.Add(1)
		return
	}
	c.snap, c.hasSnap = snap, true
	s.stats.snapshots.Add(1)
}

// giveUp ends c according to its policy and, for FailClosed, appends the
// one deny decision.
func (s *Supervisor) giveUp(c *child, why string, out []agent.Decision) []agent.Decision {
	c.agent, c.sn, c.snap, c.hasSnap, c.newFn = nil, nil, nil, false, nil
	if c.policy == FailOpen {
		c.to(Stopped)
		s.stats.stopped.Add(1)
		return out
	}
	c.to(Failed)
	s.stats.failed.Add(1)
	s.degraded.Store(true)
	d := agent.Decision{
		Agent:  c.name,
		Action: agent.ActDeny,
		Score:  1,
		Reason: fmt.Sprintf("enforcement agent %q failed (%s): the swarm fails closed, deny by default", c.name, why),
	}
	if c.lastPanic != "" {
		d.Evidence = []string{c.lastPanic}
	}
	return append(out, d)
}
