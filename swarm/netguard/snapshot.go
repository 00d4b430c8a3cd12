package netguard

import "fmt"

// snapshot is a deep copy of an Agent's state.
type snapshot struct {
	def      Config
	ctrs     map[uint32]container
	now      int64
	counters Counters
}

// Snapshot implements agent.Snapshotter.Snapshot: a deep copy of every
// container's configuration, counts, tables and probe ring, the clock and
// the counters. (Configurations share their egress rules, which nothing
// changes after AddContainer.)
func (a *Agent) Snapshot() any {
	return &snapshot{def: a.def, ctrs: copyContainers(a.ctrs), now: a.now, counters: a.counters}
}

// Restore implements agent.Snapshotter.Restore. It copies the snapshot
// again, so one snapshot can be restored any number of times. It returns
// an error wrapping ErrSnapshot, leaving the agent unchanged, when s is
// not a snapshot of this package.
func (a *Agent) Restore(s any) error {
	snap, ok := s.(*snapshot)
	if !ok || snap == nil {
		return fmt.Errorf("restore %T: %w", s, ErrSnapshot)
	}
	a.def, a.now, a.counters = snap.def, snap.now, snap.counters
	a.ctrs = make(map[uint32]*container, len(snap.ctrs))
	for slot, c := range snap.ctrs {
		c.scan = c.scan.clone()
		a.ctrs[slot] = &c
	}
	return nil
}

func copyContainers(m map[uint32]*container) map[uint32]container {
	out := make(map[uint32]container, len(m))
	for slot, c := range m {
		cc := *c
		cc.scan = cc.scan.clone()
		out[slot] = cc
	}
	return out
}
