package policy

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// memoryFull sets every key of the memory section.
const memoryFull = `version: 1
mode: enforce
default: allow
memory:
  mode: observe
  budget: 512Mi
  budget_action: record
  anon_exec: record
  wx: record
  fault_rate: {floor: 20000, factor: 2.5}
`

func TestMemoryParse(t *testing.T) {
	const head = "version: 1\ndefault: allow\n"
	for _, tc := range []struct {
		name, src string
		want      Memory
	}{
		{"absent", "", Memory{}},
		{"empty", "memory: {}\n", Memory{}},
		{"empty fault rate", "memory: {fault_rate: {}}\n", Memory{}},
		{"full", strings.TrimPrefix(memoryFull, "version: 1\nmode: enforce\ndefault: allow\n"), Memory{
			Mode: AgentObserve, Budget: 512 << 20, BudgetAction: MemoryRecord, AnonExec: MemoryRecord, WX: MemoryRecord,
			FaultRate: MemoryFaultRate{Floor: 20000, Factor: 2.5}}},
		{"defaults spelt out", "memory: {mode: auto, budget_action: kill, anon_exec: kill, wx: deny}\n",
			Memory{BudgetAction: MemoryKill, AnonExec: MemoryKill, WX: MemoryDeny}},
		{"plain bytes", "memory: {budget: 1048576}\n", Memory{Budget: 1 << 20}},
		{"odd bytes", "memory: {budget: 1048577}\n", Memory{Budget: 1<<20 + 1}},
		{"quoted bytes", "memory: {budget: \"2097152\"}\n", Memory{Budget: 2 << 20}},
		{"Ki", "memory: {budget: 1536Ki}\n", Memory{Budget: 1536 << 10}},
		{"Gi", "memory: {budget: 2Gi}\n", Memory{Budget: 2 << 30}},
		{"Ti", "memory: {budget: 1Ti}\n", Memory{Budget: 1 << 40}},
		{"mixed", "memory: {budget: 1536Mi}\n", Memory{Budget: 1536 << 20}},
		{"zero", "memory: {budget: 0}\n", Memory{}},
		{"zero Mi", "memory: {budget: 0Mi}\n", Memory{}},
		{"largest", "memory: {budget: 9223372036854775807}\n", Memory{Budget: 1<<63 - 1}},
		{"largest Ti", "memory: {budget: 8388607Ti}\n", Memory{Budget: 8388607 << 40}},
		{"off", "memory: {mode: off}\n", Memory{Mode: AgentOff}},
		{"off, budget 0", "memory: {mode: off, budget: 0}\n", Memory{Mode: AgentOff}},
		{"enforce", "memory: {mode: enforce}\n", Memory{Mode: AgentEnforce}},
		{"learn", "memory:\n  mode: learn\n  fault_rate:\n    floor: 1\n", Memory{Mode: AgentLearn, FaultRate: MemoryFaultRate{Floor: 1}}},
		{"factor max", "memory: {fault_rate: {factor: 1000, floor: 4294967295}}\n", Memory{FaultRate: MemoryFaultRate{Factor: 1000, Floor: 1<<32 - 1}}},
	} {
		p, err := Parse("x.yaml", []byte(head+tc.src))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if p.Memory != tc.want {
			t.Errorf("%s: memory = %+v\nwant %+v", tc.name, p.Memory, tc.want)
		}
		if p.Memory.IsZero() != (tc.want == Memory{}) {
			t.Errorf("%s: IsZero = %v", tc.name, p.Memory.IsZero())
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
		if !p.Equal(q) || p.Memory != q.Memory {
			t.Errorf("%s: round trip differs:\n%s", tc.name, out)
		}
		if has := strings.Contains(string(out), "memory:"); has == p.Memory.IsZero() {
			t.Errorf("%s: marshalled memory section present = %v:\n%s", tc.name, has, out)
		}
	}
}

func TestMemoryMarshal(t *testing.T) {
	p, err := Parse("f.yaml", []byte(memoryFull))
	if err != nil {
		t.Fatal(err)
	}
	if p.Lines.Memory != 5 {
		t.Errorf("memory at line %d", p.Lines.Memory)
	}
	out, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != memoryFull {
		t.Errorf("marshal:\n%s\nwant:\n%s", out, memoryFull)
	}
	if marshalMemory(&Memory{}) != nil {
		t.Error("the zero section marshals to a node")
	}
	// Budgets are written with the largest exact suffix, plain otherwise.
	for n, want := range map[uint64]string{
		512 << 20: "512Mi", 1536 << 20: "1536Mi", 2 << 30: "2Gi", 1 << 40: "1Ti",
		3 << 10: "3Ki", 1<<20 + 1: "1048577", 1<<20 + 512: "1049088",
	} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestMemoryEqual(t *testing.T) {
	parse := func(src string) *Policy {
		p, err := Parse("x.yaml", []byte("version: 1\ndefault: allow\n"+src))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := parse("")
	for _, src := range []string{
		"memory: {budget: 1Gi}\n",
		"memory: {wx: deny}\n", // set to the default is not unset
		"memory: {fault_rate: {factor: 4}}\n",
		"memory: {mode: learn}\n",
	} {
		if p := parse(src); p.Equal(base) || !p.Equal(parse(src)) {
			t.Errorf("%q: Equal wrong", src)
		}
	}
	if !parse("memory: {budget: 1Gi}\n").Equal(parse("memory: {budget: 1024Mi}\n")) {
		t.Error("1Gi and 1024Mi differ")
	}
}

func TestMemoryErrors(t *testing.T) {
	const head = "version: 1\ndefault: allow\n"
	for _, tc := range []struct{ name, src, want string }{
		{"not a mapping", "memory: 512Mi\n", `x.yaml:3: memory must be a mapping`},
		{"null", "memory:\n", `x.yaml:3: memory must be a mapping`},
		{"unknown key", "memory:\n  budgt: 1Gi\n", `x.yaml:4: memory: unknown key "budgt" (want one of mode, budget, budget_action, anon_exec, wx, fault_rate)`},
		{"dup key", "memory:\n  wx: deny\n  wx: record\n", `x.yaml:5: memory: duplicate key "wx" (first at line 4)`},
		{"alias", "memory:\n  fault_rate: &f {}\n  budget: *f\n", `x.yaml:5: YAML aliases are not supported`},
		{"bad mode", "memory: {mode: strict}\n", `x.yaml:3: memory.mode: unknown mode "strict" (want auto, off, learn, observe, enforce)`},
		{"mode list", "memory:\n  mode: [learn]\n", `x.yaml:4: memory.mode must be a single value`},

		{"budget word", "memory:\n  budget: lots\n", `x.yaml:4: memory.budget: want a number of bytes such as 536870912, 512Mi or 2Gi (suffixes Ki, Mi, Gi, Ti), got "lots"`},
		{"budget SI", "memory: {budget: 512M}\n", `memory.budget: want a number of bytes such as 536870912, 512Mi or 2Gi (suffixes Ki, Mi, Gi, Ti), got "512M"`},
		{"budget lower case", "memory: {budget: 512mi}\n", `got "512mi"`},
		{"budget fraction", "memory: {budget: 1.5Gi}\n", `got "1.5Gi"`},
		{"budget negative", "memory: {budget: -1}\n", `got "-1"`},
		{"budget plus", "memory: {budget: +1Gi}\n", `got "+1Gi"`},
		{"budget suffix only", "memory: {budget: Mi}\n", `got "Mi"`},
		{"budget space", "memory: {budget: 512 Mi}\n", `got "512 Mi"`},
		{"budget hex", "memory: {budget: 0x100000}\n", `got "0x100000"`},
		{"budget small", "memory:\n  budget: 1000\n", `x.yaml:4: memory.budget: 1000 is below 1Mi (0 for no budget)`},
		{"budget small Ki", "memory: {budget: 1023Ki}\n", `memory.budget: 1023Ki is below 1Mi (0 for no budget)`},
		{"budget huge", "memory: {budget: 8388608Ti}\n", `memory.budget: 8388608Ti is too large (at most 9223372036854775807 bytes)`},
		{"budget overflow", "memory: {budget: 18446744073709551616}\n", `memory.budget: want a number of bytes`},
		{"budget above int64", "memory: {budget: 9223372036854775808}\n", `is too large`},
		{"budget mapping", "memory:\n  budget: {a: 1}\n", `x.yaml:4: memory.budget must be a single value`},
		{"budget with off", "memory:\n  mode: off\n  budget: 1Gi\n", `x.yaml:5: memory: budget 1Gi is never enforced with mode off (the agent does not run); remove one of them`},

		{"budget_action deny", "memory: {budget_action: deny}\n", `x.yaml:3: memory.budget_action: unknown action "deny" (want kill or record)`},
		{"anon_exec deny", "memory: {anon_exec: deny}\n", `memory.anon_exec: unknown action "deny" (want kill or record)`},
		{"anon_exec default", "memory: {anon_exec: default}\n", `memory.anon_exec: unknown action "default" (want kill or record)`},
		{"wx kill", "memory:\n  wx: kill\n", `x.yaml:4: memory.wx: unknown action "kill" (want deny or record)`},
		{"wx list", "memory: {wx: [deny]}\n", `memory.wx must be a single value`},

		{"fault_rate word", "memory: {fault_rate: fast}\n", `x.yaml:3: memory.fault_rate must be a mapping`},
		{"fault_rate key", "memory:\n  fault_rate:\n    ceiling: 5\n", `x.yaml:5: memory.fault_rate: unknown key "ceiling" (want one of floor, factor)`},
		{"floor zero", "memory: {fault_rate: {floor: 0}}\n", `memory.fault_rate.floor: 0 not in [1, 4294967295]`},
		{"floor big", "memory: {fault_rate: {floor: 4294967296}}\n", `memory.fault_rate.floor: 4294967296 not in [1, 4294967295]`},
		{"floor negative", "memory: {fault_rate: {floor: -5}}\n", `memory.fault_rate.floor: want a non-negative integer, got "-5"`},
		{"factor low", "memory: {fault_rate: {factor: 0.5}}\n", `memory.fault_rate.factor: 0.5 not in [1, 1000]`},
		{"factor high", "memory: {fault_rate: {factor: 1001}}\n", `memory.fault_rate.factor: 1001 not in [1, 1000]`},
		{"factor nan", "memory: {fault_rate: {factor: .nan}}\n", `memory.fault_rate.factor: want a number, got ".nan"`},
	} {
		_, err := Parse("x.yaml", []byte(head+tc.src))
		var perr *Error
		if err == nil || !errors.Is(err, ErrInvalid) || !errors.As(err, &perr) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want %q", tc.name, err, tc.want)
		}
	}
}

func TestMemoryActionString(t *testing.T) {
	for a, want := range map[MemoryAction]string{MemoryDefault: "default", MemoryRecord: "record", MemoryKill: "kill", MemoryDeny: "deny", 9: "memoryaction(9)"} {
		if a.String() != want {
			t.Errorf("%d: %q, want %q", uint8(a), a.String(), want)
		}
	}
	// The section holds no references: its copy is the value itself.
	m := Memory{Budget: 1 << 30}
	if c := m.clone(); !reflect.DeepEqual(c, m) {
		t.Error("clone differs")
	}
}
