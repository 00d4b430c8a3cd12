package memguard

import (
	"runtime"
	"testing"

	"github.com/athenaos/athena/swarm/event"
)

// Stated memory budgets: per task, table included, and per container.
const (
	taskBudget      = 256
	containerBudget = 1024
)

// heapPer measures, with runtime.MemStats around the work, the heap that
// add(a) adds to a fresh agent, divided by n.
func heapPer(t *testing.T, n int, add func(a *Agent)) float64 {
	a, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	add(a)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(a)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// TestMemory10000Tasks proves that 10,000 tasks fit in taskBudget bytes
// each: the slab (with its growth slack) and the index map. Each task
// takes one fault; the events are built in place, so nothing else is
// allocated.
func TestMemory10000Tasks(t *testing.T) {
	const n = 10000
	var tasks int
	per := heapPer(t, n, func(a *Agent) {
		if err := a.AddContainer(testContainer, withMode(ModeEnforce)); err != nil {
			t.Fatal(err)
		}
		ev := fault(at(0), 1, 0, event.AccessWrite, event.MemUnknown, 0x1000, 0x2000)
		for tid := int32(1); tid <= n; tid++ {
			ev.TID = tid
			a.Handle(&ev, nil)
		}
		tasks = a.Stats().Tasks
	})
	if tasks != n {
		t.Fatalf("%d tasks in the table, want %d", tasks, n)
	}
	t.Logf("10,000 tasks: %.1f bytes per task (slot is %d bytes; budget %d)", per, slotSize, taskBudget)
	if per > taskBudget {
		t.Errorf("%.1f bytes per task, over the budget of %d", per, taskBudget)
	}
}

// TestMemory1000Containers proves that a container's state (its struct
// and map entry, samples included) fits in containerBudget bytes.
func TestMemory1000Containers(t *testing.T) {
	const n = 1000
	per := heapPer(t, n, func(a *Agent) {
		for i := range uint32(n) {
			if err := a.AddContainer(i, ContainerConfig{Mode: ModeEnforce, Budget: 1 << 30}); err != nil {
				t.Fatal(err)
			}
			evs := sample(at(0), group{1, 1 << 20}, group{2, 2 << 20})
			for j := range evs {
				evs[j].Container = i
				a.Handle(&evs[j], nil)
			}
		}
	})
	t.Logf("1,000 containers: %.1f bytes per container (struct is %d bytes; budget %d)", per, containerSize, containerBudget)
	if per > containerBudget {
		t.Errorf("%.1f bytes per container, over the budget of %d", per, containerBudget)
	}
}
