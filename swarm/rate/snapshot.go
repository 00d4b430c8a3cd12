package rate

import (
	"fmt"

	"github.com/athenaos/athena/swarm/clocktable"
)

// snapshot is a deep copy of a Detector's state.
type snapshot struct {
	cfg       Config
	peaks     [NumClasses]uint32
	groups    *clocktable.Table[slot]
	now       int64
	nextSweep int64
	stats     Stats
}

// Snapshot implements agent.Snapshotter.Snapshot: a deep copy of the
// configuration, peaks, group table, clock and counters.
func (d *Detector) Snapshot() any {
	return &snapshot{
		cfg:       d.cfg,
		peaks:     d.peaks,
		groups:    d.groups.Clone(),
		now:       d.now,
		nextSweep: d.nextSweep,
		stats:     d.stats,
	}
}

// Restore implements agent.Snapshotter.Restore. It copies the snapshot
// again, so one snapshot can be restored any number of times. It returns
// an error wrapping ErrSnapshot, leaving the detector unchanged, when s is
// not a snapshot of this package.
func (d *Detector) Restore(s any) error {
	snap, ok := s.(*snapshot)
	if !ok || snap == nil {
		return fmt.Errorf("restore %T: %w", s, ErrSnapshot)
	}
	d.cfg = snap.cfg
	d.peaks = snap.peaks
	d.groups = snap.groups.Clone()
	d.now = snap.now
	d.nextSweep = snap.nextSweep
	d.stats = snap.stats
	d.derive()
	return nil
}
