package supervisor

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
)

// poison is the syscall number the test agents called bombs panic on.
const poison = 13

// counter counts the events it handles and says so in one decision per
// event. On its poison syscall it first corrupts its count and appends a
// decision (a restart must undo the one and discard the other), then
// panics. Its Tick panics, after appending a decision, on the tick numbers
// in bombs, counted across restarts in *ticks.
type counter struct {
	name   string
	poison uint32 // 0: never
	gen    int    // which call of New made it; 0 for the first instance
	n      int
	ticks  *int
	bombs  map[int]bool
}

func (c *counter) Name() string { return c.name }

func (c *counter) Handle(ev *event.Event, out []agent.Decision) []agent.Decision {
	if c.poison != 0 && ev.Sysno == c.poison {
		c.n = -1000
		out = append(out, agent.Decision{Agent: c.name, Reason: "poisoned"})
		panic("poisoned\n\tat the second line")
	}
	c.n++
	r := "n=" + strconv.Itoa(c.n)
	if c.gen > 0 {
		r += " gen=" + strconv.Itoa(c.gen)
	}
	return append(out, agent.Decision{Agent: c.name, Reason: r})
}

func (c *counter) Tick(now time.Time, out []agent.Decision) []agent.Decision {
	if c.ticks != nil {
		*c.ticks++
		if c.bombs[*c.ticks] {
			out = append(out, agent.Decision{Agent: c.name, Reason: "tick bomb"})
			panic("tick bomb")
		}
	}
	return out
}

// snapCounter is a counter whose snapshot is its count.
type snapCounter struct {
	*counter
	badRestore bool
	snapBomb   int // Snapshot panics once the count reaches it (0: never)
}

func (c *snapCounter) Snapshot() any {
	if c.snapBomb > 0 && c.n >= c.snapBomb {
		panic("snapshot bomb")
	}
	return c.n
}

func (c *snapCounter) Restore(snap any) error {
	n, ok := snap.(int)
	if !ok || c.badRestore {
		return errors.New("bad snapshot")
	}
	c.n = n
	return nil
}

func plain(name string, poison uint32) *counter { return &counter{name: name, poison: poison} }

func snapshotting(name string, poison uint32) *snapCounter {
	return &snapCounter{counter: plain(name, poison)}
}

// gens returns a New function for f's agents that numbers the instances it
// makes (gen=1, 2, ...).
func gens[A agent.Agent](f func(gen int) A) func() agent.Agent {
	gen := 0
	return func() agent.Agent {
		gen++
		return f(gen)
	}
}

var epoch = time.Unix(1_700_000_000, 0).UTC()

// run feeds a trace to s and returns its transcript. The trace is a list of
// tokens:
//
//	N   an event with syscall number N
//	+D  advance the fake clock *clk by the duration D, then Tick
//	?   the status of every child
//
// Each decision is a line "TOKEN: AGENT ACTION REASON"; each status a line
// "?: NAME STATE restarts=TOTAL/RECENT panics=P handled=H decisions=D
// last=LASTPANIC".
func run(t testing.TB, s *Supervisor, clk *time.Time, trace string) []string {
	t.Helper()
	var lines []string
	var out []agent.Decision
	for _, tok := range strings.Fields(trace) {
		out = out[:0]
		switch {
		case tok == "?":
			for _, cs := range s.Status() {
				lines = append(lines, statusLine(cs))
			}
		case tok[0] == '+':
			d, err := time.ParseDuration(tok[1:])
			if err != nil {
				t.Fatalf("token %q: %v", tok, err)
			}
			*clk = clk.Add(d)
			out = s.Tick(*clk, out)
		default:
			n, err := strconv.Atoi(tok)
			if err != nil {
				t.Fatalf("token %q: %v", tok, err)
			}
			out = s.Handle(&event.Event{Kind: event.KindSyscall, Sysno: uint32(n)}, out)
		}
		for _, d := range out {
			lines = append(lines, fmt.Sprintf("%s: %s %s %s", tok, d.Agent, d.Action, d.Reason))
		}
	}
	return lines
}

func statusLine(cs ChildStatus) string {
	return fmt.Sprintf("?: %s %s restarts=%d/%d panics=%d handled=%d decisions=%d last=%q",
		cs.Name, cs.State, cs.Restarts, cs.RecentRestarts, cs.Panics, cs.Handled, cs.Decisions, cs.LastPanic)
}

// traceCase is one table entry: children, a trace, and what it must give.
type traceCase struct {
	name     string
	cfg      Config
	specs    func() []Spec
	trace    string
	want     []string
	degraded bool
	stats    *Stats // checked when set
}

func (tc *traceCase) check(t *testing.T) {
	t.Helper()
	s, err := New(tc.cfg, tc.specs()...)
	if err != nil {
		t.Fatal(err)
	}
	clk := epoch
	got := run(t, s, &clk, tc.trace)
	if !slices.Equal(got, tc.want) {
		t.Errorf("transcript:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(tc.want, "\n\t"))
	}
	if s.Degraded() != tc.degraded {
		t.Errorf("Degraded() = %v, want %v", s.Degraded(), tc.degraded)
	}
	if tc.stats != nil && s.Stats() != *tc.stats {
		t.Errorf("Stats() = %+v\nwant       %+v", s.Stats(), *tc.stats)
	}
}

func TestRestartFromSnapshot(t *testing.T) {
	for _, tc := range []traceCase{{
		name:  "snapshot after every event",
		cfg:   Config{SnapshotEvery: 1},
		specs: func() []Spec { return []Spec{{Agent: snapshotting("c", poison)}} },
		trace: "+1s 1 2 3 13 4 5 ?",
		want: []string{
			"1: c record n=1",
			"2: c record n=2",
			"3: c record n=3",
			// 13 panicked: its decision is discarded, its corrupted
			// count undone, and it is not handed again.
			"4: c record n=4",
			"5: c record n=5",
			`?: c running restarts=1/1 panics=1 handled=5 decisions=5 last="Handle: poisoned"`,
		},
	}, {
		name:  "what came after the last snapshot is lost",
		cfg:   Config{SnapshotEvery: 2},
		specs: func() []Spec { return []Spec{{Agent: snapshotting("c", poison)}} },
		trace: "+1s 1 2 3 13 4 ?",
		want: []string{
			"1: c record n=1",
			"2: c record n=2", // snapshot: 2
			"3: c record n=3",
			"4: c record n=3", // resumed from 2
			`?: c running restarts=1/1 panics=1 handled=4 decisions=4 last="Handle: poisoned"`,
		},
	}, {
		name: "restored into a fresh instance from New",
		cfg:  Config{SnapshotEvery: 2},
		specs: func() []Spec {
			return []Spec{{
				Agent: snapshotting("c", poison),
				New: gens(func(gen int) *snapCounter {
					c := snapshotting("c", poison)
					c.gen = gen
					return c
				}),
			}}
		},
		trace: "+1s 1 2 3 13 4 5",
		want: []string{
			"1: c record n=1",
			"2: c record n=2",
			"3: c record n=3",
			"4: c record n=3 gen=1",
			"5: c record n=4 gen=1",
		},
	}, {
		name:  "snapshots on ticks only",
		cfg:   Config{SnapshotEvery: -1},
		specs: func() []Spec { return []Spec{{Agent: snapshotting("c", poison)}} },
		trace: "+1s 1 2 +1s 3 13 4",
		want: []string{
			"1: c record n=1",
			"2: c record n=2",
			"3: c record n=3",
			"4: c record n=3",
		},
	}, {
		name:  "snapshot taken when added, before any event or tick",
		cfg:   Config{SnapshotEvery: -1, SnapshotTicks: -1},
		specs: func() []Spec { return []Spec{{Agent: snapshotting("c", poison)}} },
		trace: "1 2 13 3 ?",
		want: []string{
			"1: c record n=1",
			"2: c record n=2",
			"3: c record n=1",
			`?: c running restarts=1/1 panics=1 handled=3 decisions=3 last="Handle: poisoned"`,
		},
	}, {
		name: "a panic in Tick discards the tick's decisions",
		cfg:  Config{SnapshotEvery: 1},
		specs: func() []Spec {
			c := snapshotting("c", 0)
			c.ticks, c.bombs = new(int), map[int]bool{2: true}
			return []Spec{{Agent: c}}
		},
		trace: "+1s 1 +1s 2 +1s ?",
		want: []string{
			"1: c record n=1",
			"2: c record n=2",
			`?: c running restarts=1/1 panics=1 handled=2 decisions=2 last="Tick: tick bomb"`,
		},
	}} {
		t.Run(tc.name, tc.check)
	}
}

func TestRestartFromNewAndFailures(t *testing.T) {
	fresh := func(policy Policy) func() []Spec {
		return func() []Spec {
			return []Spec{{Agent: plain("c", poison), Policy: policy, New: gens(func(gen int) *counter {
				c := plain("c", poison)
				c.gen = gen
				return c
			})}}
		}
	}
	// c cannot restart: no snapshot, no New. d runs on.
	stranded := func(policy Policy) func() []Spec {
		return func() []Spec {
			return []Spec{{Agent: plain("c", poison), Policy: policy}, {Agent: plain("d", 0), Policy: FailOpen}}
		}
	}
	for _, tc := range []traceCase{{
		name:  "fresh from New",
		specs: fresh(FailClosed),
		trace: "+1s 1 2 13 3 ?",
		want: []string{
			"1: c record n=1",
			"2: c record n=2",
			"3: c record n=1 gen=1",
			`?: c running restarts=1/1 panics=1 handled=3 decisions=3 last="Handle: poisoned"`,
		},
	}, {
		name:  "neither snapshot nor New, fail open: stopped",
		specs: stranded(FailOpen),
		trace: "+1s 1 13 2 ?",
		want: []string{
			"1: c record n=1",
			"1: d record n=1",
			"13: d record n=2",
			"2: d record n=3",
			`?: c stopped restarts=0/0 panics=1 handled=1 decisions=1 last="Handle: poisoned"`,
			`?: d running restarts=0/0 panics=0 handled=3 decisions=3 last=""`,
		},
	}, {
		name:  "neither snapshot nor New, fail closed: failed, one deny",
		specs: stranded(FailClosed),
		trace: "+1s 1 13 2 13 +1s ?",
		want: []string{
			"1: c record n=1",
			"1: d record n=1",
			`13: c deny enforcement agent "c" failed (no snapshot and no New to restart it from): the swarm fails closed, deny by default`,
			"13: d record n=2",
			"2: d record n=3",
			"13: d record n=4",
			`?: c failed restarts=0/0 panics=1 handled=1 decisions=1 last="Handle: poisoned"`,
			`?: d running restarts=0/0 panics=0 handled=4 decisions=4 last=""`,
		},
		degraded: true,
	}, {
		name: "New panics: restarting, tried again before the next input",
		specs: func() []Spec {
			return []Spec{{Agent: plain("c", poison), New: gens(func(gen int) *counter {
				if gen == 1 {
					panic("out of memory")
				}
				c := plain("c", poison)
				c.gen = gen
				return c
			})}}
		},
		trace: "+1s 1 13 ? 2 ?",
		want: []string{
			"1: c record n=1",
			`?: c restarting restarts=1/1 panics=1 handled=1 decisions=1 last="New: out of memory"`,
			"2: c record n=1 gen=2",
			`?: c running restarts=2/2 panics=1 handled=2 decisions=2 last="New: out of memory"`,
		},
		stats: &Stats{Events: 3, Ticks: 1, Decisions: 2, Panics: 1, Restarts: 2, RestartErrors: 1},
	}, {
		name: "snapshot that cannot be restored: fresh from New",
		specs: func() []Spec {
			return []Spec{{Agent: snapshotting("c", poison), New: gens(func(gen int) *snapCounter {
				c := snapshotting("c", poison)
				c.gen, c.badRestore = gen, true
				return c
			})}}
		},
		trace: "+1s 1 2 13 3",
		want: []string{
			"1: c record n=1",
			"2: c record n=2",
			"3: c record n=1 gen=2",
		},
		// Snapshots: when added, on the tick, after the restart.
		stats: &Stats{Events: 4, Ticks: 1, Decisions: 3, Panics: 1, Restarts: 1, RestoreErrors: 1, Snapshots: 3},
	}, {
		name: "New panics while a snapshot waits: restored into the next instance",
		specs: func() []Spec {
			return []Spec{{Agent: snapshotting("c", poison), New: gens(func(gen int) *snapCounter {
				if gen == 1 {
					panic("out of memory")
				}
				c := snapshotting("c", poison)
				c.gen = gen
				return c
			})}}
		},
		trace: "+1s 1 13 ? 2",
		want: []string{
			"1: c record n=1",
			`?: c restarting restarts=1/1 panics=1 handled=1 decisions=1 last="New: out of memory"`,
			"2: c record n=1 gen=2", // from the tick's snapshot, n=0
		},
		stats: &Stats{Events: 3, Ticks: 1, Decisions: 2, Panics: 1, Restarts: 2, RestartErrors: 1, Snapshots: 3},
	}, {
		name: "a Snapshot that panics keeps the previous snapshot",
		cfg:  Config{SnapshotEvery: 1},
		specs: func() []Spec {
			c := snapshotting("c", poison)
			c.snapBomb = 2
			return []Spec{{Agent: c}}
		},
		trace: "+1s 1 2 3 13 4 ?",
		want: []string{
			"1: c record n=1",
			"2: c record n=2",
			"3: c record n=3",
			"4: c record n=2", // from the snapshot after 1
			`?: c running restarts=1/1 panics=1 handled=4 decisions=4 last="Snapshot: snapshot bomb"`,
		},
		// Snapshots: when added, on the tick, after 1, after the restart;
		// the ones after 2, 3 and 4 panicked.
		stats: &Stats{Events: 5, Ticks: 1, Decisions: 4, Panics: 1, Restarts: 1, Snapshots: 4, SnapshotErrors: 3},
	}} {
		t.Run(tc.name, tc.check)
	}
}

func TestIntensity(t *testing.T) {
	// b panics on poison; g never panics.
	pair := func(policy Policy) func() []Spec {
		return func() []Spec {
			return []Spec{{Agent: snapshotting("b", poison), Policy: policy}, {Agent: plain("g", 0)}}
		}
	}
	alone := func() []Spec { return []Spec{{Agent: snapshotting("b", poison), Policy: FailOpen}} }
	for _, tc := range []traceCase{{
		name:  "fail open: stopped at intensity+1, the others run on",
		cfg:   Config{Intensity: 2},
		specs: pair(FailOpen),
		trace: "+1s 1 13 13 ? 13 ? 2 +1s 3",
		want: []string{
			"1: b record n=1",
			"1: g record n=1",
			"13: g record n=2",
			"13: g record n=3",
			`?: b running restarts=2/2 panics=2 handled=1 decisions=1 last="Handle: poisoned"`,
			`?: g running restarts=0/0 panics=0 handled=3 decisions=3 last=""`,
			"13: g record n=4",
			`?: b stopped restarts=2/2 panics=3 handled=1 decisions=1 last="Handle: poisoned"`,
			`?: g running restarts=0/0 panics=0 handled=4 decisions=4 last=""`,
			"2: g record n=5",
			"3: g record n=6",
		},
		stats: &Stats{Events: 6, Ticks: 2, Decisions: 7, Panics: 3, Restarts: 2, Snapshots: 4, Stopped: 1},
	}, {
		name:  "fail closed: failed at intensity+1, one deny, degraded",
		cfg:   Config{Intensity: 2},
		specs: pair(FailClosed),
		trace: "+1s 1 13 13 ? 13 ? 2 +1s 3 13",
		want: []string{
			"1: b record n=1",
			"1: g record n=1",
			"13: g record n=2",
			"13: g record n=3",
			`?: b running restarts=2/2 panics=2 handled=1 decisions=1 last="Handle: poisoned"`,
			`?: g running restarts=0/0 panics=0 handled=3 decisions=3 last=""`,
			`13: b deny enforcement agent "b" failed (more than 2 restarts within 10s): the swarm fails closed, deny by default`,
			"13: g record n=4",
			`?: b failed restarts=2/2 panics=3 handled=1 decisions=1 last="Handle: poisoned"`,
			`?: g running restarts=0/0 panics=0 handled=4 decisions=4 last=""`,
			"2: g record n=5",
			"3: g record n=6",
			"13: g record n=7",
		},
		degraded: true,
		stats:    &Stats{Events: 7, Ticks: 2, Decisions: 8, Panics: 3, Restarts: 2, Snapshots: 4, Failed: 1},
	}, {
		name:  "the default intensity is 5 within 10s",
		specs: alone,
		trace: "+1s 13 13 13 13 13 ? 13 ?",
		want: []string{
			`?: b running restarts=5/5 panics=5 handled=0 decisions=0 last="Handle: poisoned"`,
			`?: b stopped restarts=5/5 panics=6 handled=0 decisions=0 last="Handle: poisoned"`,
		},
	}, {
		name:  "panics spread over more than the period never exceed the intensity",
		cfg:   Config{Intensity: 2},
		specs: alone,
		trace: "+1s 13 +6s 13 +6s 13 ? +6s 13 +6s 13 +6s 13 ? +11s ?",
		want: []string{
			`?: b running restarts=3/2 panics=3 handled=0 decisions=0 last="Handle: poisoned"`,
			`?: b running restarts=6/2 panics=6 handled=0 decisions=0 last="Handle: poisoned"`,
			`?: b running restarts=6/0 panics=6 handled=0 decisions=0 last="Handle: poisoned"`,
		},
	}, {
		name:  "a restart exactly one period ago still counts, as in OTP",
		cfg:   Config{Intensity: 1, Period: 10 * time.Second},
		specs: alone,
		trace: "+1s 13 +10s 13 ?",
		want: []string{
			`?: b stopped restarts=1/1 panics=2 handled=0 decisions=0 last="Handle: poisoned"`,
		},
	}, {
		name:  "one nanosecond later it no longer does",
		cfg:   Config{Intensity: 1, Period: 10 * time.Second},
		specs: alone,
		trace: "+1s 13 +10.000000001s 13 ?",
		want: []string{
			`?: b running restarts=2/1 panics=2 handled=0 decisions=0 last="Handle: poisoned"`,
		},
	}, {
		name:  "negative intensity: no restarts",
		cfg:   Config{Intensity: -1},
		specs: alone,
		trace: "+1s 1 13 2 ?",
		want: []string{
			"1: b record n=1",
			`?: b stopped restarts=0/0 panics=1 handled=1 decisions=1 last="Handle: poisoned"`,
		},
	}} {
		t.Run(tc.name, tc.check)
	}
}

// mixed returns a swarm with every kind of child: an enforcement agent with
// snapshots that panics on events and ticks, an advisory one restarted from
// New, and a healthy one.
func mixed() []Spec {
	rules := snapshotting("rules", poison)
	rules.ticks, rules.bombs = new(int), map[int]bool{3: true, 40: true}
	return []Spec{
		{Agent: rules, Policy: FailClosed},
		{Agent: plain("model", 7), Policy: FailOpen, New: gens(func(gen int) *counter {
			c := plain("model", 7)
			c.gen = gen
			return c
		})},
		{Agent: plain("rate", 0), Policy: FailOpen},
	}
}

// randomTrace returns a trace of n tokens drawn from a fixed seed.
func randomTrace(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for range n {
		switch x := r.IntN(100); {
		case x < 10:
			fmt.Fprintf(&b, "+%dms ", r.IntN(500))
		case x < 13:
			b.WriteString("? ")
		default:
			fmt.Fprintf(&b, "%d ", 1+r.IntN(60))
		}
	}
	return b.String()
}

func TestDeterminism(t *testing.T) {
	trace := randomTrace(5000)
	type result struct {
		lines    []string
		status   []ChildStatus
		stats    Stats
		degraded bool
	}
	once := func() result {
		s, err := New(Config{SnapshotEvery: 8}, mixed()...)
		if err != nil {
			t.Fatal(err)
		}
		clk := epoch
		lines := run(t, s, &clk, trace)
		return result{lines, s.Status(), s.Stats(), s.Degraded()}
	}
	a, b := once(), once()
	if !reflect.DeepEqual(a, b) {
		for i := range min(len(a.lines), len(b.lines)) {
			if a.lines[i] != b.lines[i] {
				t.Fatalf("runs differ at line %d:\n\t%s\n\t%s", i, a.lines[i], b.lines[i])
			}
		}
		t.Fatalf("runs differ:\n%+v\n%+v", a.status, b.status)
	}
	// The trace must have exercised the supervisor.
	if a.stats.Panics == 0 || a.stats.Restarts == 0 || a.stats.Snapshots == 0 || a.stats.Stopped+a.stats.Failed == 0 {
		t.Errorf("trace too tame: %+v", a.stats)
	}
	denies := 0
	for _, l := range a.lines {
		if strings.Contains(l, " deny ") {
			denies++
		}
	}
	if want := int(a.stats.Failed); denies != want {
		t.Errorf("%d deny decisions, want one per failed child (%d)", denies, want)
	}
	t.Logf("%d lines; stats %+v; degraded %v", len(a.lines), a.stats, a.degraded)
	for _, cs := range a.status {
		t.Log(statusLine(cs))
	}
}

func TestConfigAndSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		specs []Spec
		want  error
	}{
		{"negative period", Config{Period: -time.Second}, nil, ErrConfig},
		{"intensity too high", Config{Intensity: MaxIntensity + 1}, nil, ErrConfig},
		{"no agent", Config{}, []Spec{{New: func() agent.Agent { return plain("c", 0) }}}, ErrNoAgent},
		{"unknown policy", Config{}, []Spec{{Agent: plain("c", 0), Policy: 2}}, ErrPolicy},
		{"duplicate name", Config{}, []Spec{{Agent: plain("c", 0)}, {Agent: plain("c", 0)}}, ErrDuplicate},
	} {
		if _, err := New(tc.cfg, tc.specs...); !errors.Is(err, tc.want) {
			t.Errorf("%s: New = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestInvalidTransitionPanics(t *testing.T) {
	defer func() {
		var te *TransitionError
		if err, _ := recover().(error); !errors.As(err, &te) || te.From != Failed || te.To != Running {
			t.Errorf("recovered %v, want a TransitionError from failed to running", err)
		}
	}()
	c := &child{name: "x", state: Failed}
	c.to(Running)
}

func TestPanicMessage(t *testing.T) {
	long := "x" + strings.Repeat("é", maxPanicLen) // the cut at maxPanicLen falls inside an é
	for _, tc := range []struct {
		p    any
		want string
	}{
		{"boom", "Handle: boom"},
		{"first\nsecond", "Handle: first"},
		{errors.New("an error"), "Handle: an error"},
		{long, "Handle: " + long[:maxPanicLen-1]},
	} {
		if got := panicMessage("Handle", tc.p); got != tc.want {
			t.Errorf("panicMessage(%.20q) = %.40q, want %.40q", tc.p, got, tc.want)
		}
	}
	// panic(nil) is recovered as a non-nil *runtime.PanicNilError.
	s, err := New(Config{}, Spec{Agent: nilPanicker{}, Policy: FailOpen})
	if err != nil {
		t.Fatal(err)
	}
	s.Handle(&event.Event{}, nil)
	if st := s.Status()[0]; st.State != Stopped || !strings.HasPrefix(st.LastPanic, "Handle: panic called with nil") {
		t.Errorf("status after panic(nil): %+v", st)
	}
}

type nilPanicker struct{}

func (nilPanicker) Name() string { return "nil" }
func (nilPanicker) Handle(*event.Event, []agent.Decision) []agent.Decision {
	panic(nil)
}
func (nilPanicker) Tick(_ time.Time, out []agent.Decision) []agent.Decision { return out }

// nop is a trivial agent; with decide set it makes one decision per event.
type nop struct {
	name   string
	decide bool
	n      int
}

func (a *nop) Name() string { return a.name }
func (a *nop) Handle(ev *event.Event, out []agent.Decision) []agent.Decision {
	a.n++
	if a.decide {
		out = append(out, agent.Decision{Agent: a.name, Container: ev.Container, PID: ev.PID, Reason: "seen"})
	}
	return out
}
func (a *nop) Tick(_ time.Time, out []agent.Decision) []agent.Decision { return out }

// snapNop is a nop with snapshots.
type snapNop struct{ nop }

func (a *snapNop) Snapshot() any { return a.n }
func (a *snapNop) Restore(s any) error {
	a.n = s.(int)
	return nil
}

func fourTrivial(tb testing.TB, snapshots bool) *Supervisor {
	specs := make([]Spec, 4)
	for i := range specs {
		n := nop{name: "nop" + strconv.Itoa(i), decide: i%2 == 0}
		if snapshots {
			specs[i] = Spec{Agent: &snapNop{n}}
		} else {
			specs[i] = Spec{Agent: &n}
		}
	}
	s, err := New(Config{}, specs...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestHandleDoesNotAllocate(t *testing.T) {
	s := fourTrivial(t, false)
	ev := &event.Event{Kind: event.KindSyscall, Sysno: 1}
	out := make([]agent.Decision, 0, 8)
	now := epoch
	if allocs := testing.AllocsPerRun(1000, func() {
		out = s.Handle(ev, out[:0])
		now = now.Add(time.Millisecond)
		out = s.Tick(now, out[:0])
	}); allocs != 0 {
		t.Errorf("Handle+Tick allocate %v times per call, want 0", allocs)
	}
	if len(out) != 0 || s.Status()[0].Decisions != 1001 {
		t.Errorf("unexpected work: %v %+v", out, s.Status()[0])
	}
}

func BenchmarkHandle(b *testing.B) {
	for _, bc := range []struct {
		name      string
		snapshots bool
	}{{"4-trivial", false}, {"4-trivial-snapshot-every-256", true}} {
		b.Run(bc.name, func(b *testing.B) {
			s := fourTrivial(b, bc.snapshots)
			ev := &event.Event{Kind: event.KindSyscall, Sysno: 1}
			out := make([]agent.Decision, 0, 8)
			b.ReportAllocs()
			for b.Loop() {
				out = s.Handle(ev, out[:0])
			}
		})
	}
}

func TestInject(t *testing.T) {
	s, err := New(Config{}, Spec{Agent: snapshotting("open", 0), Policy: FailOpen}, Spec{Agent: snapshotting("closed", 0), Policy: FailClosed})
	if err != nil {
		t.Fatal(err)
	}
	ev := &event.Event{Kind: event.KindSyscall}
	s.Tick(time.Unix(1, 0), nil)
	if _, err := s.Inject("open", false, nil); err != nil {
		t.Fatal(err)
	}
	s.Handle(ev, nil) // the injected panic, recovered and restarted
	st := s.Status()
	if st[0].State != Running || st[0].Panics != 1 || st[0].Restarts != 1 || st[0].LastPanic == "" {
		t.Errorf("after an injected panic: %+v", st[0])
	}
	if out, err := s.Inject("open", true, nil); err != nil || len(out) != 0 || s.Status()[0].State != Stopped || s.Degraded() {
		t.Errorf("stopping a fail-open child: %v, %v, %+v, degraded %v", out, err, s.Status()[0], s.Degraded())
	}
	out, err := s.Inject("closed", true, nil)
	if err != nil || len(out) != 1 || out[0].Action != agent.ActDeny || s.Status()[1].State != Failed || !s.Degraded() {
		t.Errorf("stopping a fail-closed child: %v, %v, %+v, degraded %v", out, err, s.Status()[1], s.Degraded())
	}
	if _, err := s.Inject("open", false, nil); err == nil {
		t.Error("injecting into a stopped child: no error")
	}
	if _, err := s.Inject("nosuch", false, nil); !errors.Is(err, ErrNoChild) {
		t.Errorf("injecting into an unknown child: %v", err)
	}
}
