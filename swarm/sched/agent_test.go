package sched

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
)

func TestConfig(t *testing.T) {
	a, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := a.Config(), DefaultConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("zero config filled to %+v, want %+v", got, want)
	}
	if a.Name() != "sched" {
		t.Errorf("name %q", a.Name())
	}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"short period", Config{Period: time.Microsecond}},
		{"long period", Config{Period: time.Minute}},
		{"negative CPUs", Config{CPUs: -1}},
		{"NaN CPUs", Config{CPUs: math.NaN()}},
		{"too many CPUs", Config{CPUs: MaxCPUs + 1}},
		{"negative tasks", Config{MaxTasks: -1}},
		{"MinHold above period", Config{MinHold: time.Second}},
		{"negative delay", Config{Delay: -1}},
		{"spawn seconds", Config{SpawnSeconds: 61}},
	} {
		if _, err := New(tc.cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: error %v, want ErrConfig", tc.name, err)
		}
	}
	for _, tc := range []struct {
		name string
		cfg  ContainerConfig
	}{
		{"mode", ContainerConfig{Mode: 3}},
		{"weight 1", ContainerConfig{Weight: 1}},
		{"weight too high", ContainerConfig{Weight: MaxWeight + 1}},
		{"negative quota", ContainerConfig{Quota: -1}},
		{"tiny quota", ContainerConfig{Quota: 0.001}},
		{"NaN quota", ContainerConfig{Quota: math.NaN()}},
	} {
		if err := a.AddContainer(1, tc.cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: error %v, want ErrConfig", tc.name, err)
		}
	}
	if err := a.AddContainer(1, ContainerConfig{}); err != nil {
		t.Fatal(err)
	}
	if c, _ := a.Container(1); c.Config.Weight != DefaultWeight {
		t.Errorf("default weight %d", c.Config.Weight)
	}
	if err := a.AddContainer(1, ContainerConfig{}); !errors.Is(err, ErrContainer) {
		t.Errorf("second add: %v", err)
	}
	if err := a.SetMode(2, ModeEnforce); !errors.Is(err, ErrContainer) {
		t.Errorf("set mode of unknown container: %v", err)
	}
	if err := a.SetMode(1, 7); !errors.Is(err, ErrConfig) {
		t.Errorf("set mode 7: %v", err)
	}
	if err := a.SetContainer(1, ContainerConfig{Quota: 2, Weight: 100}); err != nil {
		t.Error(err)
	}
	if !a.RemoveContainer(1) || a.RemoveContainer(1) {
		t.Error("remove container")
	}
	if q := QuotaFromCFS(50000, 100000); q != 0.5 || QuotaFromCFS(-1, 100000) != 0 {
		t.Errorf("QuotaFromCFS: %g", q)
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		s        []share
		capacity float64
		want     []float64
	}{
		{"fits", []share{{demand: 10, weight: 1}, {demand: 20, weight: 1}}, 100, []float64{10, 20}},
		{"weights 2:1", []share{{demand: 100, weight: 2}, {demand: 100, weight: 1}}, 90, []float64{60, 30}},
		{"one under its share", []share{{demand: 10, weight: 1}, {demand: 100, weight: 1}, {demand: 100, weight: 1}}, 100, []float64{10, 45, 45}},
		{"hogs first", []share{{demand: 60, weight: 1, interactive: true}, {demand: 100, weight: 1}, {demand: 30, weight: 1}}, 150, []float64{60, 60, 30}},
		{"hogs below their fair share for interactive", []share{{demand: 60, weight: 1, interactive: true}, {demand: 100, weight: 1}}, 100, []float64{60, 40}},
		{"hogs keep half their fair share", []share{{demand: 90, weight: 1, interactive: true}, {demand: 60, weight: 1}}, 100, []float64{75, 25}},
		{"no interactive: never below the fair share", []share{{demand: 60, weight: 1}, {demand: 100, weight: 1}}, 100, []float64{50, 50}},
		{"no capacity", []share{{demand: 90, weight: 1}}, -5, []float64{0}},
	} {
		idx := make([]int32, len(tc.s))
		for i := range idx {
			idx[i] = int32(i)
		}
		split(tc.s, idx, tc.capacity)
		for i, w := range tc.want {
			if math.Abs(tc.s[i].alloc-w) > 1e-9 {
				t.Errorf("%s: claimant %d gets %g, want %g", tc.name, i, tc.s[i].alloc, w)
			}
		}
	}
	order, starts := bucket([]int32{2, 0, 2, 1, 0}, 4, nil, nil)
	if !reflect.DeepEqual(order, []int32{1, 4, 3, 0, 2}) || !reflect.DeepEqual(starts, []int32{0, 2, 3, 5, 5}) {
		t.Errorf("bucket: %v %v", order, starts)
	}
}

func TestTableLookup(t *testing.T) {
	var nilTab *Table
	if _, ok := nilTab.Lookup(1, 1); ok {
		t.Error("nil table holds a task")
	}
	e := []Throttle{{Container: 2, TID: 5}, {Container: 1, TID: 9}, {Container: 1, TID: 3, HoldNS: 7}, {Container: 2, TID: 1}}
	sortThrottles(e)
	tab := &Table{Entries: e}
	if th, ok := tab.Lookup(1, 3); !ok || th.HoldNS != 7 {
		t.Errorf("lookup (1, 3): %+v %v", th, ok)
	}
	for _, k := range [][2]int64{{1, 9}, {2, 5}, {2, 1}} {
		if _, ok := tab.Lookup(uint32(k[0]), int32(k[1])); !ok {
			t.Errorf("lookup %v: missing", k)
		}
	}
	for _, k := range [][2]int64{{1, 4}, {0, 3}, {3, 1}, {2, 9}} {
		if _, ok := tab.Lookup(uint32(k[0]), int32(k[1])); ok {
			t.Errorf("lookup %v: found", k)
		}
	}
}

// busyTrace runs a hog, an interactive task and a task that blocks once a
// second for d, in container 1 of the given mode, on 4 CPUs.
func busyTrace(t *testing.T, mode Mode, d time.Duration) *sim {
	s := newSim(t, Config{CPUs: 4}, map[uint32]ContainerConfig{1: {Mode: mode}})
	s.add(hog(1, 10, 10))
	s.add(inter(1, 20, 20, 0.2, 100*time.Microsecond))
	s.add(inter(1, 30, 30, 0.99, time.Second))
	s.run(d)
	return s
}

func TestBusyLoop(t *testing.T) {
	s := busyTrace(t, ModeEnforce, 25*time.Second)
	if len(s.decs) != 2 {
		t.Fatalf("%d decisions in 25s, want 2 (at 10s and 20s): %+v", len(s.decs), s.decs)
	}
	d := s.decs[0]
	if d.Agent != Name || d.Container != 1 || d.PID != 10 || d.TID != 10 || d.Action != agent.ActDelay ||
		d.Delay != DefaultDelay || d.Score != 0.5 {
		t.Errorf("decision %+v", d)
	}
	if !strings.HasPrefix(d.Reason, "busy loop: ran 10s without blocking") ||
		!reflect.DeepEqual(d.Evidence, []string{"streak=10s", "duty=1.00", "blocks=0", "tid=10"}) {
		t.Errorf("reason %q, evidence %q", d.Reason, d.Evidence)
	}
	if tk, _ := s.a.Task(1, 10); tk.BusySince.IsZero() {
		t.Errorf("hog %+v: not busy", tk)
	}
	if tk, _ := s.a.Task(1, 30); tk.BusySince.IsZero() || s.now.Sub(tk.BusySince) > 1100*time.Millisecond {
		t.Errorf("task blocking once a second %+v: busy for more than a second", tk)
	}

	s = busyTrace(t, ModeObserve, 15*time.Second)
	if len(s.decs) != 1 || s.decs[0].Action != agent.ActRecord || s.decs[0].Delay != 0 ||
		!strings.HasPrefix(s.decs[0].Reason, "observe: would delay 100ms: busy loop") {
		t.Errorf("observe: %+v", s.decs)
	}
	if s = busyTrace(t, ModeLearn, 15*time.Second); len(s.decs) != 0 {
		t.Errorf("learn: %+v", s.decs)
	}
	if st := s.a.Stats(); st.Holds != 0 || st.Samples != 3*150 {
		t.Errorf("learn stats %+v", st)
	}
}

func TestForkBomb(t *testing.T) {
	for _, mode := range []Mode{ModeLearn, ModeObserve, ModeEnforce} {
		a, _ := New(Config{})
		if err := a.AddContainer(1, ContainerConfig{Mode: mode}); err != nil {
			t.Fatal(err)
		}
		var out []agent.Decision
		// A build: 150 thread groups a second for 5 seconds, under the
		// floor.
		for i := range 750 {
			out = a.Spawned(t0.Add(time.Duration(i)*time.Second/150), 1, 5, 1, out)
		}
		if len(out) != 0 {
			t.Fatalf("%v: build decided %+v", mode, out)
		}
		// One burst second over the floor, then quiet: not sustained.
		base := t0.Add(10 * time.Second)
		out = a.Spawned(base, 1, 6, 500, out)
		if len(out) != 0 {
			t.Fatalf("%v: one second over the floor decided %+v", mode, out)
		}
		// A fork bomb: 1000 a second for 3 seconds, from several parents.
		base = t0.Add(20 * time.Second)
		for i := range 3000 {
			out = a.Spawned(base.Add(time.Duration(i)*time.Millisecond), 1, int32(100+i%7), 1, out)
		}
		if mode == ModeLearn {
			if len(out) != 0 {
				t.Errorf("learn decided %+v", out)
			}
			continue
		}
		if len(out) != 2 {
			t.Fatalf("%v: %d decisions, want 2 (seconds 2 and 3 of the bomb): %+v", mode, len(out), out)
		}
		d := out[0]
		if mode == ModeEnforce && (d.Action != agent.ActKill || d.Delay != DefaultDelay) ||
			mode == ModeObserve && (d.Action != agent.ActRecord || !strings.HasPrefix(d.Reason, "observe: would kill")) {
			t.Errorf("%v: decision %+v", mode, d)
		}
		if d.Agent != Name || d.Container != 1 || d.PID < 100 || d.Score != 201.0/400 ||
			!strings.Contains(d.Reason, "fork bomb: 201 thread groups created in 1s, 2 seconds over the floor of 200") ||
			len(d.Evidence) != 4 || d.Evidence[0] != "spawned=201" || d.Evidence[2] != "seconds=2" {
			t.Errorf("%v: decision %+v", mode, d)
		}
		if c, _ := a.Container(1); c.SpawnRate != 1000 || c.Spawned != 750+500+3000 {
			t.Errorf("%v: container %+v", mode, c)
		}
	}
	a, _ := New(Config{})
	if out := a.Spawned(t0, 9, 1, 1000, nil); len(out) != 0 || a.Stats().Unknown != 1 {
		t.Error("spawns of an unknown container")
	}
}

func TestSnapshotRestore(t *testing.T) {
	s := newSim(t, Config{CPUs: 1}, map[uint32]ContainerConfig{
		1: {Mode: ModeEnforce, Quota: 0.6},
		2: {Mode: ModeEnforce, Weight: 512},
	})
	s.add(hog(1, 10, 10))
	s.add(hog(2, 20, 20))
	s.add(inter(2, 30, 30, 0.05, 100*time.Microsecond))
	s.run(9 * time.Second)
	snap := s.a.Snapshot()
	saved := make([]simTask, len(s.tasks))
	for i, tk := range s.tasks {
		saved[i] = *tk
	}
	now := s.now
	trace := func() (tabs []Table, decs []agent.Decision, st Stats) {
		s.decs = nil
		s.checkPeriod = func(tab *Table) { tabs = append(tabs, *tab) }
		s.run(3 * time.Second)
		return tabs, s.decs, s.a.Stats()
	}
	tabs1, decs1, st1 := trace()
	if len(decs1) != 2 || len(tabs1) != 30 {
		t.Fatalf("%d decisions (want the two hogs' busy loops), %d tables", len(decs1), len(tabs1))
	}
	for round := range 2 {
		if err := s.a.Restore(snap); err != nil {
			t.Fatal(err)
		}
		for i := range s.tasks {
			*s.tasks[i] = saved[i]
		}
		s.now = now
		tabs2, decs2, st2 := trace()
		if !reflect.DeepEqual(tabs1, tabs2) || !reflect.DeepEqual(decs1, decs2) || st1 != st2 {
			t.Errorf("restore %d: the replay differs", round)
		}
	}
	if err := s.a.Restore("x"); !errors.Is(err, ErrSnapshot) {
		t.Errorf("restore of a string: %v", err)
	}
	if st := s.a.Stats(); st != st1 {
		t.Error("a failed restore changed the agent")
	}
}

func TestForgetAndExpire(t *testing.T) {
	s := newSim(t, Config{CPUs: 1, IdleTimeout: 2 * time.Second}, map[uint32]ContainerConfig{1: {Mode: ModeEnforce}})
	s.add(hog(1, 10, 10))
	s.add(hog(1, 20, 20))
	s.run(time.Second)
	if !s.a.Forget(1, 10) || s.a.Forget(1, 10) {
		t.Error("forget")
	}
	s.tasks = s.tasks[1:]
	s.a.Observe(s.now, Sample{Container: 9, TID: 1})
	s.tasks = nil
	s.run(5 * time.Second)
	st := s.a.Stats()
	if st.Tasks != 0 || st.Exited != 1 || st.Expired != 1 || st.Unknown != 1 {
		t.Errorf("stats %+v", st)
	}
	if s.a.Handle(&event.Event{Time: s.now.Add(time.Hour).UnixNano()}, nil) != nil {
		t.Error("Handle decided")
	}
	if len(s.a.Throttles(nil)) != 0 {
		t.Error("holds without tasks")
	}
}

// TestObserveAllocs: Observe of a known task allocates nothing.
func TestObserveAllocs(t *testing.T) {
	a, _ := New(Config{})
	_ = a.AddContainer(1, ContainerConfig{Mode: ModeEnforce})
	for tid := int32(1); tid <= 64; tid++ {
		a.Observe(t0, Sample{Container: 1, PID: tid, TID: tid})
	}
	var i uint64
	allocs := testing.AllocsPerRun(1000, func() {
		i++
		tid := int32(i%64) + 1
		a.Observe(t0.Add(time.Duration(i)), Sample{Container: 1, PID: tid, TID: tid, RunNS: i * 1000, WaitNS: i, Blocks: i / 10})
	})
	if allocs != 0 {
		t.Errorf("%v allocations per Observe", allocs)
	}
}
