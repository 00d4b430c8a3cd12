package sched

import (
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/athenaos/athena/swarm/clocktable"
)

// taskBudget is the stated memory per task, table included.
const taskBudget = 256

// slotSize is a task's entry in the table: key, state and mark.
var slotSize = clocktable.EntryBytes[taskSlot]()

// TestSlotSize pins the per-task struct: the memory figures in doc.go are
// computed from it.
func TestSlotSize(t *testing.T) {
	if unsafe.Sizeof(taskSlot{}) != 72 || slotSize != 81 {
		t.Errorf("taskSlot is %d bytes, its entry %d; doc.go says 72 and 81", unsafe.Sizeof(taskSlot{}), slotSize)
	}
}

// heapPerTask measures, with runtime.MemStats around the work, the heap
// that n tasks (in n/4 thread groups) add to an agent: the slab with its
// growth slack and the index map, after one period closed with all of
// them (so the period's scratch is included too).
func heapPerTask(t *testing.T, n int) float64 {
	a, err := New(Config{CPUs: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddContainer(1, ContainerConfig{Mode: ModeEnforce, Quota: 2}); err != nil {
		t.Fatal(err)
	}
	a.Tick(t0, nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for round := range 2 {
		now := t0.Add(time.Duration(round+1) * 100 * time.Millisecond)
		for tid := int32(1); tid <= int32(n); tid++ {
			a.Observe(now, Sample{Container: 1, PID: (tid + 3) / 4, TID: tid,
				RunNS: uint64(round+1) * 50e6, WaitNS: uint64(round+1) * 50e6, Blocks: uint64(round)})
		}
		a.Tick(now, nil)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if a.Stats().Tasks != n {
		t.Fatalf("%d tasks in the table, want %d", a.Stats().Tasks, n)
	}
	if len(a.Published().Entries) != n {
		t.Fatalf("%d tasks held, want all %d", len(a.Published().Entries), n)
	}
	runtime.KeepAlive(a)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// TestMemory10000Tasks proves that 10,000 tasks fit in taskBudget bytes
// each, the published table and the period's scratch included.
func TestMemory10000Tasks(t *testing.T) {
	per := heapPerTask(t, 10000)
	t.Logf("10,000 tasks: %.1f bytes per task (entry %d bytes; budget %d)", per, slotSize, taskBudget)
	if per > taskBudget {
		t.Errorf("%.1f bytes per task, over the budget of %d", per, taskBudget)
	}
}
