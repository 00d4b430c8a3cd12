package rate

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
)

func TestClassTable(t *testing.T) {
	for c := Class(0); c < NumClasses; c++ {
		calls := Calls(c)
		if len(calls) == 0 {
			t.Errorf("%v: no calls", c)
		}
		for _, nr := range calls {
			if table[nr] != uint8(c)+1 {
				t.Errorf("syscall %d: tag %d, want class %v", nr, table[nr], c)
			}
		}
	}
	if table[sysExitGroup] != tagExitGroup || table[sysRead] != tagNone {
		t.Error("exit_group or read mis-tagged")
	}
	if Calls(NumClasses) != nil || Class(7).String() != "class?" || ClassConnect.String() != "connect" {
		t.Error("Calls or String out of range")
	}
}

func TestConfig(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := d.Config(), DefaultConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("zero config filled to %+v, want %+v", got, want)
	}
	if d.Thresholds() != DefaultFloors {
		t.Errorf("thresholds before learning %v, want the floors %v", d.Thresholds(), DefaultFloors)
	}
	c := Config{Floors: [NumClasses]uint32{ClassConnect: 7}}
	if d, _ := New(c); d.Config().Floors != [NumClasses]uint32{DefaultSpawnFloor, 7, DefaultOpenFloor} {
		t.Errorf("floors %v: each zero entry takes its default", d.Config().Floors)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"mode", Config{Mode: 3}},
		{"factor below 1", Config{Factor: 0.5}},
		{"factor above max", Config{Factor: MaxFactor + 1}},
		{"factor NaN", Config{Factor: math.NaN()}},
		{"negative groups", Config{MaxGroups: -1}},
		{"too many groups", Config{MaxGroups: MaxGroups + 1}},
		{"negative delay", Config{DelayBase: -1}},
		{"negative delay max", Config{DelayMax: -1}},
	} {
		if _, err := New(tc.cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", tc.name, err)
		}
	}
	if err := d.SetMode(4); !errors.Is(err, ErrConfig) {
		t.Errorf("SetMode(4) = %v", err)
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{ModeLearn, ModeObserve, ModeEnforce} {
		if got, err := ParseMode(m.String()); err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m, got, err)
		}
	}
	if _, err := ParseMode("auto"); !errors.Is(err, ErrConfig) {
		t.Errorf("ParseMode(auto) = %v", err)
	}
	if Mode(9).String() != "mode?" {
		t.Error("String out of range")
	}
}

// TestLearnPeaks: learn mode records the highest one-second count of any
// group per class, and decides nothing.
func TestLearnPeaks(t *testing.T) {
	d, _ := New(Config{})
	trace := serverTrace(1, 60)
	if got := feed(d, events(trace)); len(got) != 0 {
		t.Fatalf("learn mode decided: %+v", got[0])
	}
	// Count the trace's peaks independently.
	var want [NumClasses]uint32
	counts := map[[2]int64]*[NumClasses]uint32{}
	for _, c := range trace {
		tag := table[c.sysno]
		if tag == tagNone || tag == tagExitGroup {
			continue
		}
		k := [2]int64{int64(c.pid), int64(c.at / time.Second)}
		if counts[k] == nil {
			counts[k] = new([NumClasses]uint32)
		}
		counts[k][tag-1]++
		want[tag-1] = max(want[tag-1], counts[k][tag-1])
	}
	if d.Peaks() != want {
		t.Fatalf("peaks %v, want %v", d.Peaks(), want)
	}
	if want[ClassSpawn] != 2 || want[ClassOpen] < 400 || want[ClassConnect] < 20 {
		t.Errorf("the trace is not what the tests assume: peaks %v", want)
	}
	th := d.Thresholds()
	if th[ClassSpawn] != DefaultSpawnFloor || th[ClassOpen] != DefaultOpenFloor {
		t.Errorf("thresholds %v: a server's peaks x4 stay under the floors", th)
	}
	if s := d.Stats(); s.Groups != 2 || s.Calls == 0 || s.Decisions != [4]uint64{} {
		t.Errorf("stats %+v", s)
	}
}

// TestBenignAfterLearning: another minute of the same server, with a
// different mix, gives no decision in enforce mode, nor does the learning
// minute replayed.
func TestBenignAfterLearning(t *testing.T) {
	for _, mode := range []Mode{ModeObserve, ModeEnforce} {
		cfg := DefaultConfig()
		cfg.Mode = mode
		d := learned(t, cfg)
		peaks := d.Peaks()
		for seed := lcg(2); seed < 6; seed++ {
			trace := shift(serverTrace(seed, 60), time.Duration(seed)*time.Hour)
			if got := feed(d, events(trace)); len(got) != 0 {
				t.Fatalf("%v, seed %d: %d decisions, first %+v", mode, seed, len(got), got[0])
			}
		}
		if d.Peaks() != peaks {
			t.Errorf("%v: peaks changed outside learn mode", mode)
		}
	}
}

// clientTrace is a busy client (PID 400): perSecond connections a second
// (socket and connect each), for seconds seconds.
func clientTrace(seconds, perSecond int) []call {
	var out []call
	for i := range seconds * perSecond {
		t := at(i, perSecond)
		out = append(out, call{t, 400, 400, sysSocket}, call{t, 400, 400, sysConnect})
	}
	return out
}

// TestLearningRaisesThresholds: a client whose steady rate is over the
// connect floor is flagged untrained, and not once its peak is learnt;
// four times its rate is flagged again.
func TestLearningRaisesThresholds(t *testing.T) {
	busy := events(clientTrace(10, 300)) // 600 calls a second
	d, _ := New(enforce())
	if got := feed(d, busy); len(got) != 10 || got[0].Action != agent.ActDeny {
		t.Fatalf("untrained: %d decisions, want one deny a second", len(got))
	}
	d, _ = New(Config{})
	feed(d, busy)
	if d.Peaks()[ClassConnect] != 600 || d.Thresholds()[ClassConnect] != 2400 {
		t.Fatalf("peaks %v thresholds %v", d.Peaks(), d.Thresholds())
	}
	d.SetMode(ModeEnforce)
	if got := feed(d, events(shift(clientTrace(10, 300), time.Hour))); len(got) != 0 {
		t.Fatalf("trained: %+v", got[0])
	}
	got := feed(d, events(shift(clientTrace(1, 1300), 2*time.Hour)))
	if len(got) != 1 || got[0].Reason != "connect: 2401 calls in 1s, threshold 2400 (peak 600 x 4, floor 500)" {
		t.Fatalf("four times the peak: %+v", got)
	}
}

// TestForkBomb: thousands of clone calls a second from one group, while
// the server runs, give one kill a second for that group, with a delay for
// the quorum's fallback.
func TestForkBomb(t *testing.T) {
	d := learned(t, enforce())
	peak := d.Peaks()[ClassSpawn]
	trace := append(serverTrace(7, 3), forkBomb(time.Second, 2, 5000)...)
	slices.SortStableFunc(trace, func(a, b call) int { return int(a.at - b.at) })
	trace = shift(trace, time.Hour)
	got := feed(d, events(trace))
	if len(got) != 2 {
		t.Fatalf("%d decisions, want one per second of the bomb: %+v", len(got), got)
	}
	for i, dec := range got {
		want := agent.Decision{
			Agent:     Name,
			Container: testContainer,
			PID:       200,
			TID:       200,
			Action:    agent.ActKill,
			Delay:     time.Duration(float64(DefaultDelayBase) * 201 / 200),
			Score:     201.0 / 400,
			Reason:    "spawn: 201 calls in 1s, threshold 200 (peak 2 x 4, floor 200)",
			Evidence:  []string{"spawn=201", "connect=0", "open=0", "tid=200"},
		}
		if peak != 2 {
			t.Fatalf("peak %d: the server's health check should give 2", peak)
		}
		if !reflect.DeepEqual(dec, want) {
			t.Errorf("decision %d:\n got %+v\nwant %+v", i, dec, want)
		}
	}
	if s := d.Stats(); s.Decisions[agent.ActKill] != 2 {
		t.Errorf("stats %+v", s)
	}
	g, ok := d.Group(testContainer, 200)
	if !ok || g.Counts[ClassSpawn] != 5000 || g.Second != (t0+int64(time.Hour+2*time.Second))/int64(time.Second) {
		t.Errorf("group %+v", g)
	}
}

// TestPortScan: a connect flood is denied, and its delay grows with the
// count over the threshold (one event folding many calls).
func TestPortScan(t *testing.T) {
	d := learned(t, enforce())
	got := feed(d, events(shift(portScan(0, 2000), time.Hour)))
	if len(got) != 1 || got[0].Action != agent.ActDeny || got[0].PID != 300 || got[0].Delay != DefaultDelayBase*501/500 {
		t.Fatalf("decisions %+v", got)
	}
	if !strings.HasPrefix(got[0].Reason, "connect: 501 calls in 1s, threshold 500 (peak ") {
		t.Errorf("reason %q", got[0].Reason)
	}
	// A folded event of 65,536 calls: no delay by default; score capped
	// at 1.
	ev := events([]call{{2 * time.Hour, 301, 301, sysConnect}})[0]
	ev.Repeats = 65535
	got = d.Handle(&ev, nil)
	if len(got) != 1 || got[0].Delay != 0 || got[0].Score != 1 {
		t.Fatalf("folded: %+v", got)
	}
	// With a delay base: 10ms * 65536/500, capped at DelayMax (1s).
	cfg := enforce()
	cfg.DelayBase = 10 * time.Millisecond
	d2 := learned(t, cfg)
	ev.Time += int64(time.Hour)
	if got = d2.Handle(&ev, nil); len(got) != 1 || got[0].Delay != DefaultDelayMax {
		t.Fatalf("folded, delay base 10ms: %+v", got)
	}
}

// TestObserve: observe mode only records, saying what enforce would do.
func TestObserve(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Mode = ModeObserve
	d := learned(t, cfg)
	got := feed(d, events(shift(forkBomb(0, 1, 3000), time.Hour)))
	if len(got) != 1 {
		t.Fatalf("%d decisions", len(got))
	}
	dec := got[0]
	if dec.Action != agent.ActRecord || dec.Delay != 0 ||
		dec.Reason != "observe: would kill: spawn: 201 calls in 1s, threshold 200 (peak 2 x 4, floor 200)" {
		t.Errorf("decision %+v", dec)
	}
	if s := d.Stats(); s.Decisions != [4]uint64{agent.ActRecord: 1} {
		t.Errorf("stats %+v", s)
	}
}

// TestTimeOrder: a call timed before its group's current second counts in
// that second; events of no kind or of other kinds are ignored.
func TestTimeOrder(t *testing.T) {
	d, _ := New(enforce())
	evs := events([]call{{1500 * time.Millisecond, 5, 5, sysOpenat}, {900 * time.Millisecond, 5, 6, sysOpenat}})
	feed(d, evs)
	g, _ := d.Group(testContainer, 5)
	if g.Second != t0/int64(time.Second)+1 || g.Counts[ClassOpen] != 2 {
		t.Errorf("group %+v", g)
	}
	fault := evs[0]
	fault.Kind = event.KindFault
	d.Handle(&fault, nil)
	big := evs[0]
	big.Sysno = 1 << 20
	d.Handle(&big, nil)
	if g2, _ := d.Group(testContainer, 5); g2 != g || d.Stats().Calls != 2 {
		t.Errorf("ignored events counted: %+v", g2)
	}
}

// TestExitGroupForgets: exit_group drops the group's counts, so that a
// later group with the same PID starts from zero.
func TestExitGroupForgets(t *testing.T) {
	d, _ := New(enforce())
	feed(d, events(forkBomb(0, 1, 150)))
	if _, ok := d.Group(testContainer, 200); !ok {
		t.Fatal("group not counted")
	}
	exit := events([]call{{500 * time.Millisecond, 200, 201, sysExitGroup}})
	feed(d, exit)
	if _, ok := d.Group(testContainer, 200); ok {
		t.Fatal("exit_group did not forget the group")
	}
	if s := d.Stats(); s.Groups != 0 || s.Exited != 1 {
		t.Errorf("stats %+v", s)
	}
	// The PID reused in the same second: 150 more calls stay under 200.
	if got := feed(d, events(shift(forkBomb(0, 1, 150), 600*time.Millisecond))); len(got) != 0 {
		t.Errorf("reused PID inherited counts: %+v", got)
	}
	feed(d, exit) // the reused PID's group exits too
	if s := d.Stats(); s.Exited != 2 || s.Groups != 0 {
		t.Errorf("stats %+v", s)
	}
	if d.Forget(testContainer, 200) {
		t.Error("Forget of an unknown group")
	}
}

// TestEviction: a full table evicts a group not seen since the CLOCK hand
// last passed it.
func TestEviction(t *testing.T) {
	cfg := enforce()
	cfg.MaxGroups = 4
	d, _ := New(cfg)
	touch := func(pid int32) { feed(d, events([]call{{0, pid, pid, sysOpenat}})) }
	for pid := int32(1); pid <= 4; pid++ {
		touch(pid)
	}
	touch(5) // the hand clears every reference bit, then takes group 1
	touch(2) // group 2 is referenced again
	touch(6) // the hand passes 2 (clearing it) and takes 3
	var have []int32
	for pid := int32(1); pid <= 6; pid++ {
		if _, ok := d.Group(testContainer, pid); ok {
			have = append(have, pid)
		}
	}
	if !slices.Equal(have, []int32{2, 4, 5, 6}) {
		t.Errorf("groups %v, want [2 4 5 6]", have)
	}
	if s := d.Stats(); s.Groups != 4 || s.Evicted != 2 {
		t.Errorf("stats %+v", s)
	}
}

// TestIdle: Tick forgets groups idle for IdleTimeout, to the second.
func TestIdle(t *testing.T) {
	cfg := enforce()
	cfg.IdleTimeout = time.Minute
	d, _ := New(cfg)
	feed(d, events([]call{{0, 1, 1, sysOpenat}, {30 * time.Second, 2, 2, sysOpenat}}))
	d.Tick(time.Unix(0, t0+int64(61*time.Second)), nil)
	if _, ok := d.Group(testContainer, 1); ok {
		t.Error("group 1 idle for 61s was kept")
	}
	if _, ok := d.Group(testContainer, 2); !ok {
		t.Error("group 2 idle for 31s was forgotten")
	}
	if s := d.Stats(); s.Expired != 1 || s.Groups != 1 {
		t.Errorf("stats %+v", s)
	}
	cfg.IdleTimeout = -1
	d, _ = New(cfg)
	feed(d, events([]call{{0, 1, 1, sysOpenat}}))
	d.Tick(time.Unix(0, t0+int64(24*time.Hour)), nil)
	if d.Stats().Groups != 1 {
		t.Error("IdleTimeout < 0 forgot a group")
	}
}

// TestSetPeaks: peaks saved from one detector give another the same
// thresholds and decisions.
func TestSetPeaks(t *testing.T) {
	a, _ := New(Config{})
	feed(a, events(clientTrace(3, 300)))
	a.SetMode(ModeEnforce)
	b, _ := New(enforce())
	b.SetPeaks(a.Peaks())
	if a.Thresholds() != b.Thresholds() {
		t.Fatalf("thresholds %v and %v", a.Thresholds(), b.Thresholds())
	}
	scan := events(shift(portScan(0, 2000), time.Hour))
	if ga, gb := feed(a, scan), feed(b, scan); !reflect.DeepEqual(ga, gb) || len(ga) != 1 {
		t.Errorf("decisions differ:\n%+v\n%+v", ga, gb)
	}
}

// TestSnapshotRestore: a restored detector goes on exactly as the
// original, the snapshot is a deep copy, and can be restored twice.
func TestSnapshotRestore(t *testing.T) {
	d := learned(t, enforce())
	trace := append(serverTrace(9, 2), forkBomb(0, 2, 1000)...)
	slices.SortStableFunc(trace, func(a, b call) int { return int(a.at - b.at) })
	evs := events(shift(trace, time.Hour))
	half := len(evs) / 2
	feed(d, evs[:half])
	snap := d.Snapshot()
	want := feed(d, evs[half:])
	wantStats, wantPeaks := d.Stats(), d.Peaks()
	if len(want) == 0 {
		t.Fatal("the second half decides nothing; the test needs a decision")
	}
	for range 2 {
		if err := d.Restore(snap); err != nil {
			t.Fatal(err)
		}
		got := feed(d, evs[half:])
		if !reflect.DeepEqual(got, want) || d.Stats() != wantStats || d.Peaks() != wantPeaks {
			t.Fatalf("after restore: %d decisions, stats %+v; want %d, %+v", len(got), d.Stats(), len(want), wantStats)
		}
	}
	// A fresh detector restored from the snapshot is the same too.
	e, _ := New(Config{})
	if err := e.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if got := feed(e, evs[half:]); !reflect.DeepEqual(got, want) || e.Mode() != ModeEnforce {
		t.Fatal("a fresh detector restored differs")
	}
	for _, bad := range []any{nil, 3, (*snapshot)(nil)} {
		if err := d.Restore(bad); !errors.Is(err, ErrSnapshot) {
			t.Errorf("Restore(%T) = %v", bad, err)
		}
	}
}

// TestHandleDoesNotAllocate: calls that decide nothing allocate nothing,
// in every mode, whether counted or not.
func TestHandleDoesNotAllocate(t *testing.T) {
	for _, mode := range []Mode{ModeLearn, ModeObserve, ModeEnforce} {
		cfg := DefaultConfig()
		cfg.Mode = mode
		d := learned(t, cfg)
		evs := events(shift(serverTrace(3, 2), time.Hour))
		feed(d, evs) // the groups are known
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

// benchEvents are counted calls (openat) of 64 known groups, in one
// second.
func benchEvents(sysno uint32) []event.Event {
	var calls []call
	for i := range 1024 {
		calls = append(calls, call{time.Duration(i) * time.Microsecond, int32(1000 + i%64), int32(1000 + i%64), sysno})
	}
	return events(calls)
}

func benchmarkHandle(b *testing.B, sysno uint32) {
	cfg := enforce()
	cfg.Floors[ClassOpen] = math.MaxUint32 // the replayed second never decides
	d, _ := New(cfg)
	evs := benchEvents(sysno)
	feed(d, evs)
	out := make([]agent.Decision, 0, 8)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		out = d.Handle(&evs[i%len(evs)], out[:0])
	}
}

// BenchmarkHandle: a counted call of a known group.
func BenchmarkHandle(b *testing.B) { benchmarkHandle(b, sysOpenat) }

// BenchmarkHandleOther: a call of no class (one table read).
func BenchmarkHandleOther(b *testing.B) { benchmarkHandle(b, sysRead) }
