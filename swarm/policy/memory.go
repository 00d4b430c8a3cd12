package policy

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Memory is a policy's "memory:" section (docs/policy.md, "The memory
// section"): how the memory agent (swarm/memguard) watches the
// container's page faults, mappings and resident memory. The zero value of
// every field means "the agent's default"; memguard.ConfigFrom turns the
// section into the agent's configuration. Parse has checked every range.
type Memory struct {
	// Mode is the agent's mode for the container (AgentAuto: follow the
	// policy's mode, see AgentMode.Resolve; the agent has no stability
	// rule, so auto enforces under mode: enforce from the start).
	Mode AgentMode
	// Budget is the container's resident memory budget in bytes: 0 for
	// none, else at least MinMemoryBudget.
	Budget uint64
	// BudgetAction is what a container over its budget gets: MemoryKill
	// (the default: its largest thread group is killed) or MemoryRecord.
	BudgetAction MemoryAction
	// AnonExec is what enforce mode asks for when a task executes
	// anonymous memory: MemoryKill (the default) or MemoryRecord.
	AnonExec MemoryAction
	// WX is what enforce mode asks for when a task asks for a mapping
	// both writable and executable: MemoryDeny (the default) or
	// MemoryRecord.
	WX MemoryAction
	// FaultRate bounds each task's page faults per second.
	FaultRate MemoryFaultRate
}

// MemoryFaultRate configures the fault-rate check: a task's faults in one
// second above max(learnt peak * Factor, Floor) are anomalous.
type MemoryFaultRate struct {
	// Floor is in faults per second per task, at least 1 (0: 50,000).
	Floor uint32
	// Factor multiplies the learnt peak, 1..1000 (0: 4).
	Factor float64
}

// MemoryAction is an action the memory section may name.
type MemoryAction uint8

// Memory actions. MemoryDefault (the zero value) is the key's default.
const (
	MemoryDefault MemoryAction = iota
	MemoryRecord
	MemoryKill
	MemoryDeny
)

var memoryActionNames = [...]string{MemoryDefault: "default", MemoryRecord: "record", MemoryKill: "kill", MemoryDeny: "deny"}

func (a MemoryAction) String() string {
	if int(a) < len(memoryActionNames) {
		return memoryActionNames[a]
	}
	return fmt.Sprintf("memoryaction(%d)", uint8(a))
}

// MinMemoryBudget is the smallest budget other than 0 (none): below a
// mebibyte no process runs, so a smaller value is a mistake (a missing
// suffix).
const MinMemoryBudget = 1 << 20

// memFactorMax bounds fault_rate.factor (memguard.MaxFactor).
const memFactorMax = 1000

// The keys of the memory section, in the order Marshal writes them.
var (
	memoryKeys = []string{"mode", "budget", "budget_action", "anon_exec", "wx", "fault_rate"}
)

// IsZero reports whether the section says nothing: the agent at its
// defaults. Marshal leaves such a section out.
func (m *Memory) IsZero() bool { return *m == Memory{} }

// clone returns a copy of m (it holds no references).
func (m *Memory) clone() Memory { return *m }

func (p *parser) memory(n *yaml.Node) (Memory, error) {
	const what = "memory"
	var m Memory
	var budgetLine int
	err := p.fields(n, what, memoryKeys, func(key string, k, v *yaml.Node) error {
		w := what + "." + key
		var err error
		switch key {
		case "mode":
			m.Mode, err = p.agentMode(v, w)
		case "budget":
			m.Budget, err = p.bytes(v, w)
			budgetLine = v.Line
		case "budget_action":
			m.BudgetAction, err = p.memoryAction(v, w, MemoryKill, MemoryRecord)
		case "anon_exec":
			m.AnonExec, err = p.memoryAction(v, w, MemoryKill, MemoryRecord)
		case "wx":
			m.WX, err = p.memoryAction(v, w, MemoryDeny, MemoryRecord)
		case "fault_rate":
			err = p.faultRate(v, &m.FaultRate)
		}
		return err
	})
	if err != nil {
		return m, err
	}
	if m.Mode == AgentOff && m.Budget != 0 {
		return m, Errorf(p.file, budgetLine, "%s: budget %s is never enforced with mode off (the agent does not run); remove one of them", what, formatBytes(m.Budget))
	}
	return m, nil
}

// memoryAction decodes one of the allowed action names.
func (p *parser) memoryAction(v *yaml.Node, what string, allowed ...MemoryAction) (MemoryAction, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return 0, err
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		if s == a.String() {
			return a, nil
		}
		names[i] = a.String()
	}
	return 0, p.errf(v, "%s: unknown action %q (want %s)", what, s, strings.Join(names, " or "))
}

func (p *parser) faultRate(n *yaml.Node, r *MemoryFaultRate) error {
	return p.floorFactor(n, "memory.fault_rate", &r.Floor, &r.Factor, memFactorMax)
}

// byteUnits are the binary suffixes a byte count may carry, largest
// first.
var byteUnits = []struct {
	suffix string
	shift  uint
}{{"Ti", 40}, {"Gi", 30}, {"Mi", 20}, {"Ki", 10}}

// bytes decodes a byte count: a decimal integer, optionally followed by
// Ki, Mi, Gi or Ti (powers of 1024). It is 0 (none) or at least
// MinMemoryBudget, and at most math.MaxInt64.
func (p *parser) bytes(v *yaml.Node, what string) (uint64, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return 0, err
	}
	num, shift := s, uint(0)
	for _, u := range byteUnits {
		if t, ok := strings.CutSuffix(s, u.suffix); ok {
			num, shift = t, u.shift
			break
		}
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, p.errf(v, "%s: want a number of bytes such as 536870912, 512Mi or 2Gi (suffixes Ki, Mi, Gi, Ti), got %q", what, s)
	}
	if n > math.MaxInt64>>shift {
		return 0, p.errf(v, "%s: %s is too large (at most %d bytes)", what, s, int64(math.MaxInt64))
	}
	n <<= shift
	if n != 0 && n < MinMemoryBudget {
		return 0, p.errf(v, "%s: %s is below 1Mi (0 for no budget)", what, s)
	}
	return n, nil
}

// formatBytes writes n with the largest binary suffix that divides it
// exactly ("512Mi", "1536Mi"), else as plain bytes; bytes reads it back.
func formatBytes(n uint64) string {
	for _, u := range byteUnits {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatUint(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatUint(n, 10)
}

// marshalMemory writes the section's non-default values; nil when there
// are none.
func marshalMemory(m *Memory) *yaml.Node {
	if m.IsZero() {
		return nil
	}
	n := mapping(false)
	addMode(n, m.Mode)
	if m.Budget != 0 {
		b := scalar(formatBytes(m.Budget))
		if !strings.HasSuffix(b.Value, "i") {
			b.Tag = "!!int"
		}
		add(n, "budget", b)
	}
	for _, a := range []struct {
		key string
		v   MemoryAction
	}{{"budget_action", m.BudgetAction}, {"anon_exec", m.AnonExec}, {"wx", m.WX}} {
		if a.v != MemoryDefault {
			add(n, a.key, scalar(a.v.String()))
		}
	}
	if r := m.FaultRate; r != (MemoryFaultRate{}) {
		add(n, "fault_rate", marshalFloorFactor(r.Floor, r.Factor))
	}
	return n
}
