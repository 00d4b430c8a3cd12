package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// swarmFull sets every key of the swarm section.
const swarmFull = `version: 1
mode: enforce
default: allow
swarm:
  selfmodel:
    mode: auto
    window: 6
    frame: 32
    delay_at: 2
    deny_at: 12
    kill_at: 24
    delay_base: 10us
    delay_factor: 2
    delay_max: 1s
    stable_after: 100000
    per_process: true
    keep: 32
  rate:
    mode: observe
    factor: 4.5
    spawn: 200
    connect: 500
    open: 20000
  quorum:
    need: 2
    window: 10s
    voters: [rules, selfmodel, rate]
  supervisor:
    intensity: 5
    period: 1m30s
rules:
  - action: errno(EPERM)
    syscalls: [mount]
`

func ptr(v int) *int { return &v }

func TestSwarmParse(t *testing.T) {
	const head = "version: 1\ndefault: allow\n"
	for _, tc := range []struct {
		name, src string
		want      Swarm
	}{
		{"absent", "", Swarm{}},
		{"empty", "swarm: {}\n", Swarm{}},
		{"empty agents", "swarm: {selfmodel: {}, rate: {}, quorum: {}, supervisor: {}}\n", Swarm{}},
		{"full", strings.TrimPrefix(swarmFull, "version: 1\nmode: enforce\ndefault: allow\n"), Swarm{
			SelfModel: SwarmSelfModel{Window: 6, Frame: 32, DelayAt: ptr(2), DenyAt: ptr(12), KillAt: ptr(24),
				DelayBase: 10 * time.Microsecond, DelayFactor: 2, DelayMax: time.Second, StableAfter: 100000,
				PerProcess: true, Keep: 32},
			Rate:       SwarmRate{Mode: AgentObserve, Factor: 4.5, Spawn: 200, Connect: 500, Open: 20000},
			Quorum:     SwarmQuorum{Need: 2, Window: 10 * time.Second, Voters: []string{"rules", "selfmodel", "rate"}},
			Supervisor: SwarmSupervisor{Intensity: 5, Period: 90 * time.Second},
		}},
		{"steps off", "swarm:\n  selfmodel: {delay_at: 0, deny_at: 0, kill_at: 0}\n",
			Swarm{SelfModel: SwarmSelfModel{DelayAt: ptr(0), DenyAt: ptr(0), KillAt: ptr(0)}}},
		// A step that is off takes no part in the order: kill off, deny
		// above the default kill_at.
		{"kill off", "swarm:\n  selfmodel: {deny_at: 30, kill_at: 0}\n",
			Swarm{SelfModel: SwarmSelfModel{DenyAt: ptr(30), KillAt: ptr(0)}}},
		{"small frame", "swarm:\n  selfmodel: {frame: 8, delay_at: 1, deny_at: 4, kill_at: 8}\n",
			Swarm{SelfModel: SwarmSelfModel{Frame: 8, DelayAt: ptr(1), DenyAt: ptr(4), KillAt: ptr(8)}}},
		{"large frame", "swarm:\n  selfmodel: {frame: 128, kill_at: 128, window: 16, keep: 1024}\n",
			Swarm{SelfModel: SwarmSelfModel{Frame: 128, KillAt: ptr(128), Window: 16, Keep: 1024}}},
		{"enforce", "swarm:\n  selfmodel: {mode: enforce}\n  rate: {mode: off}\n",
			Swarm{SelfModel: SwarmSelfModel{Mode: AgentEnforce}, Rate: SwarmRate{Mode: AgentOff}}},
		{"delays", "swarm:\n  selfmodel: {delay_base: 1ms, delay_max: 250ms, delay_factor: 1.5}\n",
			Swarm{SelfModel: SwarmSelfModel{DelayBase: time.Millisecond, DelayMax: 250 * time.Millisecond, DelayFactor: 1.5}}},
		{"two voters", "swarm:\n  quorum: {voters: [rate, rules]}\n",
			Swarm{Quorum: SwarmQuorum{Voters: []string{"rate", "rules"}}}},
		{"one voter", "swarm:\n  quorum: {need: 1, voters: [rules]}\n",
			Swarm{Quorum: SwarmQuorum{Need: 1, Voters: []string{"rules"}}}},
		{"need all", "swarm:\n  quorum: {need: 3}\n", Swarm{Quorum: SwarmQuorum{Need: 3}}},
		{"max floors", "swarm:\n  rate: {spawn: 4294967295, factor: 1000}\n",
			Swarm{Rate: SwarmRate{Spawn: 1<<32 - 1, Factor: 1000}}},
		{"per_process false", "swarm:\n  selfmodel: {per_process: false}\n", Swarm{}},
	} {
		p, err := Parse("x.yaml", []byte(head+tc.src))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(p.Swarm, tc.want) {
			t.Errorf("%s: swarm = %+v\nwant %+v", tc.name, p.Swarm, tc.want)
		}
		if p.Swarm.IsZero() != reflect.DeepEqual(tc.want, Swarm{}) {
			t.Errorf("%s: IsZero = %v", tc.name, p.Swarm.IsZero())
		}
		// Marshal round-trips, and leaves an all-default section out.
		out, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse("x2.yaml", out)
		if err != nil {
			t.Errorf("%s: reparse: %v\n%s", tc.name, err, out)
			continue
		}
		if !p.Equal(q) || !reflect.DeepEqual(p.Swarm, q.Swarm) {
			t.Errorf("%s: round trip differs:\n%s", tc.name, out)
		}
		if has := strings.Contains(string(out), "swarm:"); has == p.Swarm.IsZero() {
			t.Errorf("%s: marshalled swarm section present = %v:\n%s", tc.name, has, out)
		}
	}
}

func TestSwarmMarshal(t *testing.T) {
	p, err := Parse("f.yaml", []byte(swarmFull))
	if err != nil {
		t.Fatal(err)
	}
	if p.Lines.Swarm != 5 {
		t.Errorf("swarm at line %d", p.Lines.Swarm)
	}
	out, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	// The written section is the input's, minus the auto mode (the
	// default), with durations in Go's notation.
	want := strings.NewReplacer("    mode: auto\n", "", "10us", "10µs", "1m30s", "1m30s").Replace(swarmFull)
	if string(out) != want {
		t.Errorf("marshal:\n%s\nwant:\n%s", out, want)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Microsecond:   "10µs",
		time.Second:             "1s",
		time.Minute:             "1m",
		90 * time.Second:        "1m30s",
		2 * time.Hour:           "2h",
		time.Hour + time.Second: "1h0m1s",
		time.Hour + time.Minute: "1h1m",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(want); err != nil || back != d {
			t.Errorf("%q parses to %v, %v", want, back, err)
		}
	}
}

func TestSwarmEqual(t *testing.T) {
	parse := func(src string) *Policy {
		p, err := Parse("x.yaml", []byte("version: 1\ndefault: allow\n"+src))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := parse("")
	for _, src := range []string{
		"swarm: {selfmodel: {kill_at: 24}}\n", // set to the default is not unset
		"swarm: {selfmodel: {kill_at: 0}}\n",
		"swarm: {rate: {open: 1}}\n",
		"swarm: {quorum: {voters: [rules, rate, selfmodel]}}\n",
	} {
		if p := parse(src); p.Equal(base) || !p.Equal(parse(src)) {
			t.Errorf("%q: Equal wrong", src)
		}
	}
	// Equal compares thresholds by value, and its copy does not alias.
	a, b := parse("swarm: {selfmodel: {kill_at: 30}}\n"), parse("swarm: {selfmodel: {kill_at: 30}}\n")
	if !a.Equal(b) {
		t.Error("equal thresholds at different addresses differ")
	}
	c := a.Swarm.clone()
	*c.SelfModel.KillAt = 31
	c.Quorum.Voters = append(c.Quorum.Voters, "x")
	if *a.Swarm.SelfModel.KillAt != 30 {
		t.Error("clone aliases the thresholds")
	}
}

func TestSwarmErrors(t *testing.T) {
	const head = "version: 1\ndefault: allow\n"
	for _, tc := range []struct{ name, src, want string }{
		{"not a mapping", "swarm: on\n", `x.yaml:3: swarm must be a mapping`},
		{"null", "swarm:\n", `x.yaml:3: swarm must be a mapping`},
		{"unknown agent", "swarm:\n  selfmdel: {}\n", `x.yaml:4: swarm: unknown key "selfmdel" (want one of selfmodel, rate, quorum, supervisor)`},
		{"dup agent", "swarm:\n  rate: {}\n  rate: {}\n", `x.yaml:5: swarm: duplicate key "rate" (first at line 4)`},
		{"alias", "swarm:\n  rate: &r {}\n  quorum: *r\n", `x.yaml:5: YAML aliases are not supported`},
		{"agent not a mapping", "swarm:\n  rate: [1]\n", `x.yaml:4: swarm.rate must be a mapping`},

		{"unknown selfmodel key", "swarm:\n  selfmodel:\n    windw: 6\n", `x.yaml:5: swarm.selfmodel: unknown key "windw" (want one of mode, window, frame, delay_at, deny_at, kill_at, delay_base, delay_factor, delay_max, stable_after, per_process, keep)`},
		{"bad mode", "swarm:\n  selfmodel: {mode: strict}\n", `x.yaml:4: swarm.selfmodel.mode: unknown mode "strict" (want auto, off, learn, observe, enforce)`},
		{"mode list", "swarm:\n  selfmodel: {mode: [learn]}\n", `x.yaml:4: swarm.selfmodel.mode must be a single value`},
		{"window word", "swarm:\n  selfmodel:\n    window: six\n", `x.yaml:5: swarm.selfmodel.window: want an integer, got "six"`},
		{"window float", "swarm:\n  selfmodel: {window: 6.5}\n", `swarm.selfmodel.window: want an integer, got "6.5"`},
		{"window high", "swarm:\n  selfmodel: {window: 17}\n", `x.yaml:4: swarm.selfmodel.window: 17 not in [2, 16]`},
		{"window low", "swarm:\n  selfmodel: {window: 1}\n", `swarm.selfmodel.window: 1 not in [2, 16]`},
		{"frame zero", "swarm:\n  selfmodel: {frame: 0}\n", `swarm.selfmodel.frame: 0 not in [1, 128]`},
		{"frame high", "swarm:\n  selfmodel: {frame: 129}\n", `swarm.selfmodel.frame: 129 not in [1, 128]`},
		{"frame mapping", "swarm:\n  selfmodel:\n    frame: {a: 1}\n", `x.yaml:5: swarm.selfmodel.frame must be a single value`},
		{"threshold negative", "swarm:\n  selfmodel: {delay_at: -1}\n", `swarm.selfmodel.delay_at: -1 not in [0, 128]`},
		{"threshold word", "swarm:\n  selfmodel: {kill_at: off}\n", `swarm.selfmodel.kill_at: want an integer, got "off"`},
		{"deny above default kill", "swarm:\n  selfmodel:\n    frame: 32\n    deny_at: 30\n", `x.yaml:6: swarm.selfmodel: deny_at 30 above kill_at 24 (default); want delay_at <= deny_at <= kill_at <= frame (0 turns a step off)`},
		{"delay above deny", "swarm:\n  selfmodel:\n    deny_at: 3\n    delay_at: 5\n", `x.yaml:6: swarm.selfmodel: delay_at 5 above deny_at 3; want`},
		{"kill above frame", "swarm:\n  selfmodel:\n    frame: 20\n    kill_at: 21\n", `x.yaml:6: swarm.selfmodel: kill_at 21 above frame 20;`},
		{"default kill above frame", "swarm:\n  selfmodel:\n    frame: 16\n", `x.yaml:5: swarm.selfmodel: kill_at 24 (default) above frame 16;`},
		{"delay above kill, deny off", "swarm:\n  selfmodel: {delay_at: 10, deny_at: 0, kill_at: 8}\n", `x.yaml:4: swarm.selfmodel: delay_at 10 above kill_at 8;`},
		{"default delay above deny", "swarm:\n  selfmodel:\n    deny_at: 1\n", `x.yaml:5: swarm.selfmodel: delay_at 2 (default) above deny_at 1;`},
		{"delay_base zero", "swarm:\n  selfmodel: {delay_base: 0s}\n", `swarm.selfmodel.delay_base: 0s is not positive`},
		{"delay_base negative", "swarm:\n  selfmodel: {delay_base: -1ms}\n", `swarm.selfmodel.delay_base: -1ms is not positive`},
		{"delay_base no unit", "swarm:\n  selfmodel: {delay_base: 10}\n", `x.yaml:4: swarm.selfmodel.delay_base: want a duration such as 10us, 250ms or 10s, got "10"`},
		{"delay_base above max", "swarm:\n  selfmodel:\n    delay_base: 2s\n", `x.yaml:5: swarm.selfmodel: delay_base 2s above delay_max 1s (default)`},
		{"delay_max below base", "swarm:\n  selfmodel:\n    delay_max: 5us\n", `x.yaml:5: swarm.selfmodel: delay_base 10µs (default) above delay_max 5µs`},
		{"delay_factor low", "swarm:\n  selfmodel: {delay_factor: 0.5}\n", `swarm.selfmodel.delay_factor: 0.5 is below 1`},
		{"delay_factor inf", "swarm:\n  selfmodel: {delay_factor: .inf}\n", `swarm.selfmodel.delay_factor: want a number, got ".inf"`},
		{"delay_factor nan", "swarm:\n  selfmodel: {delay_factor: NaN}\n", `swarm.selfmodel.delay_factor: want a number, got "NaN"`},
		{"stable_after zero", "swarm:\n  selfmodel: {stable_after: 0}\n", `swarm.selfmodel.stable_after: 0 is below 1`},
		{"stable_after negative", "swarm:\n  selfmodel: {stable_after: -5}\n", `swarm.selfmodel.stable_after: want a non-negative integer, got "-5"`},
		{"per_process yes", "swarm:\n  selfmodel: {per_process: yes}\n", `swarm.selfmodel.per_process: want true or false, got "yes"`},
		{"keep high", "swarm:\n  selfmodel: {keep: 1025}\n", `swarm.selfmodel.keep: 1025 not in [1, 1024]`},

		{"unknown rate key", "swarm:\n  rate:\n    exec: 5\n", `x.yaml:5: swarm.rate: unknown key "exec" (want one of mode, factor, spawn, connect, open)`},
		{"rate mode", "swarm:\n  rate: {mode: on}\n", `swarm.rate.mode: unknown mode "on"`},
		{"factor low", "swarm:\n  rate: {factor: 0.9}\n", `swarm.rate.factor: 0.9 not in [1, 1000]`},
		{"factor high", "swarm:\n  rate: {factor: 1001}\n", `swarm.rate.factor: 1001 not in [1, 1000]`},
		{"factor word", "swarm:\n  rate: {factor: four}\n", `swarm.rate.factor: want a number, got "four"`},
		{"floor zero", "swarm:\n  rate:\n    spawn: 0\n", `x.yaml:5: swarm.rate.spawn: 0 not in [1, 4294967295]`},
		{"floor negative", "swarm:\n  rate: {open: -1}\n", `swarm.rate.open: want a non-negative integer, got "-1"`},
		{"floor too big", "swarm:\n  rate: {connect: 4294967296}\n", `swarm.rate.connect: 4294967296 not in [1, 4294967295]`},

		{"unknown quorum key", "swarm:\n  quorum: {needs: 2}\n", `swarm.quorum: unknown key "needs" (want one of need, window, voters)`},
		{"unknown voter", "swarm:\n  quorum:\n    voters: [rules, ids]\n", `x.yaml:5: swarm.quorum.voters: unknown "ids" (want one of rules, selfmodel, rate, memory, egress, scan, burst, sched)`},
		{"voter twice", "swarm:\n  quorum:\n    voters: [rules, rate, rules]\n", `x.yaml:5: swarm.quorum.voters: "rules" listed twice`},
		{"no voters", "swarm:\n  quorum:\n    voters: []\n", `x.yaml:5: swarm.quorum.voters: empty list; leave the key out for every detector (rules, selfmodel, rate, memory, egress, scan, burst, sched)`},
		{"voters word", "swarm:\n  quorum: {voters: rules}\n", `swarm.quorum.voters must be a list`},
		{"need zero", "swarm:\n  quorum: {need: 0}\n", `swarm.quorum.need: 0 not in [1, 8]`},
		{"need nine", "swarm:\n  quorum: {need: 9}\n", `swarm.quorum.need: 9 not in [1, 8]`},
		{"need over voters", "swarm:\n  quorum:\n    voters: [rules, rate]\n    need: 3\n", `x.yaml:6: swarm.quorum: need 3 of 2 voters can never be met`},
		{"default need over voters", "swarm:\n  quorum:\n    voters: [rate]\n", `x.yaml:5: swarm.quorum: need 2 (default) of 1 voters can never be met`},
		{"quorum window", "swarm:\n  quorum: {window: 0s}\n", `swarm.quorum.window: 0s is not positive`},

		{"unknown supervisor key", "swarm:\n  supervisor: {restarts: 5}\n", `swarm.supervisor: unknown key "restarts" (want one of intensity, period)`},
		{"intensity zero", "swarm:\n  supervisor: {intensity: 0}\n", `swarm.supervisor.intensity: 0 not in [1, 256]`},
		{"intensity high", "swarm:\n  supervisor:\n    intensity: 257\n", `x.yaml:5: swarm.supervisor.intensity: 257 not in [1, 256]`},
		{"period word", "swarm:\n  supervisor: {period: soon}\n", `swarm.supervisor.period: want a duration`},
	} {
		_, err := Parse("x.yaml", []byte(head+tc.src))
		var perr *Error
		if err == nil || !errors.Is(err, ErrInvalid) || !errors.As(err, &perr) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want %q", tc.name, err, tc.want)
		}
	}
}

func TestAgentMode(t *testing.T) {
	for _, m := range []AgentMode{AgentAuto, AgentOff, AgentLearn, AgentObserve, AgentEnforce} {
		if got, ok := ParseAgentMode(m.String()); !ok || got != m {
			t.Errorf("ParseAgentMode(%q) = %v, %v", m, got, ok)
		}
	}
	if _, ok := ParseAgentMode("strict"); ok || AgentMode(9).String() != "agentmode(9)" {
		t.Error("bad names")
	}
	for _, tc := range []struct {
		m      AgentMode
		p      Mode
		stable bool
		want   AgentMode
	}{
		{AgentAuto, ModeLearn, false, AgentLearn},
		{AgentAuto, ModeLearn, true, AgentLearn},
		{AgentAuto, ModeObserve, true, AgentObserve},
		{AgentAuto, ModeEnforce, true, AgentEnforce},
		{AgentAuto, ModeEnforce, false, AgentLearn},
		{AgentAuto, ModeObserve, false, AgentLearn},
		{AgentOff, ModeEnforce, true, AgentOff},
		{AgentEnforce, ModeLearn, false, AgentEnforce},
		{AgentObserve, ModeEnforce, true, AgentObserve},
		{AgentLearn, ModeEnforce, true, AgentLearn},
	} {
		if got := tc.m.Resolve(tc.p, tc.stable); got != tc.want {
			t.Errorf("%v.Resolve(%v, %v) = %v, want %v", tc.m, tc.p, tc.stable, got, tc.want)
		}
	}
}
