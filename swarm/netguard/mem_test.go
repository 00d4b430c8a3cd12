package netguard

import (
	"runtime"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/event"
)

// containerBudget is the stated memory per container under a flood of
// distinct remotes, its probe ring full.
const containerBudget = 40 << 10

// heapPerContainer measures, with runtime.MemStats around the work, the
// heap that n containers hold after each saw flows events to as many
// distinct remotes (failed probes, refusals and ended flows to distinct
// hosts and ports, within one scan window so that the probe ring is full
// at the end). Decisions are made and dropped; the events are built in
// place.
func heapPerContainer(t *testing.T, n, flows int) float64 {
	a, err := New(enforce())
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ev := event.Event{Kind: event.KindPacket, Sysno: 6}
	ev.Net.Family, ev.Net.Protocol = afInet, sockStream
	for slot := range uint32(n) {
		ev.Container = slot
		for i := range flows {
			ev.Time = t0 + int64(i)*int64(time.Second)/int64(flows)
			ev.Net.IP[0], ev.Net.IP[1], ev.Net.IP[2], ev.Net.IP[3] = 11, byte(i>>16), byte(i>>8), byte(i)
			ev.Net.Port = uint16(1 + i%60000)
			ev.Args = [6]uint64{40000, event.FlowEnd, 1, 60, 0, 0}
			ev.Ops = event.TCPSynOut
			if i%3 == 0 {
				ev.Args[1] = event.FlowRefused
			}
			a.Handle(&ev, nil)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	for slot := range uint32(n) {
		if s, _ := a.Stats(slot); s.Probes != a.ctrs[slot].cfg.ProbeRoom() {
			t.Fatalf("container %d: %d probes, want a full ring", slot, s.Probes)
		}
	}
	runtime.KeepAlive(a)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// TestMemoryFlood proves that a flood of distinct remotes does not grow a
// container past containerBudget, and that its size does not depend on
// the flood's size.
func TestMemoryFlood(t *testing.T) {
	small := heapPerContainer(t, 64, 2000)
	large := heapPerContainer(t, 64, 50000)
	t.Logf("64 containers: %.0f bytes each after 2,000 distinct remotes, %.0f after 50,000 (container struct %d bytes, probe ring %d x %d bytes)",
		small, large, containerSize, DefaultConfig().ProbeRoom(), probeSize)
	if large > containerBudget {
		t.Errorf("%.0f bytes per container, over the budget of %d", large, containerBudget)
	}
	if large > small*1.25 {
		t.Errorf("memory grows with the flood: %.0f bytes after 2,000 remotes, %.0f after 50,000", small, large)
	}
}

// TestMemoryQuiet: a container whose probes left the window holds its
// fixed tables only.
func TestMemoryQuiet(t *testing.T) {
	a, _ := New(enforce())
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for slot := range uint32(64) {
		feed(a, events(slot, verticalScan(0, "10.0.0.5", 1, 100, 100)))
	}
	a.Tick(time.Unix(0, t0+int64(time.Minute)), nil)
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / 64
	t.Logf("quiet container: %.0f bytes", per)
	if per > float64(containerSize)+2048 {
		t.Errorf("quiet container holds %.0f bytes; its struct is %d", per, containerSize)
	}
	runtime.KeepAlive(a)
}
