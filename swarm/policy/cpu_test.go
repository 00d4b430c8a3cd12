package policy

import (
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cpuFull sets every key of the cpu section, between the memory section
// and the rules, as Marshal writes them.
const cpuFull = `version: 1
mode: enforce
default: allow
memory:
  budget: 512Mi
cpu:
  mode: observe
  weight: 2048
  quota: 1.5
  spawn_floor: 500
  busy_after: 2m
rules:
  - action: kill
    syscalls: [ptrace]
`

func TestCPUParse(t *testing.T) {
	const head = "version: 1\ndefault: allow\n"
	for _, tc := range []struct {
		name, src string
		want      CPU
	}{
		{"absent", "", CPU{}},
		{"empty", "cpu: {}\n", CPU{}},
		{"auto", "cpu: {mode: auto}\n", CPU{}},
		{"full", "cpu:\n  mode: observe\n  weight: 2048\n  quota: 1.5\n  spawn_floor: 500\n  busy_after: 2m\n",
			CPU{Mode: AgentObserve, Weight: 2048, Quota: 1.5, SpawnFloor: 500, BusyAfter: 2 * time.Minute}},
		{"doc example", "cpu:\n  mode: enforce\n  weight: 2048\n  quota: 1.5\n", CPU{Mode: AgentEnforce, Weight: 2048, Quota: 1.5}},
		{"learn", "cpu: {mode: learn}\n", CPU{Mode: AgentLearn}},
		{"weight min", "cpu: {weight: 2}\n", CPU{Weight: MinCPUWeight}},
		{"weight max", "cpu: {weight: 262144}\n", CPU{Weight: MaxCPUWeight}},
		{"weight quoted", "cpu: {weight: \"512\"}\n", CPU{Weight: 512}},
		{"quota min", "cpu: {quota: 0.01}\n", CPU{Quota: MinCPUQuota}},
		{"quota max", "cpu: {quota: 4096}\n", CPU{Quota: MaxCPUQuota}},
		{"quota integer", "cpu: {quota: 2}\n", CPU{Quota: 2}},
		{"quota half", "cpu: {quota: .5}\n", CPU{Quota: 0.5}},
		{"quota exponent", "cpu: {quota: 1e-2}\n", CPU{Quota: 0.01}},
		{"quota quoted", "cpu: {quota: \"0.25\"}\n", CPU{Quota: 0.25}},
		{"quota long", "cpu: {quota: 0.123456789}\n", CPU{Quota: 0.123456789}},
		{"spawn_floor min", "cpu: {spawn_floor: 1}\n", CPU{SpawnFloor: MinCPUSpawnFloor}},
		{"spawn_floor max", "cpu: {spawn_floor: 1000000}\n", CPU{SpawnFloor: MaxCPUSpawnFloor}},
		{"busy_after min", "cpu: {busy_after: 1s}\n", CPU{BusyAfter: MinCPUBusyAfter}},
		{"busy_after max", "cpu: {busy_after: 1h}\n", CPU{BusyAfter: MaxCPUBusyAfter}},
		{"busy_after minutes", "cpu: {busy_after: 60m}\n", CPU{BusyAfter: time.Hour}},
		{"busy_after mixed", "cpu: {busy_after: 1m30s}\n", CPU{BusyAfter: 90 * time.Second}},
		{"busy_after fraction", "cpu: {busy_after: 2.5s}\n", CPU{BusyAfter: 2500 * time.Millisecond}},
		{"off", "cpu: {mode: off}\n", CPU{Mode: AgentOff}},
		// The detection thresholds are kept with mode off, as memory's
		// fault_rate is: they limit nothing.
		{"off, thresholds", "cpu:\n  mode: off\n  spawn_floor: 50\n  busy_after: 30s\n",
			CPU{Mode: AgentOff, SpawnFloor: 50, BusyAfter: 30 * time.Second}},
	} {
		p, err := Parse("x.yaml", []byte(head+tc.src))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if p.CPU != tc.want {
			t.Errorf("%s: cpu = %+v\nwant %+v", tc.name, p.CPU, tc.want)
		}
		if p.CPU.IsZero() != (tc.want == CPU{}) {
			t.Errorf("%s: IsZero = %v", tc.name, p.CPU.IsZero())
		}
		out, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse("x2.yaml", out)
		if err != nil {
			t.Errorf("%s: reparse: %v\n%s", tc.name, err, out)
			continue
		}
		if !p.Equal(q) || p.CPU != q.CPU {
			t.Errorf("%s: round trip differs:\n%s", tc.name, out)
		}
		if has := strings.Contains(string(out), "cpu:"); has == p.CPU.IsZero() {
			t.Errorf("%s: marshalled cpu section present = %v:\n%s", tc.name, has, out)
		}
	}
}

func TestCPUMarshal(t *testing.T) {
	p, err := Parse("f.yaml", []byte(cpuFull))
	if err != nil {
		t.Fatal(err)
	}
	if p.Lines.CPU != 7 || p.Lines.Memory != 5 {
		t.Errorf("cpu at line %d, memory at line %d", p.Lines.CPU, p.Lines.Memory)
	}
	out, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != cpuFull {
		t.Errorf("marshal:\n%s\nwant:\n%s", out, cpuFull)
	}
	if marshalCPU(&CPU{}) != nil {
		t.Error("the zero section marshals to a node")
	}
	// Whole quotas are written as integers, others in the shortest form
	// that reads back; durations without zero tails.
	for _, tc := range []struct {
		c    CPU
		want string
	}{
		{CPU{Quota: 2}, "cpu:\n  quota: 2\n"},
		{CPU{Quota: 0.01}, "cpu:\n  quota: 0.01\n"},
		{CPU{Quota: 1.0 / 3}, "cpu:\n  quota: 0.3333333333333333\n"},
		{CPU{BusyAfter: 90 * time.Second}, "cpu:\n  busy_after: 1m30s\n"},
		{CPU{BusyAfter: time.Hour}, "cpu:\n  busy_after: 1h\n"},
		{CPU{Mode: AgentOff, SpawnFloor: 7}, "cpu:\n  mode: off\n  spawn_floor: 7\n"},
	} {
		p := &Policy{Version: Version, Default: Allow, CPU: tc.c}
		out, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(string(out), "default: allow\n"+tc.want) {
			t.Errorf("%+v: marshal:\n%s\nwant it to end with:\n%s", tc.c, out, tc.want)
		}
		q, err := Parse("x.yaml", out)
		if err != nil || q.CPU != tc.c {
			t.Errorf("%+v: reparse: %v, %+v", tc.c, err, q)
		}
	}
}

// TestCPURoundTrip extends the round trips of policy_test.go to policies
// with every section.
func TestCPURoundTrip(t *testing.T) {
	cpu := "cpu:\n  mode: enforce\n  weight: 100\n  quota: 0.75\n  busy_after: 45s\n"
	for name, src := range map[string]string{
		"cpu full":    cpuFull,
		"memory full": memoryFull + cpu,
		"swarm full":  swarmFull + cpu,
		"rules full":  strings.Replace(full, "rules:\n", cpu+"rules:\n", 1),
	} {
		p, err := Parse(name, []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.CPU.IsZero() {
			t.Fatalf("%s: no cpu section", name)
		}
		out, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse(name+"2", out)
		if err != nil {
			t.Fatalf("%s: reparse: %v\n%s", name, err, out)
		}
		if !p.Equal(q) || p.CPU != q.CPU {
			t.Errorf("%s: round trip differs:\n%s", name, out)
		}
		// The top-level keys come in Marshal's order: cpu after memory,
		// before rules.
		s := string(out)
		if i, j := strings.Index(s, "\ncpu:"), strings.Index(s, "\nrules:"); j >= 0 && i > j {
			t.Errorf("%s: cpu after rules:\n%s", name, out)
		}
		if i, j := strings.Index(s, "\nmemory:"), strings.Index(s, "\ncpu:"); i >= 0 && i > j {
			t.Errorf("%s: cpu before memory:\n%s", name, out)
		}
	}
}

func TestCPUEqual(t *testing.T) {
	parse := func(src string) *Policy {
		p, err := Parse("x.yaml", []byte("version: 1\ndefault: allow\n"+src))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := parse("")
	for _, src := range []string{
		"cpu: {weight: 1024}\n", // set to the default is not unset
		"cpu: {quota: 1}\n",
		"cpu: {spawn_floor: 200}\n",
		"cpu: {busy_after: 10s}\n",
		"cpu: {mode: off}\n",
	} {
		if p := parse(src); p.Equal(base) || !p.Equal(parse(src)) {
			t.Errorf("%q: Equal wrong", src)
		}
	}
	if !parse("cpu: {busy_after: 1m}\n").Equal(parse("cpu: {busy_after: 60s}\n")) {
		t.Error("1m and 60s differ")
	}
	if !parse("cpu: {quota: 0.5}\n").Equal(parse("cpu: {quota: \"5e-1\"}\n")) {
		t.Error("0.5 and 5e-1 differ")
	}
	if !parse("cpu: {}\n").Equal(base) {
		t.Error("cpu: {} differs from no section")
	}
}

func TestCPUErrors(t *testing.T) {
	const head = "version: 1\ndefault: allow\n"
	for _, tc := range []struct{ name, src, want string }{
		{"not a mapping", "cpu: 2\n", `x.yaml:3: cpu must be a mapping`},
		{"null", "cpu:\n", `x.yaml:3: cpu must be a mapping`},
		{"list", "cpu: [quota]\n", `x.yaml:3: cpu must be a mapping`},
		{"unknown key", "cpu:\n  shares: 1024\n", `x.yaml:4: cpu: unknown key "shares" (want one of mode, weight, quota, share, spawn_floor, busy_after)`},
		{"dup key", "cpu:\n  quota: 1\n  quota: 2\n", `x.yaml:5: cpu: duplicate key "quota" (first at line 4)`},
		{"alias", "cpu:\n  quota: &q 1\n  weight: *q\n", `x.yaml:5: YAML aliases are not supported`},
		{"bad mode", "cpu: {mode: strict}\n", `x.yaml:3: cpu.mode: unknown mode "strict" (want auto, off, learn, observe, enforce)`},
		{"mode list", "cpu:\n  mode: [enforce]\n", `x.yaml:4: cpu.mode must be a single value`},

		{"weight low", "cpu:\n  weight: 1\n", `x.yaml:4: cpu.weight: 1 not in [2, 262144]`},
		{"weight zero", "cpu: {weight: 0}\n", `x.yaml:3: cpu.weight: 0 not in [2, 262144]`},
		{"weight high", "cpu: {weight: 262145}\n", `cpu.weight: 262145 not in [2, 262144]`},
		{"weight huge", "cpu: {weight: 4294967296}\n", `cpu.weight: 4294967296 not in [2, 262144]`},
		{"weight negative", "cpu: {weight: -1}\n", `cpu.weight: want a non-negative integer, got "-1"`},
		{"weight fraction", "cpu: {weight: 1.5}\n", `cpu.weight: want a non-negative integer, got "1.5"`},
		{"weight word", "cpu: {weight: high}\n", `cpu.weight: want a non-negative integer, got "high"`},
		{"weight mapping", "cpu:\n  weight: {a: 1}\n", `x.yaml:4: cpu.weight must be a single value`},

		{"quota zero", "cpu:\n  quota: 0\n", `x.yaml:4: cpu.quota: 0 is not positive (omit quota for none)`},
		{"quota zero float", "cpu: {quota: 0.0}\n", `cpu.quota: 0.0 is not positive (omit quota for none)`},
		{"quota negative", "cpu: {quota: -1}\n", `x.yaml:3: cpu.quota: -1 is not positive (omit quota for none)`},
		{"quota none", "cpu: {quota: none}\n", `cpu.quota: want a number of CPUs such as 0.5 or 2, got "none" (omit quota for none)`},
		{"quota unit", "cpu: {quota: 2cpus}\n", `cpu.quota: want a number of CPUs such as 0.5 or 2, got "2cpus"`},
		{"quota percent", "cpu: {quota: 50%}\n", `got "50%"`},
		{"quota nan", "cpu: {quota: .nan}\n", `cpu.quota: want a number of CPUs such as 0.5 or 2, got ".nan"`},
		{"quota inf", "cpu: {quota: .inf}\n", `got ".inf"`},
		{"quota Inf", "cpu: {quota: Inf}\n", `got "Inf"`},
		{"quota small", "cpu:\n  quota: 0.001\n", `x.yaml:4: cpu.quota: 0.001 not in [0.01, 4096]`},
		{"quota large", "cpu: {quota: 4096.5}\n", `cpu.quota: 4096.5 not in [0.01, 4096]`},
		{"quota list", "cpu: {quota: [1]}\n", `x.yaml:3: cpu.quota must be a single value`},

		{"spawn_floor zero", "cpu:\n  spawn_floor: 0\n", `x.yaml:4: cpu.spawn_floor: 0 not in [1, 1000000]`},
		{"spawn_floor high", "cpu: {spawn_floor: 1000001}\n", `cpu.spawn_floor: 1000001 not in [1, 1000000]`},
		{"spawn_floor word", "cpu: {spawn_floor: many}\n", `cpu.spawn_floor: want a non-negative integer, got "many"`},

		{"busy_after short", "cpu:\n  busy_after: 500ms\n", `x.yaml:4: cpu.busy_after: 500ms not in [1s, 1h]`},
		{"busy_after long", "cpu: {busy_after: 61m}\n", `cpu.busy_after: 61m not in [1s, 1h]`},
		{"busy_after zero", "cpu: {busy_after: 0s}\n", `cpu.busy_after: 0s not in [1s, 1h]`},
		{"busy_after negative", "cpu: {busy_after: -10s}\n", `cpu.busy_after: -10s not in [1s, 1h]`},
		{"busy_after no unit", "cpu: {busy_after: 10}\n", `cpu.busy_after: want a duration such as 10s or 2m, got "10"`},
		{"busy_after days", "cpu: {busy_after: 1d}\n", `cpu.busy_after: want a duration such as 10s or 2m, got "1d"`},
		{"busy_after list", "cpu:\n  busy_after: [10s]\n", `x.yaml:4: cpu.busy_after must be a single value`},

		{"quota with off", "cpu:\n  mode: off\n  quota: 1.5\n", `x.yaml:5: cpu: quota 1.5 is never enforced with mode off (the scheduler does not run); remove one of them`},
		{"quota before off", "cpu:\n  quota: 2\n  mode: off\n", `x.yaml:4: cpu: quota 2 is never enforced with mode off`},
		{"weight with off", "cpu:\n  mode: off\n  weight: 2048\n", `x.yaml:5: cpu: weight 2048 is never applied with mode off (the scheduler does not run); remove one of them`},
		{"both with off", "cpu:\n  weight: 2048\n  quota: 0.5\n  mode: off\n", `x.yaml:5: cpu: quota 0.5 is never enforced with mode off`},
	} {
		_, err := Parse("x.yaml", []byte(head+tc.src))
		var perr *Error
		if err == nil || !errors.Is(err, ErrInvalid) || !errors.As(err, &perr) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want %q", tc.name, err, tc.want)
		}
	}
	// The top level knows the key.
	if _, err := Parse("x.yaml", []byte(head+"cpus: {}\n")); err == nil ||
		!strings.Contains(err.Error(), `x.yaml:3: policy: unknown key "cpus" (want one of version, mode, default, swarm, network, memory, cpu, heal, rules)`) {
		t.Errorf("cpus: err = %v", err)
	}
}

func TestCPUIsZero(t *testing.T) {
	var c CPU
	if !c.IsZero() {
		t.Error("zero CPU is not IsZero")
	}
	for _, c := range []CPU{
		{Mode: AgentOff}, {Mode: AgentEnforce}, {Weight: 1024}, {Quota: 1},
		{SpawnFloor: 200}, {BusyAfter: 10 * time.Second},
	} {
		if c.IsZero() {
			t.Errorf("%+v: IsZero", c)
		}
		// The section holds no references: its copy is the value itself.
		if c.clone() != c {
			t.Errorf("%+v: clone differs", c)
		}
	}
	if p := Default(); !p.CPU.IsZero() {
		t.Errorf("the default policy has a cpu section: %+v", p.CPU)
	}
}

// cpuDocExample finds the example of docs/policy.md's cpu section.
var cpuDocExample = regexp.MustCompile("(?s)\n## The cpu section\n.*?```yaml\n(.*?)```\n")

// TestCPUDocExample parses the example the documentation shows.
func TestCPUDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	m := cpuDocExample.FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/policy.md: no yaml example in the cpu section")
	}
	p, err := Parse("policy.md", m[1])
	if err != nil {
		t.Fatalf("%v\n%s", err, m[1])
	}
	if want := (CPU{Mode: AgentEnforce, Weight: 2048, Quota: 1.5}); p.CPU != want {
		t.Errorf("cpu = %+v, want %+v", p.CPU, want)
	}
	if !strings.Contains(string(doc), "| `cpu` | no |") {
		t.Error("docs/policy.md: the top-level table does not list cpu")
	}
}

func FuzzCPU(f *testing.F) {
	f.Add([]byte(cpuFull))
	f.Add([]byte("version: 1\ndefault: allow\ncpu: {quota: 0.01, weight: 2, busy_after: 1h}\n"))
	f.Add([]byte("version: 1\ndefault: allow\ncpu: {mode: off, spawn_floor: 1}\n"))
	f.Fuzz(checkRoundTrip)
}

func TestCPUShare(t *testing.T) {
	for _, tc := range []struct {
		text string
		want CPUShare
		err  string
	}{
		{"cpu:\n  share: groups\n", CPUShareGroups, ""},
		{"cpu:\n  share: tasks\n", CPUShareTasks, ""},
		{"cpu:\n  share: threads\n", 0, `x.yaml:5: cpu.share: unknown "threads" (want tasks or groups)`},
	} {
		p, err := Parse("x.yaml", []byte("version: 1\nmode: enforce\ndefault: allow\n"+tc.text))
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: err %v, want %s", tc.text, err, tc.err)
			}
			continue
		}
		if err != nil || p.CPU.Share != tc.want {
			t.Fatalf("%q: %v, %v", tc.text, p, err)
		}
		out, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse("x.yaml", out)
		if err != nil || !q.Equal(p) {
			t.Errorf("round trip of %q: %s, %v", tc.text, out, err)
		}
	}
}
