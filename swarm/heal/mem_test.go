package heal

import (
	"runtime"
	"strconv"
	"testing"
	"time"
	"unsafe"

	"github.com/athenaos/athena/swarm/restart"
)

// procBudget is the stated heap per supervised process under the default
// intensity (5 restarts a window), with full windows.
const procBudget = 640

// TestProcSize pins the per-process struct: doc.go's figures build on it.
func TestProcSize(t *testing.T) {
	if s := unsafe.Sizeof(proc{}); s != 208 {
		t.Errorf("proc is %d bytes; doc.go says 208", s)
	}
}

// TestMemory measures, with runtime.MemStats, the heap of the largest
// agent: MaxContainers containers of main and MaxServices services,
// each process restarted 4 times (its tracker's and mirror's windows
// nearly full, its cause strings set).
func TestMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	cfg := ContainerConfig{Main: "main-command", MainPolicy: restart.Policy{Mode: restart.Always}}
	for i := range MaxServices {
		cfg.Services = append(cfg.Services, Service{Name: "service-" + strconv.Itoa(i), Comm: "svc" + strconv.Itoa(i), Policy: restart.Policy{Mode: restart.Always}})
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a := New()
	for slot := range uint32(MaxContainers) {
		if err := a.AddContainer(slot, cfg); err != nil {
			t.Fatal(err)
		}
	}
	comms := []string{cfg.Main}
	for _, s := range cfg.Services {
		comms = append(comms, s.Comm)
	}
	for round := range int64(4) {
		now := round * 20_000 // ms: past every backoff
		a.Tick(time.Unix(0, ms(now)), nil)
		for slot := range uint32(MaxContainers) {
			for i, c := range comms {
				ev := exitEvent(now, slot, int32(i+2), c, false, 11)
				a.Handle(&ev, nil)
			}
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := MaxContainers * (1 + MaxServices)
	if s := a.Stats(); s.Restarts != uint64(4*n) {
		t.Fatalf("%d restarts, want %d", s.Restarts, 4*n)
	}
	per := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
	t.Logf("%d processes: %.0f bytes each, %.1f MiB in all", n, per, per*float64(n)/(1<<20))
	if per > procBudget {
		t.Errorf("%.0f bytes per process, budget %d", per, procBudget)
	}
	runtime.KeepAlive(a)
}
