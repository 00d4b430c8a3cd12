package sched

import (
	"fmt"

	"github.com/athenaos/athena/swarm/clocktable"
)

// snapshot is a deep copy of an Agent's state.
type snapshot struct {
	cfg                         Config
	containers                  []container // by slot
	tasks                       *clocktable.Table[taskSlot]
	now, periodStart, nextSweep int64
	gen                         uint64
	published                   *Table // immutable, shared
	stats                       Stats
}

// Snapshot implements agent.Snapshotter.Snapshot: a deep copy of the
// configuration, containers, task table, clock, published table and
// counters.
func (a *Agent) Snapshot() any {
	s := &snapshot{
		cfg:         a.cfg,
		tasks:       a.tasks.Clone(),
		now:         a.now,
		periodStart: a.periodStart,
		nextSweep:   a.nextSweep,
		gen:         a.gen,
		published:   a.published.Load(),
		stats:       a.stats,
	}
	for _, c := range a.order {
		s.containers = append(s.containers, *c)
	}
	return s
}

// Restore implements agent.Snapshotter.Restore. It copies the snapshot
// again, so one snapshot can be restored any number of times, and
// republishes the snapshot's table. It returns an error wrapping
// ErrSnapshot, leaving the agent unchanged, when s is not a snapshot of
// this package.
func (a *Agent) Restore(s any) error {
	snap, ok := s.(*snapshot)
	if !ok || snap == nil {
		return fmt.Errorf("restore %T: %w", s, ErrSnapshot)
	}
	a.cfg = snap.cfg
	a.containers = make(map[uint32]*container, len(snap.containers))
	a.order = a.order[:0]
	for i := range snap.containers {
		c := snap.containers[i]
		a.containers[c.slot] = &c
		a.order = append(a.order, &c)
	}
	a.tasks = snap.tasks.Clone()
	a.now, a.periodStart, a.nextSweep = snap.now, snap.periodStart, snap.nextSweep
	a.gen = snap.gen
	a.published.Store(snap.published)
	a.stats = snap.stats
	return nil
}
