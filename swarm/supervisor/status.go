package supervisor

import "sync/atomic"

// ChildStatus describes one child, for the swarm CLI and explanations.
type ChildStatus struct {
	Name   string
	Policy Policy
	State  State
	// Restarts counts restarts (attempts, including failed ones) since
	// the child was added; RecentRestarts those within the period ending
	// at the last Tick, which the intensity limits.
	Restarts       uint64
	RecentRestarts int
	// Panics counts panics in Handle and Tick.
	Panics uint64
	// LastPanic is where and the first line of what the child last
	// panicked with ("Handle: runtime error: index out of range [3] with
	// length 3"), in Handle, Tick, Snapshot, Restore or New; "" if never.
	LastPanic string
	// Handled counts events the child handled without panicking.
	Handled uint64
	// Decisions counts the decisions it made and the supervisor kept.
	Decisions uint64
}

// Status returns the state of every child, in order.
//
// Preconditions: called from the goroutine that drives Handle and Tick.
func (s *Supervisor) Status() []ChildStatus {
	st := make([]ChildStatus, len(s.children))
	for i := range s.children {
		c := &s.children[i]
		c.window.prune(s.now, s.period)
		st[i] = ChildStatus{
			Name:           c.name,
			Policy:         c.policy,
			State:          c.state,
			Restarts:       c.restarts,
			RecentRestarts: c.window.n,
			Panics:         c.panics,
			LastPanic:      c.lastPanic,
			Handled:        c.handled,
			Decisions:      c.decisions,
		}
	}
	return st
}

// Stats is a snapshot of a supervisor's counters, for metrics. The comment
// of each field gives its metric name.
type Stats struct {
	Events         uint64 // /swarm/supervisor/events: calls to Handle
	Ticks          uint64 // /swarm/supervisor/ticks: calls to Tick
	Decisions      uint64 // /swarm/supervisor/decisions: children's decisions kept
	Panics         uint64 // /swarm/supervisor/panics: children's panics in Handle or Tick
	Restarts       uint64 // /swarm/supervisor/restarts: restart attempts
	RestartErrors  uint64 // /swarm/supervisor/restart_errors: attempts that made no agent (left Restarting)
	RestoreErrors  uint64 // /swarm/supervisor/restore_errors: snapshots that could not be restored
	Snapshots      uint64 // /swarm/supervisor/snapshots: snapshots taken
	SnapshotErrors uint64 // /swarm/supervisor/snapshot_errors: Snapshot calls that panicked
	Stopped        uint64 // /swarm/supervisor/stopped: FailOpen children given up on
	Failed         uint64 // /swarm/supervisor/failed: FailClosed children given up on (one deny each)
}

// counters are the live Stats. Only the driving goroutine writes them;
// any goroutine may read them.
type counters struct {
	events, ticks, decisions, panics, restarts, restartErrors, restoreErrors,
	snapshots, snapshotErrors, stopped, failed atomic.Uint64
}

// Stats returns the supervisor's counters. It may be called from any
// goroutine.
func (s *Supervisor) Stats() Stats {
	c := &s.stats
	return Stats{
		Events:         c.events.Load(),
		Ticks:          c.ticks.Load(),
		Decisions:      c.decisions.Load(),
		Panics:         c.panics.Load(),
		Restarts:       c.restarts.Load(),
		RestartErrors:  c.restartErrors.Load(),
		RestoreErrors:  c.restoreErrors.Load(),
		Snapshots:      c.snapshots.Load(),
		SnapshotErrors: c.snapshotErrors.Load(),
		Stopped:        c.stopped.Load(),
		Failed:         c.failed.Load(),
	}
}
