package heal

import (
	"fmt"
	"slices"
	"time"

	"github.com/athenaos/athena/swarm/restart"
)

// mirror is what a restart.Tracker holds, kept beside it from the inputs
// and decisions the agent gives and gets: a Tracker's state is not
// exported, so a snapshot keeps the mirror and Restore rebuilds a Tracker
// in the same state from it (rebuild).
type mirror struct {
	// restarts are the times (ns) of the restarts within the window as
	// of the last exit, oldest first: at most MaxRestarts.
	restarts []int64
	// delay is the delay of the next restart.
	delay time.Duration
	// started is the last Started time; running whether an exit has
	// followed it.
	started int64
	running bool
	// last is the time of the last exit fed to the tracker.
	last int64
}

func newMirror(p restart.Policy) mirror { return mirror{delay: p.BackoffFirst} }

// exit follows Tracker.Exit(now) that decided d, under p (defaults
// filled in).
func (m *mirror) exit(now int64, d restart.Decision, p restart.Policy) {
	m.running, m.last = false, now
	i := 0
	for i < len(m.restarts) && now-m.restarts[i] > int64(p.Window) {
		i++
	}
	if i > 0 {
		m.restarts = append(m.restarts[:0], m.restarts[i:]...)
	}
	if d.Restart {
		m.restarts = append(m.restarts, now)
		m.delay = min(2*d.Delay, p.BackoffMax)
	}
}

// rebuild returns a Tracker under p (defaults filled in) in the state m
// mirrors, made by feeding a new one a history that leads there: the
// restarts within the window at their times, each as a kill by SIGKILL
// (a restart under every mode but no); before them, when the backoff
// doubled more often than that, as many restarts as it takes, each more
// than a window before the next, so that they drop out of the window at
// the first real exit; or, when it doubled less often (a long run reset
// it), a run of BackoffMax before the restart where the reset happened.
// The Tracker then decides each later exit as the mirrored one would.
//
// Preconditions: the process has not given up (the agent feeds no exit to
// a given-up or done process's tracker, and rebuilds it new).
func rebuild(p restart.Policy, m *mirror) (*restart.Tracker, error) {
	t := restart.NewTracker(p)
	at := func(ns int64) time.Time { return time.Unix(0, ns) }
	if p.Mode != restart.No {
		k := len(m.restarts)
		if k > p.MaxRestarts {
			return nil, fmt.Errorf("%d restarts within the window, at most %d: %w", k, p.MaxRestarts, ErrSnapshot)
		}
		// j: how many doublings from BackoffFirst lead to m.delay.
		j := 0
		for d := p.BackoffFirst; d != m.delay; j++ {
			if d >= p.BackoffMax {
				return nil, fmt.Errorf("next delay %s is not a backoff of %s: %w", m.delay, p.Backoff(), ErrSnapshot)
			}
			d = min(2*d, p.BackoffMax)
		}
		if j > k {
			ref := m.last
			if k > 0 {
				ref = m.restarts[0]
			}
			f := int64(j - k)
			step := int64(p.Window) + 1
			for i := range f {
				t.Exit(at(ref-2*int64(p.Window)-(f-1-i)*step), false, 0, 9)
			}
		}
		for i, r := range m.restarts {
			if j < k && p.BackoffFirst < p.BackoffMax && i == k-j {
				t.Started(at(r - int64(p.BackoffMax)))
			}
			if d := t.Exit(at(r), false, 0, 9); !d.Restart {
				return nil, fmt.Errorf("restart %d of %d within the window: %s: %w", i+1, k, d.Reason, ErrSnapshot)
			}
		}
	}
	if m.running {
		t.Started(at(m.started))
	}
	return t, nil
}

// snapshot is a deep copy of an Agent's state; its procs' trackers are
// nil (Restore rebuilds them from their mirrors).
type snapshot struct {
	containers []container // by slot
	pending    int
	nextDue    int64
	stats      Stats
}

// Snapshot implements agent.Snapshotter.Snapshot: a deep copy of the
// containers, their processes' states and restart histories, and the
// counters.
func (a *Agent) Snapshot() any {
	s := &snapshot{pending: a.pending, nextDue: a.nextDue, stats: a.stats}
	s.containers = make([]container, 0, len(a.order))
	for _, c := range a.order {
		s.containers = append(s.containers, c.clone())
	}
	return s
}

// clone deep-copies c without its trackers (nil in the copy).
func (c *container) clone() container {
	d := *c
	d.procs = slices.Clone(c.procs)
	for i := range d.procs {
		d.procs[i].m.restarts = slices.Clone(c.procs[i].m.restarts)
		d.procs[i].tracker = nil
	}
	return d
}

// Restore implements agent.Snapshotter.Restore. It copies the snapshot
// again, so one snapshot can be restored any number of times. It returns
// an error wrapping ErrSnapshot, leaving the agent unchanged, when s is
// not a snapshot of this package or cannot be restored.
func (a *Agent) Restore(s any) error {
	snap, ok := s.(*snapshot)
	if !ok || snap == nil {
		return fmt.Errorf("restore %T: %w", s, ErrSnapshot)
	}
	containers := make(map[uint32]*container, len(snap.containers))
	order := make([]*container, 0, len(snap.containers))
	for i := range snap.containers {
		c := snap.containers[i].clone()
		for j := range c.procs {
			p := &c.procs[j]
			var err error
			if p.state == Running || p.state == Restarting {
				p.tracker, err = rebuild(p.policy, &p.m)
			} else {
				p.tracker = restart.NewTracker(p.policy)
			}
			if err != nil {
				return fmt.Errorf("restore container %d, %s: %w", c.slot, p.name, err)
			}
		}
		containers[c.slot] = &c
		order = append(order, &c)
	}
	a.containers, a.order = containers, order
	a.pending, a.nextDue, a.stats = snap.pending, snap.nextDue, snap.stats
	return nil
}
