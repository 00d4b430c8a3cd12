package selfmodel

import (
	"runtime"
	"testing"

	"github.com/athenaos/athena/swarm/event"
)

// taskBudget is the stated memory per task, table included.
const taskBudget = 256

// heapPerTask measures, with runtime.MemStats around the work, the heap
// that n tasks add to a detector whose model is already learnt: the slab
// (with its growth slack), the index map and, for tasks fed calls, their
// novel-window buffers. Every task makes calls; the events are built in
// place, so nothing else is allocated.
func heapPerTask(t *testing.T, cfg Config, n int, calls []uint16) float64 {
	d := learned(t, cfg)
	d.Forget(testContainer, 100)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ev := event.Event{Kind: event.KindSyscall, Container: testContainer}
	for tid := int32(1); tid <= int32(n); tid++ {
		ev.PID, ev.TID = tid, tid
		for _, s := range calls {
			ev.Sysno = uint32(s)
			d.Handle(&ev, nil)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if d.Stats().Tasks != n {
		t.Fatalf("%d tasks in the table, want %d", d.Stats().Tasks, n)
	}
	runtime.KeepAlive(d)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// TestMemory10000Tasks proves that 10,000 tasks fit in taskBudget bytes
// each.
func TestMemory10000Tasks(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Mode = ModeEnforce
	per := heapPerTask(t, cfg, 10000, loopKeepAlive)
	t.Logf("10,000 normal tasks: %.1f bytes per task (Task is %d bytes; budget %d)", per, taskSize, taskBudget)
	if per > taskBudget {
		t.Errorf("%.1f bytes per task, over the budget of %d", per, taskBudget)
	}
	// A task with anomalies also holds a novel-window buffer of
	// 2*Keep*(K+1) bytes and a 48-byte header.
	anom := heapPerTask(t, cfg, 10000, []uint16{sDup2, sDup2, sGetuid})
	t.Logf("10,000 anomalous tasks: %.1f bytes per task (Keep %d, K %d)", anom, cfg.Keep, cfg.K)
}
