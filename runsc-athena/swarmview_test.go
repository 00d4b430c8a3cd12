package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/sentry"
	"github.com/athenaos/athena/swarm/record"
	"github.com/athenaos/athena/syscalls"
)

const (
	testID  = "3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"
	testID2 = "77aa00bb11cc22dd33ee44ff5566778899aabbccddeeff001122334455667788"
)

var testEpoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeStatus is a status with a swarm, its counters scaled by n (the
// sandbox's n-th second).
func fakeStatus(id string, n uint64) *sentry.Status {
	return &sentry.Status{
		Container: id, Updated: testEpoch.Add(time.Duration(n) * time.Second).Format(time.RFC3339Nano),
		Mode: "enforce", Policy: "/etc/athena/web.yaml", PolicyDigest: "0123456789abcdef0123456789abcdef",
		Denied: 2 * n, Killed: 0, Recorded: 100 * n, Dropped: 3 * n, Written: 100 * n, Lost: 0,
		PolicyUpdates: 1, PolicyRefused: 0,
		Swarm: &sentry.SwarmStatus{
			Agents: []sentry.AgentStatus{
				{Name: "rules", State: "running", Policy: "fail-closed", Mode: "enforce", Events: 1000 * n, Decisions: n},
				{Name: "selfmodel", State: "running", Policy: "fail-closed", Mode: "learn", Restarts: 1, Panics: 1, LastPanic: "index out of range", Events: 1000 * n},
				{Name: "rate", State: "stopped", Policy: "fail-open", Restarts: 5, Panics: 6, Events: 10 * n},
			},
			Rings: []sentry.RingStatus{
				{Name: "syscalls", Capacity: 4096, Len: 1024, Pushed: 1001 * n, Drained: 1000 * n, Dropped: 7 * n},
				{Name: "lifecycle", Capacity: 256, Len: 0, Pushed: 10 * n, Drained: 10 * n},
			},
			Models: []sentry.ModelStatus{
				{Container: id, Mode: "learn", Windows: 5000 * n, LastChange: 4000 * n, StableAfter: 100000, Pairs: 812, Syscalls: 41, Bytes: 20480, Tasks: 7, Anomalies: n},
			},
			Decisions:  2 * n,
			Actions:    map[string]uint64{"delay": n, "deny": n, "record": 4, "calls_delayed": 30 * n, "calls_denied": n},
			Tasks:      12,
			TaskBytes:  12 * 140,
			StateBytes: 3 << 20,
			HeapBytes:  40 << 20,
		},
	}
}

func writeStatus(t *testing.T, path string, st *sentry.Status) {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestParseVerbArgsFlagsAnywhere(t *testing.T) {
	var once bool
	var n int
	set := func(fs *flag.FlagSet) {
		fs.BoolVar(&once, "once", false, "")
		fs.IntVar(&n, "n", 0, "")
	}
	pos, err := verbFlags("top", []string{"a", "--once", "b", "-n", "3", "--", "-c"}, -1, set)
	if err != nil || strings.Join(pos, " ") != "a b -c" || !once || n != 3 {
		t.Fatalf("got %q once=%v n=%d err=%v", pos, once, n, err)
	}
	if _, err := verbFlags("explain", []string{"a", "b"}, 1, set); err == nil || !strings.Contains(err.Error(), "wants 1") {
		t.Errorf("two arguments for one: %v", err)
	}
	if _, err := verbFlags("explain", []string{"--bogus"}, 1, set); err == nil {
		t.Error("an unknown flag was accepted")
	}
}

func TestReadStatusFileIgnoresTheTailOfAnOldVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	// The sandbox wrote a shorter version over a longer one and has not
	// truncated yet.
	os.WriteFile(path, []byte(`{"container":"new","denied":1}`+"\n"+`"policy":"an old, longer tail"}`), 0o644)
	st, err := readStatusFile(path)
	if err != nil || st.Container != "new" || st.Denied != 1 {
		t.Fatalf("got %+v, %v", st, err)
	}
	os.WriteFile(path, nil, 0o644)
	if _, err := readStatusFile(path); err != errNoStatus {
		t.Errorf("empty file: %v, want errNoStatus", err)
	}
	os.WriteFile(path, []byte(`{"container":`), 0o644)
	if _, err := readStatusFile(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("garbage: %v", err)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestRatesBetweenTwoVersions(t *testing.T) {
	a, b := fakeStatus(testID, 10), fakeStatus(testID, 12)
	r := ratesBetween(a, b, 2*time.Second)
	// events: gate recorded 100/s + rings drained 1000/s + 10/s;
	// drops: gate 3/s + ring 7/s; decisions 2/s.
	if !near(r.Events, 1110) || !near(r.Drops, 10) || !near(r.Decisions, 2) {
		t.Errorf("rates %+v", r)
	}
	if !near(r.Agents["rules"].Events, 1000) || !near(r.Agents["rules"].Decisions, 1) || !near(r.Rings["syscalls"].Dropped, 7) {
		t.Errorf("agent or ring rates: %+v %+v", r.Agents, r.Rings)
	}
	// A restored sandbox starts its counters again: no negative rates.
	r = ratesBetween(b, fakeStatus(testID, 1), time.Second)
	if r.Events < 0 || r.Drops < 0 || r.Decisions < 0 || !near(r.Decisions, 2) {
		t.Errorf("after a reset: %+v", r)
	}
	// A swarm that appears (or a ring new since the last version) counts
	// from zero.
	off := fakeStatus(testID, 10)
	off.Swarm = nil
	if r := ratesBetween(off, b, 2*time.Second); !near(r.Decisions, 12) {
		t.Errorf("swarm appearing: %+v", r)
	}
}

func TestRateTrackerUsesTheSandboxsVersions(t *testing.T) {
	var tr rateTracker
	v10 := fakeStatus(testID, 10)
	read := testEpoch.Add(10*time.Second + 300*time.Millisecond)
	tr.observe(v10, read)
	if tr.ok {
		t.Fatal("rates from one version")
	}
	// The same version read again a second later: still no rates (the
	// sandbox writes at most once a second).
	tr.observe(fakeStatus(testID, 10), read.Add(time.Second))
	if tr.ok {
		t.Fatal("rates from one version read twice")
	}
	// The next version, written 2 s after the first: rates over the
	// sandbox's 2 s, not over the 1.2 s between the reads.
	tr.observe(fakeStatus(testID, 12), read.Add(1200*time.Millisecond))
	if !tr.ok || tr.rates.Interval != 2*time.Second || !near(tr.rates.Decisions, 2) {
		t.Fatalf("rates %+v ok=%v", tr.rates, tr.ok)
	}
	// No new version for longer than idleAfter: nothing changed.
	tr.observe(fakeStatus(testID, 12), testEpoch.Add(12*time.Second+idleAfter+time.Millisecond))
	if !tr.ok || tr.rates.Events != 0 || tr.rates.Drops != 0 || tr.rates.Decisions != 0 {
		t.Fatalf("idle rates %+v", tr.rates)
	}
	// An idle container has rates (zero) from its first read.
	var idle rateTracker
	idle.observe(fakeStatus(testID, 1), testEpoch.Add(time.Minute))
	if !idle.ok || idle.rates.Events != 0 {
		t.Errorf("idle first read: %+v ok=%v", idle.rates, idle.ok)
	}
}

func TestMeasureRatesReadsTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.json")
	// A sandbox that writes a new version every 50 ms, 10 s of its
	// counters apart (its clock is not ours: rates use its "updated").
	stop := make(chan struct{})
	done := make(chan struct{})
	now := time.Now()
	first := fakeStatus(testID, 0)
	first.Updated = now.Format(time.RFC3339Nano)
	writeStatus(t, path, first)
	go func() {
		defer close(done)
		for i := uint64(1); ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			st := fakeStatus(testID, i)
			st.Updated = now.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano)
			b, _ := json.Marshal(st)
			os.WriteFile(path+".tmp", b, 0o644)
			os.Rename(path+".tmp", path)
		}
	}()
	defer func() { close(stop); <-done }()
	last, r, err := measureRates(context.Background(), path, first, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if last.Recorded == 0 || !near(r.Decisions, 2) || !near(r.Events, 1110) {
		t.Errorf("last %d, rates %+v", last.Recorded, r)
	}
}

func TestStatusSummary(t *testing.T) {
	st := fakeStatus(testID, 10)
	st.Swarm.Degraded = true
	st.Swarm.Why = "agent rate stopped (fail-open): the app runs on without it"
	rates := ratesBetween(fakeStatus(testID, 9), st, time.Second)
	var b bytes.Buffer
	writeStatusSummary(&b, testID, testID, st, statusTime(st).Add(1500*time.Millisecond), &rates)
	want := `container  ` + testID + `
mode       enforce
policy     /etc/athena/web.yaml (sha256 0123456789ab)
updated    2026-03-01T12:00:10Z (1.5s ago)
gate       denied 20, killed 0, recorded 1000, dropped 30
record     written 1000, lost 0
policies   1 replaced live, 0 refused
rates      events 1110.0/s, drops 10.0/s, decisions 2.0/s (over 1s)
swarm      DEGRADED: agent rate stopped (fail-open): the app runs on without it
decisions  20 (actions: delay 10, deny 10, record 4)
calls      delayed 300, denied 10
tasks      12 (task state 1.6 KiB)
memory     swarm state 3.0 MiB, sandbox heap 40.0 MiB

agents
  NAME       STATE    POLICY       MODE     RESTARTS  PANICS  EVENTS  DECISIONS  EVENTS/S  DECISIONS/S
  rules      running  fail-closed  enforce  0         0       10000   10         1000.0    1.0
  selfmodel  running  fail-closed  learn    1         1       10000   0          1000.0    0.0
  rate       stopped  fail-open    -        5         6       100     0          10.0      0.0
  last panic of selfmodel: index out of range

rings
  NAME       FILL             PUSHED  DRAINED  DROPPED  DRAINED/S  DROPPED/S
  syscalls   1024/4096 (25%)  10010   10000    70       1000.0     7.0
  lifecycle  0/256 (0%)       100     100      0        10.0       0.0

models
  CONTAINER     MODE   WINDOWS  STABLE                                        PAIRS  SYSCALLS  TASKS  ANOMALIES  SIZE
  3f2a9c1b0d4e  learn  50000    no (10000/100000 windows without a new pair)  812    41        7      10         20.0 KiB
`
	if got := b.String(); got != want {
		t.Errorf("summary:\n%s\nwant:\n%s", got, want)
	}

	// Without the swarm, without rates, for a pod's container.
	st = fakeStatus(testID, 1)
	st.Swarm = nil
	b.Reset()
	writeStatusSummary(&b, "member", testID, st, statusTime(st), nil)
	for _, s := range []string{"container  member\n", "sandbox    " + testID + " (this status is the sandbox's", "swarm      off\n"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("summary without swarm lacks %q:\n%s", s, b.String())
		}
	}
	if strings.Contains(b.String(), "rates") || strings.Contains(b.String(), "agents") {
		t.Errorf("rates or agents without a measurement or a swarm:\n%s", b.String())
	}
}

func TestStatusSummaryMemoryAndNetwork(t *testing.T) {
	st := fakeStatus(testID, 1)
	st.Swarm.Memory = &sentry.MemoryStatus{Platform: "athena", Faults: true, FaultCount: 120, ExecFaults: 9, WXRequests: 1, Usage: map[string]uint64{testID: 3 << 20}}
	st.Swarm.Network = &sentry.NetworkStatus{Stack: "netstack", Filter: true, Egress: "default deny, 1 rule", Flows: 4, LiveFlows: 1, Refused: 2, Packets: 50, BytesOut: 2048, BytesIn: 4096,
		Blocks:     []sentry.BlockStatus{{Remote: "172.17.0.1", Until: "2026-03-01T12:00:40Z", Why: "port scan"}},
		TopRemotes: []sentry.RemoteStatus{{Remote: "172.17.0.1:80", Flows: 2, BytesOut: 1024, BytesIn: 4096}}}
	var b bytes.Buffer
	writeStatusSummary(&b, testID, testID, st, statusTime(st), nil)
	for _, s := range []string{
		"memory (platform athena)\n  faults 120, exec faults 9, W+X mapping requests 1\n  resident 3f2a9c1b0d4e: 3.0 MiB\n",
		"network (netstack, packet filter on; egress default deny, 1 rule)\n  flows 4 (1 live), refused 2, blocked 0, packets 50, sent 2.0 KiB, received 4.0 KiB\n",
		"  blocked 172.17.0.1 until 2026-03-01T12:00:40Z: port scan\n",
		"  172.17.0.1:80  2      1.0 KiB  4.0 KiB\n",
	} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, b.String())
		}
	}
	st.Swarm.Memory = &sentry.MemoryStatus{Platform: "systrap"}
	st.Swarm.Network = &sentry.NetworkStatus{Stack: "host", Why: "--network=host: gVisor hands sockets to the host kernel; no packet passes the sandbox's stack"}
	b.Reset()
	writeStatusSummary(&b, testID, testID, st, statusTime(st), nil)
	for _, s := range []string{"memory (platform systrap: page faults are not watched; use --platform=athena)", "network (host, NO packet filter: --network=host"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, b.String())
		}
	}
}

func TestPrintStatusJSONKeepsTheFileAndAddsTheLink(t *testing.T) {
	dir := t.TempDir()
	files := sentry.LinkFiles{Status: filepath.Join(dir, "s.json"), Events: "/e.jsonl", Control: "/c.fifo"}
	writeStatus(t, files.Status, fakeStatus(testID, 1))
	var b bytes.Buffer
	if err := printStatusJSON(&b, testID, files); err != nil {
		t.Fatal(err)
	}
	// The strings the integration tests look for.
	for _, s := range []string{`"denied": 2,`, `"policy_refused": 0,`, `"policy": "/etc/athena/web.yaml"`, `"Events": "/e.jsonl"`, `"swarm": {`} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("JSON lacks %s:\n%s", s, b.String())
		}
	}
}

func TestTopFollowsContainers(t *testing.T) {
	dir := t.TempDir()
	p1, p2 := filepath.Join(dir, testID+".json"), filepath.Join(dir, testID2+".json")
	writeStatus(t, p1, fakeStatus(testID, 10))
	noSwarm := fakeStatus(testID2, 10)
	noSwarm.Swarm = nil
	writeStatus(t, p2, noSwarm)
	os.WriteFile(filepath.Join(dir, "starting.json"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o644)

	v := newTopView(dir, nil, nil)
	t0 := testEpoch.Add(10*time.Second + 100*time.Millisecond)
	if err := v.poll(t0); err != nil {
		t.Fatal(err)
	}
	writeStatus(t, p1, fakeStatus(testID, 11))
	noSwarm = fakeStatus(testID2, 11)
	noSwarm.Swarm = nil
	writeStatus(t, p2, noSwarm)
	if err := v.poll(t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	v.render(&b, t0.Add(time.Second), time.Second)
	want := `athena swarm top  12:00:11  every 1s  3 container(s)

ID            MODE     EVENTS/S  DROPS/S  DECISIONS/S  DELAY/DENY/KILL  TASKS  STATE MiB  DEGRADED  UPDATED
3f2a9c1b0d4e  enforce  1110.0    10.0     2.0          11/11/0          12     3.0        no        100ms ago
77aa00bb11cc  enforce  100.0     3.0      -            -                -      -          -         100ms ago
starting      -        -         -        -            -                -      -          -         starting

AGENTS NOT RUNNING
ID            AGENT  STATE    POLICY     MODE  RESTARTS  PANICS  EVENTS/S  DECISIONS/S
3f2a9c1b0d4e  rate   stopped  fail-open  -     5         6       10.0      0.0
`
	if b.String() != want {
		t.Errorf("frame:\n%s\nwant:\n%s", b.String(), want)
	}

	// A deleted container disappears, a new one appears.
	os.Remove(p2)
	os.Remove(filepath.Join(dir, "starting.json"))
	p3 := filepath.Join(dir, "newcomer.json")
	writeStatus(t, p3, fakeStatus("newcomer", 11))
	if err := v.poll(t0.Add(2 * time.Second)); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	v.render(&b, t0.Add(2*time.Second), time.Second)
	if strings.Contains(b.String(), "77aa00bb11cc") || !strings.Contains(b.String(), "newcomer") || !strings.Contains(b.String(), "2 container(s)") {
		t.Errorf("after delete and create:\n%s", b.String())
	}

	// Named containers: their agents, all of them; when all are gone, top
	// ends.
	named := newTopView(dir, []string{testID}, func(id string) string { return filepath.Join(dir, id+".json") })
	if err := named.poll(t0); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	named.render(&b, t0, time.Second)
	if !strings.Contains(b.String(), "\nAGENTS\n") || !strings.Contains(b.String(), "selfmodel") {
		t.Errorf("named container's agents missing:\n%s", b.String())
	}
	os.Remove(p1)
	if err := named.poll(t0.Add(time.Second)); err != errAllGone {
		t.Errorf("poll after the named container went: %v", err)
	}
}

func TestRunTopPrintsFramesAndStops(t *testing.T) {
	dir := t.TempDir()
	// Idle sandboxes (their status is old): rates are known at once.
	writeStatus(t, filepath.Join(dir, testID+".json"), fakeStatus(testID, 1))
	v := newTopView(dir, nil, nil)
	var b bytes.Buffer
	if err := runTop(context.Background(), &b, v, 10*time.Millisecond, 3, false); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "athena swarm top"); n != 3 {
		t.Errorf("%d frames, want 3:\n%s", n, b.String())
	}
	if strings.Contains(b.String(), clearScreen) {
		t.Error("screen cleared on a non-terminal")
	}
	if !strings.Contains(b.String(), "3f2a9c1b0d4e  enforce  0.0 ") {
		t.Errorf("idle rates not zero:\n%s", b.String())
	}
	b.Reset()
	v = newTopView(dir, nil, nil)
	if err := runTop(context.Background(), &b, v, 10*time.Millisecond, 1, true); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), clearScreen) {
		t.Errorf("terminal frame does not clear the screen: %q", b.String()[:20])
	}
	// Interrupted: returns cleanly.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if err := runTop(ctx, &bytes.Buffer{}, newTopView(dir, nil, nil), 10*time.Millisecond, 0, false); err != nil {
		t.Errorf("interrupted top: %v", err)
	}
}

// writeRecord writes a fake decision record: gate records, swarm
// decisions and the other line types, as the sandbox writes them.
func writeRecord(t *testing.T, path string, lines ...any) {
	t.Helper()
	var b []byte
	for _, l := range lines {
		switch l := l.(type) {
		case *record.Decision:
			b = record.Append(b, l)
		case string:
			b = append(b, l+"\n"...)
		default:
			j, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			b = append(append(b, j...), '\n')
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gateRecord(pid int32, at time.Time, container, syscall, path, action, rule string) *syscalls.Decision {
	return &syscalls.Decision{Type: syscalls.DecisionType, Time: at, Container: container, PID: pid, TID: pid, Comm: "sh",
		Syscall: syscall, Path: path, Rule: rule, RuleIndex: 2, RuleLine: 14, Action: action, Intended: action, Mode: "enforce"}
}

func TestExplain(t *testing.T) {
	dir := t.TempDir()
	at := testEpoch.Add(time.Minute)
	long := strings.Repeat("read,write,", 20000) + "execve" // a line past bufio's 64 KiB default
	d := &record.Decision{
		ID: record.MakeID(testID, 17), Time: at, Container: testID, PID: 42, TID: 43, Comm: "sh",
		Agent: "selfmodel", Asked: "kill", Action: "kill", Carried: true, Mode: "enforce", Score: 0.92,
		Reason: "LFC 24 of 32 windows anomalous", Evidence: []string{"open,read,execve,socket,connect,dup2", long},
		Quorum: "2 of rules,selfmodel,rate within 10s",
		Votes: []record.Vote{
			{Time: at.Add(-2 * time.Second), Agent: "rules", Action: "deny", Score: 1, Reason: `rule "no-shell" refused execve`, Evidence: []string{"rule no-shell (line 14)"}},
			{Time: at, Agent: "selfmodel", Action: "kill", Score: 0.92, Reason: "LFC 24"},
		},
	}
	other := &record.Decision{ID: record.MakeID(testID, 16), Time: at.Add(-time.Second), Container: testID, PID: 42, TID: 42,
		Agent: "selfmodel", Asked: "deny", Action: "delay", Pending: true, Delay: 20 * time.Millisecond, Mode: "enforce", Score: 0.5, Reason: "LFC 12"}
	writeRecord(t, filepath.Join(dir, testID+".jsonl"),
		`{"type":"start","container":"`+testID+`","mode":"enforce"}`,
		gateRecord(42, at.Add(-11*time.Second), testID, "openat", "/etc/passwd", "allow", "too early"),
		gateRecord(42, at.Add(-2*time.Second), testID, "execve", "/bin/sh", "errno(EPERM)", "no-shell"),
		gateRecord(7, at.Add(-time.Second), testID, "execve", "/bin/ls", "errno(EPERM)", "other pid"),
		gateRecord(42, at.Add(-time.Second), "a-pod-sibling", "execve", "/bin/ls", "errno(EPERM)", "other container"),
		`{"type":"dropped","time":"`+at.Add(-3*time.Second).Format(time.RFC3339Nano)+`","container":"`+testID+`","records":5}`,
		other,
		`{"type":"swarm","id":"cut`, // a line cut by a full disk
		d,
		gateRecord(42, at.Add(3*time.Second), testID, "connect", "", "kill", "no-egress"),
		gateRecord(42, at.Add(10*time.Second+time.Millisecond), testID, "openat", "/tmp/x", "allow", "too late"),
	)
	// Another container's record, whose name shares nothing with the ID.
	writeRecord(t, filepath.Join(dir, testID2+".jsonl"), &record.Decision{ID: record.MakeID(testID2, 1), Container: testID2})

	ex, err := findDecision(dir, "3f2a9c1b0d4e-17")
	if err != nil {
		t.Fatal(err)
	}
	if ex.Decision.Evidence[1] != long || len(ex.Gate) != 2 || ex.Gate[0].Rule != "no-shell" || ex.Gate[1].Rule != "no-egress" || ex.Dropped != 5 {
		t.Fatalf("found %+v with gate records %+v, dropped %d", ex.Decision.ID, ex.Gate, ex.Dropped)
	}
	var b bytes.Buffer
	writeExplanation(&b, ex)
	out := b.String()
	for _, s := range []string{
		"decision     3f2a9c1b0d4e-17\n",
		"task         pid 42, tid 43, comm \"sh\", container " + testID + "\n",
		"agent        selfmodel (mode enforce), score 0.92\n",
		"asked        kill\n",
		"carried out  kill (the quorum agreed)\n",
		"quorum       2 of rules,selfmodel,rate within 10s\n",
		"  evidence:\n    open,read,execve,socket,connect,dup2\n",
		"votes (2, the deciding one last)\n",
		"  rules: deny, score 1.00, rule \"no-shell\" refused execve (-2s)\n    evidence:\n      rule no-shell (line 14)\n",
		"  selfmodel: kill, score 0.92, LFC 24 (+0s)\n",
		"gate records of pid 42 within ±10s (2)\n",
		"-2s",
		"execve",
		"/bin/sh",
		"rule no-shell (line 14)",
		"rule no-egress",
		"(5 records were dropped and 0 lost around then: this list may miss some)",
	} {
		if !strings.Contains(out, s) {
			t.Errorf("explanation lacks %q:\n%s", s, out)
		}
	}
	for _, s := range []string{"too early", "too late", "other pid", "other container"} {
		if strings.Contains(out, s) {
			t.Errorf("explanation holds %q (outside the window, or another task):\n%s", s, out)
		}
	}

	// A pending decision says what was asked and what was done instead.
	ex, err = findDecision(dir, "3f2a9c1b0d4e-16")
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	writeExplanation(&b, ex)
	if !strings.Contains(b.String(), "carried out  delay 20ms (pending: deny lacked the quorum's votes; carried out as delay instead)") {
		t.Errorf("pending decision:\n%s", b.String())
	}

	for _, c := range []struct{ id, want string }{
		{"3f2a9c1b0d4e-99", "no decision 3f2a9c1b0d4e-99 in " + filepath.Join(dir, testID+".jsonl") + ": it holds 2 swarm decisions (3f2a9c1b0d4e-16 to 3f2a9c1b0d4e-17)"},
		{"3f2a9c1b0d4e", "malformed decision ID"},
		{"3f2a9c1b0d4e-x", "malformed decision ID"},
		{"000000000000-1", `no decision record of a container whose ID starts with "000000000000"`},
	} {
		_, err := findDecision(dir, c.id)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("findDecision(%q) = %v, want %q", c.id, err, c.want)
		}
	}
	if _, err := findDecision(filepath.Join(dir, "nonexistent"), "3f2a9c1b0d4e-17"); err == nil || !strings.Contains(err.Error(), "--athena-events-dir") {
		t.Errorf("missing events dir: %v", err)
	}
}

func TestExplainJSONIsTheLine(t *testing.T) {
	dir := t.TempDir()
	d := &record.Decision{ID: "my-ctr-3", Container: "my-ctr", PID: 1, Agent: "rate", Asked: "delay", Action: "delay", Reason: "r"}
	line := record.Append(nil, d)
	writeRecord(t, filepath.Join(dir, "my-ctr.jsonl"), d)
	ex, err := findDecision(dir, "my-ctr-3")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%s\n", ex.Line); got != string(line) {
		t.Errorf("line %q, want %q", got, line)
	}
}

func TestSchedSummary(t *testing.T) {
	var b strings.Builder
	writeSchedSummary(&b, &sentry.SchedStatus{CPUs: 2, Period: "100ms", Periods: 10, Holds: 3, TaskLimit: 448,
		SpawnsRefused: map[string]uint64{"limit": 5, "block": 7},
		Containers:    []sentry.SchedContainerStatus{{Container: "0123456789abcdef", Mode: "enforce", Weight: 1024, Quota: 0.5, ConfigFrom: "weight: default, quota: oci", Used: 0.5, Demand: 1, Alloc: 0.5, Held: 1, ThrottledNS: 1e9}},
		Tasks:         []sentry.SchedTaskStatus{{PID: 2, TID: 2, Comm: "spin", Run: 2e9, Throttled: 1e9, Duty: 1, Hold: "50ms"}}})
	out := b.String()
	for _, want := range []string{"scheduler (2 CPUs, period 100ms): periods 10, holds 3", "task limit 448", "5 over the limit, 7 under a fork-bomb block",
		"0123456789ab  enforce  1024", "quota: oci", "spin", "hog", "50ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	b.Reset()
	writeSchedSummary(&b, nil)
	if b.Len() != 0 {
		t.Errorf("no scheduler: %q", b.String())
	}
}
