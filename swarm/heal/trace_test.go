package heal

import (
	"bufio"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/restart"
)

// A trace is a text file of what the sentry hands the agent, one item a
// line; blank lines and lines starting with "#" are comments:
//
//	T_MS CONTAINER PID COMM exit CODE    init reaped PID, which exited with CODE
//	T_MS CONTAINER PID COMM kill SIGNAL  init reaped PID, killed by SIGNAL
//	tick T_MS                            the driver's Tick
//
// T_MS is milliseconds after the trace's start (t0), CONTAINER the
// container's slot, COMM the command name. The replay ticks to each
// event's time before handling it, as the driver does.
type traceItem struct {
	tick bool
	ev   event.Event
}

func readTrace(t *testing.T, path string) []traceItem {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []traceItem
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fs := strings.Fields(line)
		bad := func(err error) { t.Fatalf("%s:%d: bad line %q: %v", path, n, line, err) }
		if fs[0] == "tick" {
			if len(fs) != 2 {
				bad(nil)
			}
			ms, err := strconv.ParseInt(fs[1], 10, 64)
			if err != nil {
				bad(err)
			}
			out = append(out, traceItem{tick: true, ev: event.Event{Time: t0 + ms*int64(time.Millisecond)}})
			continue
		}
		if len(fs) != 6 || (fs[4] != "exit" && fs[4] != "kill") {
			bad(nil)
		}
		var v [4]int64
		for i, j := range []int{0, 1, 2, 5} {
			if v[i], err = strconv.ParseInt(fs[j], 10, 64); err != nil {
				bad(err)
			}
		}
		out = append(out, traceItem{ev: exitEvent(v[0], uint32(v[1]), int32(v[2]), fs[3], fs[4] == "exit", uint64(v[3]))})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// replayTrace feeds a trace to a and returns the decisions' reasons.
func replayTrace(a *Agent, trace []traceItem) []string {
	var reasons []string
	for i := range trace {
		it := &trace[i]
		out := a.Tick(time.Unix(0, it.ev.Time), nil)
		if !it.tick {
			out = a.Handle(&it.ev, out)
		}
		for _, d := range out {
			reasons = append(reasons, d.Reason)
		}
	}
	return reasons
}

// TestTraceCrashLoop replays testdata/crashloop.trace: main crash-loops
// and is given up after its intensity (3 restarts within 10s), which ends
// the container (init stops the worker); the worker is restarted on its
// own meanwhile; in another container a service crashes and is restarted
// while main runs on; the orphans are counted, never restarted.
func TestTraceCrashLoop(t *testing.T) {
	p := func(m restart.Mode) restart.Policy {
		return restart.Policy{Mode: m, BackoffFirst: 100 * time.Millisecond, BackoffMax: time.Second, MaxRestarts: 3, Window: 10 * time.Second}
	}
	cfgs := map[uint32]ContainerConfig{
		1: {Main: "server", MainPolicy: p(restart.OnFailure), Services: []Service{
			{Name: "worker", Comm: "worker", Policy: p(restart.Always)},
			{Name: "cron", Comm: "crond", Policy: p(restart.OnFailure)},
		}},
		2: {Main: "nginx", MainPolicy: p(restart.Always), Services: []Service{
			{Name: "exporter", Comm: "exporter", Policy: p(restart.OnFailure)},
		}},
	}
	a := New()
	for slot, cfg := range cfgs {
		if err := a.AddContainer(slot, cfg); err != nil {
			t.Fatal(err)
		}
	}
	trace := readTrace(t, "testdata/crashloop.trace")
	got := replayTrace(a, trace)
	want := []string{
		"main (pid 7) exited with status 1: restart 1 in 100ms",
		"exporter (pid 31) killed by SIGSEGV: restart 1 in 100ms",
		"main (pid 10) exited with status 1: restart 2 in 200ms",
		"worker (pid 9) killed by SIGSEGV: restart 1 in 100ms",
		"main (pid 11) exited with status 1: restart 3 in 400ms",
		"worker (pid 13) exited with status 2: restart 2 in 200ms",
		"main (pid 12) killed by SIGABRT: 3 restarts within 10s: giving up",
		"worker (pid 14) killed by SIGTERM: not restarted: stopping",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decisions:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	pol := "on-failure, backoff 100ms..1s, intensity 3/10s"
	wantStatus := Status{Containers: []ContainerStatus{
		{Slot: 1, Finished: true, Orphans: 2, Processes: []ProcessStatus{
			{Name: "main", Comm: "server", Policy: pol, Exits: 4, Restarts: 3, LastCause: "killed by SIGABRT", LastExit: ms(3000), LastPID: 12, State: "given-up"},
			{Name: "worker", Comm: "worker", Policy: "always" + pol[len("on-failure"):], Exits: 3, Restarts: 2, LastCause: "killed by SIGTERM", LastExit: ms(3100), LastPID: 14, State: "done"},
			{Name: "cron", Comm: "crond", Policy: pol, State: "running"},
		}},
		{Slot: 2, Processes: []ProcessStatus{
			{Name: "main", Comm: "nginx", Policy: "always" + pol[len("on-failure"):], State: "running"},
			{Name: "exporter", Comm: "exporter", Policy: pol, Exits: 1, Restarts: 1, LastCause: "killed by SIGSEGV", LastExit: ms(1200), LastPID: 31, State: "running"},
		}},
	}}
	if st := a.Status(); !reflect.DeepEqual(st, wantStatus) {
		t.Errorf("status:\n%+v\nwant\n%+v", st, wantStatus)
	}
	if s := a.Stats(); s != (Stats{Containers: 2, Exits: 8, Restarts: 6, GiveUps: 1, Orphans: 2, Unknown: 1}) {
		t.Errorf("stats = %+v", s)
	}

	// Restored from a snapshot taken after 2.3s (main between restarts,
	// the worker restarted), a new agent ends the same.
	half := 0
	for half < len(trace) && trace[half].ev.Time <= ms(2300) {
		half++
	}
	c := New()
	for slot, cfg := range cfgs {
		if err := c.AddContainer(slot, cfg); err != nil {
			t.Fatal(err)
		}
	}
	first := replayTrace(c, trace[:half])
	if st := c.Status(); st.Containers[0].Processes[0].State != "restarting" || st.Containers[0].Processes[1].State != "running" {
		t.Fatalf("at 2.3s: %+v", st.Containers[0])
	}
	b := New()
	if err := b.Restore(c.Snapshot()); err != nil {
		t.Fatal(err)
	}
	if rest := replayTrace(b, trace[half:]); !reflect.DeepEqual(append(first, rest...), want) {
		t.Errorf("after a restore: %q", append(first, rest...))
	}
	if !reflect.DeepEqual(b.Status(), wantStatus) || b.Stats() != a.Stats() {
		t.Errorf("after a restore: status %+v", b.Status())
	}
}
