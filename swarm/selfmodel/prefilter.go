package selfmodel

// The prefilter: the sentry checks each call's window against a published
// copy of the model on the task's own goroutine (the way pH checked in
// the kernel) and hands the detector only what needs it: novel windows,
// the calls that follow them while their locality frame decays, and
// lifecycle calls. A task's history then has gaps in the detector, which
// Resync closes with the sentry's own copy of it.

// HistLen is the size of a history ring (Ring): at least MaxK-1, a power
// of two.
const HistLen = histLen

// Ring is a task's history as the sentry keeps it: the last N calls
// (SysIndex'ed) before the next one, the call at distance d being
// Calls[(Head-d)&(HistLen-1)].
type Ring struct {
	Calls [HistLen]uint16
	Head  uint8
	N     uint8
}

// Push appends cur (SysIndex'ed), keeping the last k-1 calls.
func (r *Ring) Push(cur uint16, k int) {
	r.Calls[r.Head] = cur
	r.Head = (r.Head + 1) & histMask
	if int(r.N) < k-1 {
		r.N++
	}
}

// SysIndex folds a syscall number into the model's range, as the
// detector does.
func SysIndex(n uint32) uint16 { return sysIndex(n) }

// NormalAfter reports whether the window made of r's calls and cur
// (SysIndex'ed) is normal. It reads the model only and does not allocate:
// any number of goroutines may call it on a model nobody writes.
func (m *Model) NormalAfter(r *Ring, cur uint16) bool {
	return m.normal(cur, &r.Calls, r.Head, r.N)
}

// Resync tells the detector what happened to a task between the calls it
// was given: skipped calls it was not given, each of whose windows was
// normal, and the task's history r as it is now (before the next call).
// The skipped windows decay the task's locality frame and count as the
// task's windows and, in learn mode, as training windows that changed
// nothing (the stability rule counts them); the history replaces the
// detector's. A task the detector does not know yet is added.
func (d *Detector) Resync(container uint32, id, pid int32, r *Ring, skipped uint64) {
	if d.cfg.PerProcess {
		return // the sentry's history is per thread; see Config.PerProcess
	}
	t := d.lookup(container, id, pid)
	if skipped > 0 {
		for range min(skipped, uint64(d.cfg.Frame)) {
			t.mark(false, d.cfg.Frame)
		}
		t.windows += skipped
		if d.cfg.Mode == ModeLearn {
			d.model.windows += skipped
		} else {
			d.stats.Windows += skipped
		}
	}
	t.hist, t.head, t.n = r.Calls, r.Head, min(r.N, uint8(d.cfg.K-1))
}
