package security

import (
	"runtime"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/rate"
	"github.com/athenaos/athena/swarm/selfmodel"
	"github.com/athenaos/athena/swarm/supervisor"
)

// taskBudget is the stated per-task state of the whole security swarm:
// every agent that keeps state per task (the sense of self per thread,
// the rate detector per thread group), quorum and folds included. The
// sentry's task table (32 bytes a slot, 4,096 slots) is fixed and not
// per task.
const taskBudget = 1024

// fullSwarm is the swarm a sandbox runs: a sense-of-self detector in
// enforce mode with a learnt model and the rate detector.
func fullSwarm(t testing.TB) *Swarm {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := selfmodel.DefaultConfig()
	cfg.Mode = selfmodel.ModeEnforce
	if err := s.AddContainer(0, cfg, learnt(t.(*testing.T), 200), ""); err != nil {
		t.Fatal(err)
	}
	rc := rate.DefaultConfig()
	rc.Mode = rate.ModeEnforce
	rd, err := rate.New(rc)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddAgent(supervisor.Spec{Agent: rd, Policy: supervisor.FailOpen}); err != nil {
		t.Fatal(err)
	}
	return s
}

// heapPerTask measures the heap n single-threaded tasks add to a swarm,
// each making calls (a normal request loop, or the injected shell).
func heapPerTask(t *testing.T, n int, calls []uint16) float64 {
	s := fullSwarm(t)
	var out []Outcome
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ev := event.Event{Kind: event.KindSyscall, Time: t0.UnixNano()}
	for pid := int32(1); pid <= int32(n); pid++ {
		ev.PID, ev.TID = pid, pid
		for _, c := range calls {
			ev.Sysno = uint32(c)
			out = s.Call(&ev, out[:0])
		}
	}
	out = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	if tasks, _, _ := s.Memory(); tasks != n {
		t.Fatalf("%d tasks tracked, want %d", tasks, n)
	}
	runtime.KeepAlive(s)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// TestMemory10000Tasks: 10,000 tasks' agents fit in taskBudget bytes
// each, normal tasks and tasks with anomalies (which keep their novel
// windows as evidence) alike.
func TestMemory10000Tasks(t *testing.T) {
	normal := heapPerTask(t, 10000, serverLoop)
	t.Logf("10,000 normal tasks: %.0f bytes per task (budget %d)", normal, taskBudget)
	anomalous := heapPerTask(t, 10000, shellCalls[:8])
	t.Logf("10,000 tasks with anomalies: %.0f bytes per task (budget %d)", anomalous, taskBudget)
	if normal > taskBudget || anomalous > taskBudget {
		t.Errorf("over the budget of %d bytes per task: normal %.0f, anomalous %.0f", taskBudget, normal, anomalous)
	}
}

// BenchmarkSwarmCall is the slow path's cost per call of the app: both
// agents and the supervisor, for a known task making normal calls. Its
// inverse is the calls one core drains per second.
func BenchmarkSwarmCall(b *testing.B) {
	s := fullSwarmB(b)
	ev := event.Event{Kind: event.KindSyscall, PID: 7, TID: 7, Time: t0.UnixNano()}
	var out []Outcome
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ev.Sysno = uint32(serverLoop[i%len(serverLoop)])
		if i%1000 == 0 {
			ev.Time += int64(time.Millisecond)
		}
		out = s.Call(&ev, out[:0])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

func fullSwarmB(b *testing.B) *Swarm {
	s, _ := New(Config{})
	m, _ := selfmodel.NewModel(selfmodel.DefaultK)
	var calls []uint16
	for range 200 {
		calls = append(calls, serverLoop...)
	}
	m.Train(calls)
	cfg := selfmodel.DefaultConfig()
	cfg.Mode = selfmodel.ModeEnforce
	s.AddContainer(0, cfg, m, "")
	rc := rate.DefaultConfig()
	rc.Mode = rate.ModeEnforce
	rd, _ := rate.New(rc)
	s.AddAgent(supervisor.Spec{Agent: rd, Policy: supervisor.FailOpen})
	return s
}
