package main

import (
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/record"
)

var t0 = time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)

// gateLine is a decision line as the sandbox writes it (the fields the
// harness reads).
func gateLine(at time.Time, comm, sys, path, action, rule string, wouldDeny bool, repeats int) string {
	wd := "false"
	if wouldDeny {
		wd = "true"
	}
	mode := "enforce"
	if action == "allow" {
		mode = "learn"
	}
	s := `{"type":"decision","time":"` + at.Format(time.RFC3339Nano) + `","container":"c1","pid":1,"tid":1,"comm":"` + comm +
		`","syscall":"` + sys + `","sysno":0,"raw":[0,0,0,0,0,0],"path":"` + path + `","rule":"` + rule + `","rule_index":-1,"action":"` +
		action + `","intended":"` + action + `","mode":"` + mode + `","would_deny":` + wd
	if repeats > 0 {
		s += `,"repeats":` + string(rune('0'+repeats))
	}
	return s + "}\n"
}

func swarmLine(at time.Time, agent, action string, voters ...string) string {
	d := record.Decision{ID: "c1-1", Time: at, Container: "c1", PID: 1, TID: 1, Comm: "python3", Agent: agent, Asked: action, Action: action, Mode: "enforce", Reason: "r"}
	for _, v := range voters {
		d.Votes = append(d.Votes, record.Vote{Time: at, Agent: v, Action: action})
	}
	return string(record.Append(nil, &d))
}

func testRecord() string {
	return `{"type":"start","container":"c1","mode":"enforce","policy":"/p.yaml"}` + "\n" +
		gateLine(t0.Add(-time.Second), "python3", "openat", "/etc/motd", "errno(EPERM)", "other paths", false, 0) +
		gateLine(t0.Add(3*time.Millisecond), "python3", "execve", "/bin/sh", "errno(EPERM)", "learned executables", false, 2) +
		swarmLine(t0.Add(5*time.Millisecond), "selfmodel", "delay") +
		swarmLine(t0.Add(9*time.Millisecond), "quorum", "kill", "selfmodel", "rate") +
		`{"type":"dropped","records":4}` + "\n" +
		`{"type":"decision","time":` + "\n" // a cut line
}

func TestDetect(t *testing.T) {
	rf := parseRecord([]byte(testRecord()))
	if !rf.found || rf.mode != "enforce" || rf.policy != "/p.yaml" || rf.dropped != 4 || rf.cut != 1 || len(rf.entries) != 4 {
		t.Fatalf("parsed %+v", rf)
	}
	d := rf.detect(t0)
	if !d.detected || d.first != 3*time.Millisecond || !d.hasAct || d.firstAct != 3*time.Millisecond {
		t.Errorf("detection %+v", d)
	}
	if d.noise != 1 {
		t.Errorf("noise = %d, want the refusal before the trigger", d.noise)
	}
	if strengthNames[d.strongest] != "kill" {
		t.Errorf("strongest = %s, want kill", strengthNames[d.strongest])
	}
	if got := strings.Join(d.agents, ","); got != "quorum,rate,rules,selfmodel" {
		t.Errorf("agents = %s", got)
	}
	ev := d.afterTrigger
	if ev.Refusals != 3 || ev.Swarm["delay"] != 1 || ev.Swarm["kill"] != 1 || len(ev.Examples) != 3 {
		t.Errorf("after the trigger: %+v", ev)
	}
	if ev.ByRule["learned executables"] != 3 || len(ev.ByRule) != 1 {
		t.Errorf("by rule: %v", ev.ByRule)
	}
	if !strings.Contains(ev.Examples[0], "execve /bin/sh => errno(EPERM) [learned executables] x3") {
		t.Errorf("example %q", ev.Examples[0])
	}
	if late := rf.detect(t0.Add(time.Second)); late.detected {
		t.Errorf("nothing after t0+1s, got %+v", late)
	}
}

func TestFalsePositive(t *testing.T) {
	for _, c := range []struct {
		ev   Events
		want bool
	}{
		{Events{}, false},
		{Events{Swarm: map[string]int{"record": 3, "delay": 1}}, false},
		{Events{Refusals: 1}, true},
		{Events{Swarm: map[string]int{"deny": 1}}, true},
		{Events{Swarm: map[string]int{"kill": 1}}, true},
	} {
		if got := c.ev.falsePositive(); got != c.want {
			t.Errorf("%+v: falsePositive = %v, want %v", c.ev, got, c.want)
		}
	}
}

func TestLearnRecordSummary(t *testing.T) {
	data := gateLine(t0, "python3", "read", "", "allow", "default", false, 0) +
		gateLine(t0, "python3", "unshare", "", "allow", "no user namespaces", true, 0) +
		gateLine(t0, "python3", "unshare", "", "allow", "no user namespaces", true, 0)
	ev := parseRecord([]byte(data)).summarize(nil)
	if ev.Logged != 3 || ev.Refusals != 0 || ev.WouldDeny != 2 || len(ev.WouldDenyCalls) != 1 || ev.WouldDenyCalls[0] != "unshare [no user namespaces]" {
		t.Errorf("learn summary %+v", ev)
	}
	if ev.falsePositive() {
		t.Error("learn-mode records are not refusals")
	}
}

func TestMissingRecord(t *testing.T) {
	rf, err := readRecord(t.TempDir() + "/none.jsonl")
	if err != nil || rf.found || len(rf.entries) != 0 {
		t.Fatalf("readRecord of a missing file: %+v, %v", rf, err)
	}
}

func TestProgramOf(t *testing.T) {
	rf := parseRecord([]byte(gateLine(t0, "sockets", "bind", "", "errno(EPERM)", "x", false, 3) + gateLine(t0, "sh", "execve", "", "errno(EPERM)", "x", false, 0)))
	if p := programOf(rf); p != "sockets" {
		t.Errorf("programOf = %q", p)
	}
}

func TestParseBenchCSV(t *testing.T) {
	out := `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"SET","5721.00","3.3","0.8","3.1","5.0","7.1","20.1"
"MSET (10 keys)","4000.50","4.1","1.0","3.9","6.0","8.0","25.0"
`
	m := parseBenchCSV(out)
	if m["SET"] != 5721 || m["MSET"] != 4000.5 || len(m) != 2 {
		t.Errorf("parsed %v", m)
	}
}

// TestRender renders a result with every section and checks the report's
// key lines, so that a change of the schema or the report is seen here
// before a 10-minute run.
func TestRender(t *testing.T) {
	first := 3.0
	r := &Result{Schema: Schema, Date: "2026-11-26T04:00:00Z", Command: "make eval", Complete: true,
		Settings: Settings{Image: "athena-test/eval", LearnRuns: 3, EnforceRuns: 2, Control: true},
		Families: []Family{{Name: "web", Workload: "python3 /eval/app/server.py", Runtime: "athena-eval-web",
			Learn: []LearnRun{{Events: Events{Logged: 10, WouldDenyCalls: []string{"clone3 [clone3 falls back to clone]"}}}}}},
		Benign: []BenignRun{{Family: "web", Run: 1, OK: true, Requests: 300}, {Family: "web", Run: 2, OK: false, Failures: 2, FalsePositive: true, Events: Events{Refusals: 1}}},
		Attacks: []Attack{
			{Name: "shell", Description: "spawns `sh -c id`", Detected: true, FirstMS: &first, Action: "deny", Agents: []string{"rules"},
				Steps: []Step{{"spawn", "PermissionError: x|y"}}, Control: &Control{Worked: true}},
			{Name: "forkbomb", Action: "none", Steps: []Step{{"fork bomb", "ok 200 children"}}},
		},
		Conformance: &Conformance{Runtime: "athena-eval-conformance", Cases: 10, SameAthena: 8, SameEnforce: 7, Broken: 1,
			BrokenCases: []string{"sockets.x: ..."}, Programs: []ConfProgram{{Name: "sockets", Broken: 1, Refusals: 4}},
			LearnEvents: Events{WouldDeny: 2, WouldDenyCalls: []string{"unshare [no user namespaces]"}}},
	}
	md := string(renderReport(r))
	for _, want := range []string{
		"| shell | spawns `sh -c id` | yes | 3.0 ms | deny | rules | spawn: PermissionError: x\\|y |",
		"| forkbomb |", "**missed**",
		"Detected 1 of 2 attacks.",
		"**False-positive rate: 1 of 2 benign enforce runs** (web 1/2).",
		"No swarm decision appeared",
		"`clone3 [clone3 falls back to clone]`",
		"**The learned profile allows what the built-in default policy refuses.**",
		"Broken by enforcement (1; the first 1):",
		"1 of 1 programs met a refusal or a swarm deny/kill under enforcement and 1 had cases broken",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md)
	}
}
