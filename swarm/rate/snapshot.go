package rate

import "fmt"

// snapshot is a deep copy of a Detector's state.
type snapshot struct {
	cfg       Config
	peaks     [NumClasses]uint32
	slots     []slot
	free      []int32
	hand      int32
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
		slots:     append([]slot(nil), d.slots...),
		free:      append([]int32(nil), d.free...),
		hand:      d.hand,
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
	index := make(map[uint64]int32, len(snap.slots))
	for i := range snap.slots {
		if snap.slots[i].flags&slotUsed != 0 {
			index[snap.slots[i].key] = int32(i)
		}
	}
	d.cfg = snap.cfg
	d.peaks = snap.peaks
	d.slots = append([]slot(nil), snap.slots...)
	d.index = index
	d.free = append([]int32(nil), snap.free...)
	d.hand = snap.hand
	d.now = snap.now
	d.nextSweep = snap.nextSweep
	d.stats = snap.stats
	d.derive()
	return nil
}
