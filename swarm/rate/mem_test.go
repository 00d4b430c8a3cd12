package rate

import (
	"runtime"
	"testing"

	"github.com/athenaos/athena/swarm/event"
)

// groupBudget is the stated memory per thread group, table included.
const groupBudget = 256

// heapPerGroup measures, with runtime.MemStats around the work, the heap
// that n thread groups add to a detector: the slab (with its growth
// slack) and the index map. Each group makes one call of each class; the
// events are built in place, so nothing else is allocated.
func heapPerGroup(t *testing.T, n int) float64 {
	d, err := New(enforce())
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ev := event.Event{Kind: event.KindSyscall, Container: testContainer, Time: t0}
	for pid := int32(1); pid <= int32(n); pid++ {
		ev.PID, ev.TID = pid, pid
		for _, s := range []uint32{sysClone, sysConnect, sysOpenat} {
			ev.Sysno = s
			d.Handle(&ev, nil)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if d.Stats().Groups != n {
		t.Fatalf("%d groups in the table, want %d", d.Stats().Groups, n)
	}
	runtime.KeepAlive(d)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// TestMemory10000Groups proves that 10,000 thread groups fit in
// groupBudget bytes each.
func TestMemory10000Groups(t *testing.T) {
	per := heapPerGroup(t, 10000)
	t.Logf("10,000 groups: %.1f bytes per group (slot is %d bytes; budget %d)", per, slotSize, groupBudget)
	if per > groupBudget {
		t.Errorf("%.1f bytes per group, over the budget of %d", per, groupBudget)
	}
}
