package selfmodel

import (
	"errors"
	"math/bits"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
)

func enforceConfig() Config {
	return Config{
		Mode:        ModeEnforce,
		K:           6,
		Frame:       32,
		DelayAt:     2,
		DelayBase:   10 * time.Microsecond,
		DelayFactor: 2,
		DelayMax:    time.Second,
		DenyAt:      8,
		KillAt:      16,
		Keep:        64,
	}
}

func TestReplayIsNormal(t *testing.T) {
	d := learned(t, enforceConfig())
	pairs := d.Model().Pairs()
	// A new task running the learnt trace, and the learning task going on
	// with more requests of the same kinds.
	if got := feed(d, events(200, 200, serverTrace(200))); len(got) != 0 {
		t.Fatalf("replay of the learnt trace: %d decisions, first %+v", len(got), got[0])
	}
	more := serverTrace(400)[len(serverTrace(200)):]
	if got := feed(d, events(100, 100, more)); len(got) != 0 {
		t.Fatalf("more requests on the learning task: %d decisions, first %+v", len(got), got[0])
	}
	if s := d.Stats(); s.Anomalous != 0 || s.Windows == 0 {
		t.Errorf("stats %+v", s)
	}
	if d.Model().Pairs() != pairs {
		t.Error("the model changed in enforce mode")
	}
}

// TestGraduatedResponse injects the shell into a served task: the
// decisions go record, delay (growing), deny, kill, each step at its
// threshold.
func TestGraduatedResponse(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"configured", enforceConfig()},
		{"defaults", func() Config { c := DefaultConfig(); c.Mode = ModeEnforce; return c }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := learned(t, tc.cfg)
			cfg := d.Config()
			pairs, windows := d.Model().Pairs(), d.Model().Windows()
			got := feed(d, events(300, 300, attackTrace(50)))
			if len(got) == 0 {
				t.Fatal("no decision")
			}
			if got[0].Action != agent.ActRecord || got[0].Score != 1/float64(cfg.Frame) {
				t.Errorf("first decision %+v, want a record at LFC 1", got[0])
			}
			// The first decision of each step comes in the order record,
			// delay, deny, kill, each at its threshold. Past a step's
			// threshold, a call is never answered by less: from DenyAt the
			// anomalous calls are denied and the normal ones delayed.
			var lastDelay time.Duration
			delays := 0
			seen := map[agent.Action]bool{}
			level := agent.ActRecord
			for i, dec := range got {
				lfc := int(dec.Score*float64(cfg.Frame) + 0.5)
				if !seen[dec.Action] {
					seen[dec.Action] = true
					t.Logf("first %-6v at LFC %2d (decision %d): %s %v", dec.Action, lfc, i, dec.Reason, dec.Evidence)
					want := map[agent.Action]int{agent.ActRecord: 1, agent.ActDelay: cfg.DelayAt, agent.ActDeny: cfg.DenyAt, agent.ActKill: cfg.KillAt}[dec.Action]
					if lfc != want {
						t.Errorf("first %v at LFC %d, want %d", dec.Action, lfc, want)
					}
					if dec.Action < level {
						t.Errorf("first %v after %v", dec.Action, level)
					}
					level = dec.Action
				}
				if floor := min(level, agent.ActDelay); dec.Action < floor {
					t.Errorf("decision %d: %v after %v", i, dec.Action, level)
				}
				if level == agent.ActKill && dec.Action != agent.ActKill {
					t.Errorf("decision %d: %v after kill", i, dec.Action)
				}
				if dec.Agent != Name || dec.PID != 300 || dec.Container != testContainer {
					t.Errorf("decision %d: %+v", i, dec)
				}
				if dec.Action == agent.ActDelay {
					if want := time.Duration(float64(cfg.DelayBase) * pow(cfg.DelayFactor, lfc)); dec.Delay != min(want, cfg.DelayMax) {
						t.Errorf("delay at LFC %d: %v, want %v", lfc, dec.Delay, want)
					}
					if dec.Delay < lastDelay {
						t.Errorf("delay %v after %v: shrinking", dec.Delay, lastDelay)
					}
					if dec.Delay > lastDelay {
						delays++
					}
					lastDelay = dec.Delay
				}
				if dec.Action == agent.ActDeny && len(dec.Evidence) == 0 {
					t.Errorf("deny without evidence: %+v", dec)
				}
			}
			if delays < 3 {
				t.Errorf("only %d distinct delays", delays)
			}
			for _, a := range []agent.Action{agent.ActRecord, agent.ActDelay, agent.ActDeny, agent.ActKill} {
				if !seen[a] {
					t.Errorf("no %v decision", a)
				}
			}
			// The evidence names the foreign calls.
			var ev []string
			for _, dec := range got {
				ev = append(ev, dec.Evidence...)
			}
			if !slices.ContainsFunc(ev, func(s string) bool {
				w, err := ParseWindow(s)
				return err == nil && slices.Contains(w, sDup2) && len(w) == cfg.K
			}) {
				t.Errorf("no evidence window with dup2: %q", ev)
			}
			task, ok := d.Task(testContainer, 300)
			if !ok || task.LFC() < cfg.KillAt || task.Anomalies() == 0 || len(task.Novel()) > cfg.Keep {
				t.Errorf("task LFC %d anomalies %d novel %d", task.LFC(), task.Anomalies(), len(task.Novel()))
			}
			if frameCount(task.frame) != task.LFC() {
				t.Errorf("frame bits %d, LFC %d", frameCount(task.frame), task.LFC())
			}
			// Anomalies are never learnt silently.
			if d.Model().Pairs() != pairs || d.Model().Windows() != windows {
				t.Error("the model learnt from anomalies in enforce mode")
			}
		})
	}
}

func pow(f float64, n int) float64 {
	r := 1.0
	for range n {
		r *= f
	}
	return r
}

func TestObserveOnlyRecords(t *testing.T) {
	cfg := enforceConfig()
	cfg.Mode = ModeObserve
	d := learned(t, cfg)
	got := feed(d, events(300, 300, attackTrace(20)))
	if len(got) == 0 {
		t.Fatal("no decision")
	}
	var kill bool
	for _, dec := range got {
		if dec.Action != agent.ActRecord || dec.Delay != 0 {
			t.Fatalf("observe mode decided %+v", dec)
		}
		kill = kill || strings.HasPrefix(dec.Reason, "observe: would kill")
	}
	if !kill {
		t.Error("no would-be kill reported")
	}
}

func TestDisabledSteps(t *testing.T) {
	cfg := enforceConfig()
	cfg.DelayBase, cfg.DenyAt, cfg.KillAt = 0, 0, 0
	d := learned(t, cfg)
	got := feed(d, events(300, 300, attackTrace(20)))
	if len(got) == 0 {
		t.Fatal("no decision")
	}
	for _, dec := range got {
		if dec.Action != agent.ActRecord {
			t.Fatalf("step off, got %+v", dec)
		}
	}
}

func TestStability(t *testing.T) {
	cfg := enforceConfig()
	cfg.Mode = ModeLearn
	cfg.StableAfter = 500
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	trace := serverTrace(300)
	evs := events(100, 100, trace)
	stableAt := -1
	for i := range evs {
		d.Handle(&evs[i], nil)
		m := d.Model()
		if d.Stable() != (m.Windows()-m.LastChange() >= 500) {
			t.Fatal("Stable disagrees with its rule")
		}
		if d.Stable() && stableAt < 0 {
			stableAt = i
		}
	}
	m := d.Model()
	if stableAt < 0 {
		t.Fatalf("not stable after %d windows, last change at %d", m.Windows(), m.LastChange())
	}
	if got, want := uint64(stableAt+1), m.LastChange()+500; got != want {
		t.Errorf("stable at window %d, want %d", got, want)
	}
	t.Logf("last change at window %d of %d; stable from window %d", m.LastChange(), m.Windows(), stableAt+1)
	// A new window makes it unstable again.
	feed(d, events(100, 100, shell[:3]))
	if d.Stable() {
		t.Error("stable right after a change")
	}
}

// TestTolerize: after the operator accepts the shell, the same foreign
// sequence is normal.
func TestTolerize(t *testing.T) {
	d := learned(t, enforceConfig())
	if got := feed(d, events(300, 300, attackTrace(20))); len(got) == 0 {
		t.Fatal("no anomaly before tolerize")
	}
	n := d.Tolerize(testContainer, 300)
	if n == 0 {
		t.Fatal("tolerize added nothing")
	}
	task, _ := d.Task(testContainer, 300)
	if task.LFC() != 0 || task.Novel() != nil {
		t.Errorf("after tolerize: LFC %d novel %d", task.LFC(), len(task.Novel()))
	}
	if got := feed(d, events(400, 400, attackTrace(20))); len(got) != 0 {
		t.Fatalf("tolerized sequence: %d decisions, first %+v", len(got), got[0])
	}
	if s := d.Stats(); s.Tolerized != uint64(n) {
		t.Errorf("stats %+v", s)
	}
	t.Logf("tolerized %d windows", n)
}

func TestKeepIsBounded(t *testing.T) {
	cfg := enforceConfig()
	cfg.Keep = 4
	d := learned(t, cfg)
	feed(d, events(300, 300, attackTrace(20)))
	task, _ := d.Task(testContainer, 300)
	nov := task.Novel()
	if len(nov) != 4 {
		t.Fatalf("%d novel windows kept, want 4", len(nov))
	}
	// The last kept is the last window of the shell.
	if want := shell[len(shell)-cfg.K:]; !slices.Equal(nov[3], want) {
		t.Errorf("last novel window %v, want %v", nov[3], want)
	}
}

func TestTaskExitAndEviction(t *testing.T) {
	setup := func(t *testing.T) (*Detector, func(pid, tid int32, sysno uint32, at time.Duration), func(tid int32) bool) {
		cfg := enforceConfig()
		cfg.MaxTasks = 4
		cfg.IdleTimeout = time.Minute
		d := learned(t, cfg)
		d.Forget(testContainer, 100)
		base := time.Unix(1000, 0)
		d.Tick(base, nil)
		ev := func(pid, tid int32, sysno uint32, at time.Duration) {
			e := event.Event{Kind: event.KindSyscall, Container: testContainer, PID: pid, TID: tid, Sysno: sysno, Time: base.Add(at).UnixNano()}
			d.Handle(&e, nil)
		}
		has := func(tid int32) bool { _, ok := d.Task(testContainer, tid); return ok }
		return d, ev, has
	}

	t.Run("exit", func(t *testing.T) {
		d, ev, has := setup(t)
		// Threads 11 and 12 of group 10: exit ends one, exit_group both.
		ev(10, 11, sEpollWait, 0)
		ev(10, 12, sEpollWait, 0)
		ev(10, 11, sysExit, 0)
		if has(11) || !has(12) {
			t.Fatal("exit")
		}
		ev(10, 11, sEpollWait, 0)
		ev(10, 12, sysExitGroup, 0)
		if has(11) || has(12) || d.Stats().Tasks != 0 || d.Stats().Exited != 4 {
			t.Fatalf("exit_group: %+v", d.Stats())
		}
	})

	t.Run("clock", func(t *testing.T) {
		d, ev, has := setup(t)
		// A full table evicts the task not seen since the hand passed.
		for tid := int32(1); tid <= 4; tid++ {
			ev(tid, tid, sRead, 0)
		}
		ev(5, 5, sRead, 0) // all referenced: the hand clears them, evicts 1
		if has(1) || !has(5) {
			t.Fatal("first eviction")
		}
		ev(2, 2, sRead, 0) // 2 referenced again
		ev(6, 6, sRead, 0) // the hand skips 2, evicts 3
		if !has(2) || has(3) || !has(4) || !has(6) || d.Stats().Tasks != 4 || d.Stats().Evicted != 2 {
			t.Fatalf("second eviction: %+v", d.Stats())
		}
	})

	t.Run("idle", func(t *testing.T) {
		d, ev, has := setup(t)
		ev(7, 7, sRead, 0)
		ev(8, 8, sRead, 0)
		ev(8, 8, sRead, 50*time.Second)
		d.Tick(time.Unix(1000, 0).Add(61*time.Second), nil)
		if has(7) || !has(8) || d.Stats().Tasks != 1 || d.Stats().Expired != 1 {
			t.Fatalf("idle sweep: %+v", d.Stats())
		}
	})
}

func TestPerProcess(t *testing.T) {
	cfg := enforceConfig()
	cfg.PerProcess = true
	d := learned(t, cfg)
	feed(d, events(500, 501, loopKeepAlive))
	feed(d, events(500, 502, loopKeepAlive))
	task, ok := d.Task(testContainer, 500)
	if !ok || task.Windows() != 6 || task.PID() != 500 || task.ID() != 500 {
		t.Fatalf("per-process task %+v", task)
	}
	if _, ok := d.Task(testContainer, 501); ok {
		t.Error("a thread has its own task")
	}
}

// TestRepeats: a folded event replays its call, up to K-1+Frame times.
func TestRepeats(t *testing.T) {
	a := learned(t, enforceConfig())
	b := learned(t, enforceConfig())
	prefix := events(300, 300, serverTrace(5))
	feed(a, prefix)
	feed(b, prefix)
	e := event.Event{Kind: event.KindSyscall, Container: testContainer, PID: 300, TID: 300, Sysno: sDup2, Repeats: 1000}
	a.Handle(&e, nil)
	e.Repeats = 0
	for range a.cfg.K + a.cfg.Frame {
		b.Handle(&e, nil)
	}
	ta, _ := a.Task(testContainer, 300)
	tb, _ := b.Task(testContainer, 300)
	if ta.LFC() != tb.LFC() || !slices.Equal(ta.History(), tb.History()) || ta.frame != tb.frame {
		t.Errorf("folded: LFC %d %v; unfolded: LFC %d %v", ta.LFC(), ta.History(), tb.LFC(), tb.History())
	}
}

func TestSnapshotRestore(t *testing.T) {
	d := learned(t, enforceConfig())
	split := len(serverTrace(10))
	feed(d, events(300, 300, attackTrace(10)[:split]))
	snap := d.Snapshot()
	before, _ := d.Task(testContainer, 300)
	rest := events(300, 300, attackTrace(10)[split:])

	first := feed(d, rest)
	if len(first) == 0 {
		t.Fatal("no decision after the snapshot")
	}
	d.Tolerize(testContainer, 300) // change the model and the task
	for range 2 {
		if err := d.Restore(snap); err != nil {
			t.Fatal(err)
		}
		if got, _ := d.Task(testContainer, 300); !reflect.DeepEqual(got, before) {
			t.Fatalf("restored task %+v, want %+v", got, before)
		}
		if again := feed(d, rest); !reflect.DeepEqual(again, first) {
			t.Fatalf("after restore: %d decisions, want %d", len(again), len(first))
		}
	}
	if err := d.Restore("not a snapshot"); !errors.Is(err, ErrSnapshot) {
		t.Errorf("restore of a string: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{K: 1}, {K: 17}, {Frame: 129}, {Frame: -1}, {DenyAt: 33}, {KillAt: -1},
		{DelayFactor: 0.5}, {MaxTasks: -1}, {Mode: 7}, {Keep: -2},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("New(%+v): %v", c, err)
		}
	}
	if m, err := ParseMode("enforce"); err != nil || m != ModeEnforce || m.String() != "enforce" {
		t.Error("ParseMode")
	}
	if _, err := ParseMode("bogus"); !errors.Is(err, ErrConfig) {
		t.Error("ParseMode bogus")
	}
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := d.Config()
	if c.K != DefaultK || c.Frame != DefaultFrame || c.DenyAt != 0 || c.Mode != ModeLearn {
		t.Errorf("zero config filled as %+v", c)
	}
	m, _ := NewModel(4)
	if err := d.SetModel(m); !errors.Is(err, ErrK) {
		t.Errorf("SetModel K 4: %v", err)
	}
}

// TestHandleAllocs: a known task's events allocate nothing in steady
// state, in every mode, and neither do delays without evidence.
func TestHandleAllocs(t *testing.T) {
	for _, mode := range []Mode{ModeLearn, ModeObserve, ModeEnforce} {
		cfg := enforceConfig()
		cfg.Mode = mode
		d := learned(t, cfg)
		evs := events(100, 100, serverTrace(200)[len(startup):])
		out := make([]agent.Decision, 0, 8)
		i := 0
		allocs := testing.AllocsPerRun(1000, func() {
			out = d.Handle(&evs[i%len(evs)], out[:0])
			i++
		})
		if allocs != 0 || len(out) != 0 {
			t.Errorf("%v: %v allocations per event", mode, allocs)
		}
	}
}

func BenchmarkHandle(b *testing.B) {
	d := learned(b, enforceConfig())
	const tasks = 64
	var evs []event.Event
	trace := serverTrace(200)[len(startup):]
	for i := range trace {
		for tid := int32(0); tid < tasks; tid++ {
			evs = append(evs, events(1000+tid, 1000+tid, trace[i:i+1])...)
		}
	}
	out := make([]agent.Decision, 0, 8)
	feed(d, evs) // the tasks are known
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		out = d.Handle(&evs[i%len(evs)], out[:0])
	}
}

// BenchmarkHandleAnomalous measures the slow path: every event of the
// shell, with its decision and evidence.
func BenchmarkHandleAnomalous(b *testing.B) {
	d := learned(b, enforceConfig())
	evs := events(300, 300, shell)
	out := make([]agent.Decision, 0, 8)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		out = d.Handle(&evs[i%len(evs)], out[:0])
	}
}

// frameCount recounts a frame's bits.
func frameCount(f [2]uint64) int { return bits.OnesCount64(f[0]) + bits.OnesCount64(f[1]) }
