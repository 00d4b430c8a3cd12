package sched

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
)

// traceSample is one line of a recorded trace: what the sentry's
// scheduler loop handed the agent, logged by the sandbox under runsc
// --debug ("athena: sched sample NS CONTAINER PID TID RUN WAIT BLOCKS
// SPAWNED").
type traceSample struct {
	ns                       int64
	container                uint32
	pid, tid                 int32
	run, wait, blocks, spawn uint64
}

func readTrace(t *testing.T, path string) []traceSample {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []traceSample
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 8 {
			t.Fatalf("%s: bad line %q", path, line)
		}
		var v [8]int64
		for i, s := range f {
			if v[i], err = strconv.ParseInt(s, 10, 64); err != nil {
				t.Fatalf("%s: bad line %q: %v", path, line, err)
			}
		}
		out = append(out, traceSample{v[0], uint32(v[1]), int32(v[2]), int32(v[3]), uint64(v[4]), uint64(v[5]), uint64(v[6]), uint64(v[7])})
	}
	return out
}

// replay feeds a trace to a through Handle and Tick, as the sentry's
// driver does, and calls each with every new table and the decisions.
func replay(a *Agent, trace []traceSample, each func(*Table), decided func(agent.Decision)) {
	var ev event.Event
	var out []agent.Decision
	var gen uint64
	last := int64(0)
	for _, s := range trace {
		if last != 0 && s.ns != last {
			out = a.Tick(time.Unix(0, last), out[:0])
			for _, d := range out {
				decided(d)
			}
			if tab := a.Published(); tab != nil && tab.Gen != gen {
				gen = tab.Gen
				each(tab)
			}
		}
		last = s.ns
		ev = event.Event{Kind: event.KindCPU, Time: s.ns, Container: s.container, PID: s.pid, TID: s.tid}
		if s.spawn > 0 {
			ev.Args[0], ev.Args[1] = event.CPUOpSpawned, s.spawn
		} else {
			ev.Args[0], ev.Args[1], ev.Args[2], ev.Args[4] = event.CPUOpTask, s.run, s.wait, s.blocks
		}
		out = a.Handle(&ev, out[:0])
		for _, d := range out {
			decided(d)
		}
	}
}

// TestRecordedQuotaTrace replays a trace recorded in a real container
// (testdata/quota-ticker.trace: `probe ticker 5 60 & probe spin 60 3`
// under cpu.quota 1, on 2 CPUs): the three spinning threads are held
// once measured, the ticker (which blocks every 5ms) never is, and the
// holds let the container no more than its quota.
func TestRecordedQuotaTrace(t *testing.T) {
	trace := readTrace(t, "testdata/quota-ticker.trace")
	a, err := New(Config{CPUs: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddContainer(0, ContainerConfig{Mode: ModeEnforce, Quota: 1}); err != nil {
		t.Fatal(err)
	}
	ticker, hogs := traceRoles(trace)
	if ticker == 0 || len(hogs) != 3 {
		t.Fatalf("trace: ticker %d, hogs %v", ticker, hogs)
	}
	tables, heldHogs := 0, map[int32]int{}
	replay(a, trace, func(tab *Table) {
		tables++
		if th, ok := tab.Lookup(0, ticker); ok {
			t.Errorf("table %d holds the ticker: %+v", tab.Gen, th)
		}
		for _, e := range tab.Entries {
			if hogs[e.TID] {
				heldHogs[e.TID]++
			}
		}
	}, func(d agent.Decision) {
		if d.TID == ticker {
			t.Errorf("decision about the ticker: %+v", d)
		}
	})
	if tables < 20 {
		t.Fatalf("only %d tables from the trace", tables)
	}
	for tid := range hogs {
		if heldHogs[tid] < tables/2 {
			t.Errorf("hog %d held in %d of %d tables", tid, heldHogs[tid], tables)
		}
	}
	if tk, ok := a.Task(0, ticker); !ok || !tk.Interactive {
		t.Errorf("ticker %+v: want interactive", tk)
	}
	if c, _ := a.Container(0); c.Alloc > time.Duration(1.01*float64(a.Config().Period)) {
		t.Errorf("container allowed %v a period under a quota of 1 CPU", c.Alloc)
	}
}

// traceRoles finds the trace's ticker (the task with the most time
// blocked) and hogs (never blocked, and running).
func traceRoles(trace []traceSample) (int32, map[int32]bool) {
	last := map[int32]traceSample{}
	for _, s := range trace {
		if s.spawn == 0 {
			last[s.tid] = s
		}
	}
	var ticker int32
	var most uint64
	hogs := map[int32]bool{}
	for tid, s := range last {
		if s.wait > most && s.run > 0 {
			ticker, most = tid, s.wait
		}
		if s.wait == 0 && s.run > uint64(time.Second) {
			hogs[tid] = true
		}
	}
	return ticker, hogs
}
