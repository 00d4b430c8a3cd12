package memguard

import (
	"fmt"

	"github.com/athenaos/athena/swarm/clocktable"
)

// snapshot is a deep copy of an Agent's state.
type snapshot struct {
	cfg        Config
	containers []container
	tasks      *clocktable.Table[taskSlot]
	now        int64
	nextSweep  int64
	stats      Stats
}

// Snapshot implements agent.Snapshotter.Snapshot: a deep copy of the
// configuration, the containers (profiles, samples, counters), the task
// table, the clock and the counters.
func (a *Agent) Snapshot() any {
	cs := make([]container, 0, len(a.containers))
	for _, c := range a.containers {
		cs = append(cs, *c)
	}
	return &snapshot{
		cfg:        a.cfg,
		containers: cs,
		tasks:      a.tasks.Clone(),
		now:        a.now,
		nextSweep:  a.nextSweep,
		stats:      a.stats,
	}
}

// Restore implements agent.Snapshotter.Restore. It copies the snapshot
// again, so one snapshot can be restored any number of times. It returns
// an error wrapping ErrSnapshot, leaving the agent unchanged, when s is not
// a snapshot of this package.
func (a *Agent) Restore(s any) error {
	snap, ok := s.(*snapshot)
	if !ok || snap == nil {
		return fmt.Errorf("restore %T: %w", s, ErrSnapshot)
	}
	containers := make(map[uint32]*container, len(snap.containers))
	for i := range snap.containers {
		c := snap.containers[i]
		containers[c.slot] = &c
	}
	a.cfg = snap.cfg
	a.containers = containers
	a.tasks = snap.tasks.Clone()
	a.now = snap.now
	a.nextSweep = snap.nextSweep
	a.stats = snap.stats
	return nil
}
