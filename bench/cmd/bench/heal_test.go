package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/bench/internal/result"
)

func TestPercentile(t *testing.T) {
	vs := []float64{5, 1, 4, 2, 3, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, want float64 }{{50, 5}, {99, 10}, {100, 10}, {0, 1}, {10, 1}, {11, 2}} {
		if got := percentile(vs, c.p); got != c.want {
			t.Errorf("percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if vs[0] != 5 {
		t.Error("percentile sorted its input")
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("percentile of nothing is not NaN")
	}
}

func TestLostAndResumed(t *testing.T) {
	before := reply{Mem: 500, File: 900, PID: 7, StartFile: 400, GapMem: 300, GapFile: 700}
	// A restart: new pid, memory from 0, file from its start.
	m, f, ok := resumedFrom(before, reply{Mem: 3, File: 912, PID: 10, StartFile: 905, GapMem: -1, GapFile: -1})
	if !ok || m != 0 || f != 905 {
		t.Errorf("restart: resumed from %d, %d, %v", m, f, ok)
	}
	if lost(before.Mem, m) != 500 || lost(before.File, f) != 0 {
		t.Errorf("restart: lost %d, %d", lost(before.Mem, m), lost(before.File, f))
	}
	// A restore: same pid, the counts at the freeze.
	m, f, ok = resumedFrom(before, reply{Mem: 495, File: 895, PID: 7, GapMem: 480, GapFile: 880})
	if !ok || m != 480 || f != 880 || lost(before.Mem, m) != 20 {
		t.Errorf("restore: resumed from %d, %d, %v", m, f, ok)
	}
	if _, _, ok := resumedFrom(before, reply{PID: 7, GapMem: -1, GapFile: -1}); ok {
		t.Error("a reply without a freeze gave a resume point")
	}
	if lost(10, 12) != 0 {
		t.Error("a count that went on lost something")
	}
}

func TestAvailability(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(ms int, ok bool) attempt {
		return attempt{start: t0.Add(time.Duration(ms) * time.Millisecond), dur: 2 * time.Millisecond, ok: ok}
	}
	// Up, down from 20 ms to 50 ms, up, down from 80 ms to the end (100).
	as := []attempt{at(0, true), at(10, true), at(20, false), at(30, false), at(40, false), at(50, true), at(60, true), at(70, true), at(80, false), at(90, false)}
	st := availability(as, t0, 100*time.Millisecond)
	if st.Attempts != 10 || st.OK != 5 || st.ReqAvail != 0.5 {
		t.Errorf("counts: %+v", st)
	}
	if st.Down != 50*time.Millisecond || st.Outages != 2 || st.MeanOutage() != 25 {
		t.Errorf("down %v, outages %d, mean %v", st.Down, st.Outages, st.MeanOutage())
	}
	if math.Abs(st.TimeAvail-0.5) > 1e-9 || st.OKPerSec != 50 || st.P50 != 2 {
		t.Errorf("time availability %v, ok/s %v, p50 %v", st.TimeAvail, st.OKPerSec, st.P50)
	}
	if st := availability(nil, t0, time.Second); st.Attempts != 0 || !math.IsNaN(st.MeanOutage()) {
		t.Errorf("empty: %+v", st)
	}
}

func TestParseKeeperAndAgent(t *testing.T) {
	st, err := parseKeeperState([]byte(`{"container":"x","state":"running","checkpoints":3,"last_checkpoint_seq":3,
		"last_checkpoint":"2026-11-26T12:06:19.415727478Z","last_checkpoint_ms":44,"last_checkpoint_bytes":9396903,
		"recoveries":1,"last_recovery_ms":484,"last_recovery_cause":"gofer died"}`))
	if err != nil {
		t.Fatal(err)
	}
	if st.Checkpoints != 3 || st.LastCheckpointMilli != 44 || st.LastCheckpointBytes != 9396903 || st.Recoveries != 1 ||
		st.LastRecoveryMilli != 484 || st.LastCheckpoint == nil || st.failed() {
		t.Errorf("keeper state %+v", st)
	}
	if _, err := parseKeeperState([]byte("{")); err == nil {
		t.Error("bad JSON accepted")
	}
	status := []byte(`{"updated":"2026-11-26T12:06:24.134362682Z","swarm":{"agents":[
		{"name":"selfmodel","state":"running","restarts":2,"panics":2},{"name":"rate","state":"restarting","restarts":0}]}}`)
	a, upd, err := parseAgentStatus(status, "selfmodel")
	if err != nil || a.Restarts != 2 || a.State != "running" || upd.IsZero() {
		t.Errorf("agent %+v, %v, %v", a, upd, err)
	}
	if _, _, err := parseAgentStatus(status, "nosuch"); err == nil {
		t.Error("a missing agent was found")
	}
}

func TestCountInitRestarts(t *testing.T) {
	logs := "x\nathena-init: main (pid 7) killed by SIGABRT; restart 1 in 10ms\nathena-init: main restarted (pid 9)\n" +
		"athena-init: main (pid 9) exited with status 134; restart 2 in 20ms\n"
	if n := countInitRestarts(logs); n != 2 {
		t.Errorf("countInitRestarts = %d, want 2", n)
	}
}

func TestHealMarkdown(t *testing.T) {
	run := &result.Run{Date: "2026-11-26T12:00:00Z", Command: "make bench-heal", Mode: "heal"}
	rec := result.Benchmark{Name: "heal_kill_sandbox_ms", Group: recGroup, Unit: "ms"}
	rec.Add(result.Athena, 400)
	rec.Add(result.Athena, 600)
	rec.Fail(result.Athena, errTest("boom"))
	av := result.Benchmark{Name: "crash_availability_req", Group: crashGroup, Unit: "req/s", HigherIsBetter: true}
	av.Add(result.Runc, 10)
	av.Add(athenaHeal, 50)
	run.Benchmarks = []result.Benchmark{rec, av}
	var b strings.Builder
	healMarkdown(&b, run)
	md := b.String()
	for _, want := range []string{"| `kill-sandbox` |", "| 500 [1 failed] | 600 | 2 |", "| `crash_availability_req` req/s ↑ | 10.0 | – | – | 50.0 | n/a | n/a | 5.00 |", "- `heal_kill_sandbox_ms` on athena: boom"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }
