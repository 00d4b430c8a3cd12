package policy

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/athenaos/athena/swarm/restart"
)

// AgentMode is a swarm agent's mode as the swarm section sets it.
type AgentMode uint8

const (
	// AgentAuto follows the policy's mode (see Resolve). The default.
	AgentAuto AgentMode = iota
	// AgentOff: the agent does not run.
	AgentOff
	// AgentLearn: the agent learns and decides nothing.
	AgentLearn
	// AgentObserve: the agent records what it would do.
	AgentObserve
	// AgentEnforce: the agent's decisions are carried out (harmful ones
	// subject to the quorum).
	AgentEnforce
)

var agentModeNames = [...]string{AgentAuto: "auto", AgentOff: "off", AgentLearn: "learn", AgentObserve: "observe", AgentEnforce: "enforce"}

func (m AgentMode) String() string {
	if int(m) < len(agentModeNames) {
		return agentModeNames[m]
	}
	return fmt.Sprintf("agentmode(%d)", uint8(m))
}

// ParseAgentMode parses "auto", "off", "learn", "observe" or "enforce".
func ParseAgentMode(s string) (AgentMode, bool) {
	for i, n := range agentModeNames {
		if n == s {
			return AgentMode(i), true
		}
	}
	return 0, false
}

// Resolve returns the mode an agent runs in under a policy in mode p: m
// itself unless m is AgentAuto. Auto follows the policy's mode (learn,
// observe, enforce), except that it observes or enforces only when stable
// is true and goes on learning otherwise, so that a workload's runs
// together bring its model to stability (each run's model is merged into
// the workload's long memory). stable says whether the agent's model is
// stable (the sense of self's stability rule); agents without such a
// rule (the rate detector, whose floors apply until it has learnt) pass
// true.
func (m AgentMode) Resolve(p Mode, stable bool) AgentMode {
	if m != AgentAuto {
		return m
	}
	switch {
	case p == ModeLearn || !stable:
		return AgentLearn
	case p == ModeObserve:
		return AgentObserve
	}
	return AgentEnforce
}

// SwarmVoters are the detector names a quorum may list in "voters:", and
// its default voters.
var SwarmVoters = []string{"rules", "selfmodel", "rate", "memory", "egress", "scan", "burst", "sched"}

// Swarm is a policy's "swarm:" section: how the container's swarm agents
// are configured. The zero value of every field means "the agent's
// default"; the sentry converts the section into the agents' own configs
// (this package imports none of them). Parse has checked every range
// against the agents' limits.
type Swarm struct {
	SelfModel  SwarmSelfModel
	Rate       SwarmRate
	Quorum     SwarmQuorum
	Supervisor SwarmSupervisor
}

// SwarmSelfModel configures the sense-of-self detector (swarm/selfmodel;
// its package doc gives the meaning of each value and why the defaults).
type SwarmSelfModel struct {
	Mode AgentMode
	// Window is the window length K, 2..16 (0: 6).
	Window int
	// Frame is the locality frame, 1..128 (0: 32).
	Frame int
	// DelayAt, DenyAt and KillAt are the LFC thresholds of the response
	// steps: nil means the default (2, 12, 24), 0 turns the step off.
	// The steps that are on satisfy DelayAt <= DenyAt <= KillAt <= Frame,
	// defaults included.
	DelayAt, DenyAt, KillAt *int
	// DelayBase, DelayFactor and DelayMax shape the delay (0: 10µs, 2,
	// 1s). DelayBase and DelayMax are positive with DelayBase <= DelayMax,
	// DelayFactor is finite and at least 1.
	DelayBase   time.Duration
	DelayFactor float64
	DelayMax    time.Duration
	// StableAfter is the stability rule's number of training windows
	// (0: 100,000).
	StableAfter uint64
	// PerProcess keys tasks by thread group instead of by thread.
	PerProcess bool
	// Keep is the number of anomalous windows kept per task, 1..1024
	// (0: Frame).
	Keep int
}

// SwarmRate configures the rate detector (swarm/rate). A class's count per
// second per thread group above max(peak*Factor, its floor) is anomalous.
type SwarmRate struct {
	Mode AgentMode
	// Factor multiplies the learnt peaks, 1..1000 (0: 4).
	Factor float64
	// Spawn, Connect and Open are the floors in calls per second per
	// thread group, at least 1 (0: 200, 500, 20000).
	Spawn, Connect, Open uint32
}

// SwarmQuorum configures the quorum (swarm/quorum) that harmful actions
// need.
type SwarmQuorum struct {
	// Need is how many distinct voters must agree, 1..len(Voters) (0: 2).
	Need int
	// Window is how long a vote stays valid, positive (0: 10s).
	Window time.Duration
	// Voters are the detectors whose votes count, names from SwarmVoters
	// without repeats (nil: all of SwarmVoters).
	Voters []string
}

// SwarmSupervisor configures the supervisor (swarm/supervisor) that
// restarts the agents.
type SwarmSupervisor struct {
	// Intensity is how many restarts of one agent within Period the
	// supervisor allows, 1..256 (0: 5).
	Intensity int
	// Period is the intensity's window, positive (0: 10s).
	Period time.Duration
}

// IsZero reports whether the section says nothing: every agent at its
// defaults. Marshal leaves such a section out.
func (s *Swarm) IsZero() bool {
	return s.SelfModel == (SwarmSelfModel{}) && s.Rate == (SwarmRate{}) &&
		s.Quorum.Need == 0 && s.Quorum.Window == 0 && len(s.Quorum.Voters) == 0 &&
		s.Supervisor == (SwarmSupervisor{})
}

// clone returns a deep copy of s.
func (s *Swarm) clone() Swarm {
	c := *s
	for _, p := range []**int{&c.SelfModel.DelayAt, &c.SelfModel.DenyAt, &c.SelfModel.KillAt} {
		if *p != nil {
			v := **p
			*p = &v
		}
	}
	c.Quorum.Voters = slices.Clone(s.Quorum.Voters)
	return c
}

// The agents' defaults and limits, copied from their packages (which this
// one may not import) to check a section as a whole: the selfmodel
// thresholds against each other and the frame, the quorum's need against
// its voters. The sentry's conversion is where both meet.
const (
	selfFrameDefault   = 32 // selfmodel.DefaultFrame
	selfFrameMax       = 128
	selfDelayAtDefault = 2  // selfmodel.DefaultDelayAt
	selfDenyAtDefault  = 12 // selfmodel.DefaultDenyAt
	selfKillAtDefault  = 24 // selfmodel.DefaultKillAt
	selfWindowMin      = 2  // selfmodel.MinK
	selfWindowMax      = 16 // selfmodel.MaxK
	selfKeepMax        = 1024
	selfDelayBase      = 10 * time.Microsecond // selfmodel.DefaultDelayBase
	selfDelayMax       = time.Second           // selfmodel.DefaultDelayMax
	rateFactorMax      = 1000                  // rate.MaxFactor
	quorumNeedDefault  = 2                     // quorum.DefaultConfig
	supervisorMaxInt   = 256                   // supervisor.MaxIntensity
)

// The keys of the swarm section, in the order Marshal writes them.
var (
	swarmKeys      = []string{"selfmodel", "rate", "quorum", "supervisor"}
	selfModelKeys  = []string{"mode", "window", "frame", "delay_at", "deny_at", "kill_at", "delay_base", "delay_factor", "delay_max", "stable_after", "per_process", "keep"}
	rateKeys       = []string{"mode", "factor", "spawn", "connect", "open"}
	quorumKeys     = []string{"need", "window", "voters"}
	supervisorKeys = []string{"intensity", "period"}
)

func (p *parser) swarm(n *yaml.Node) (Swarm, error) {
	var s Swarm
	err := p.fields(n, "swarm", swarmKeys, func(key string, k, v *yaml.Node) error {
		switch key {
		case "selfmodel":
			return p.selfModel(v, &s.SelfModel)
		case "rate":
			return p.rate(v, &s.Rate)
		case "quorum":
			return p.quorum(v, &s.Quorum)
		case "supervisor":
			return p.supervisor(v, &s.Supervisor)
		}
		return nil
	})
	return s, err
}

func (p *parser) agentMode(v *yaml.Node, what string) (AgentMode, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return 0, err
	}
	m, ok := ParseAgentMode(s)
	if !ok {
		return 0, p.errf(v, "%s: unknown mode %q (want %s)", what, s, strings.Join(agentModeNames[:], ", "))
	}
	return m, nil
}

// intIn decodes a decimal integer in [lo, hi].
func (p *parser) intIn(v *yaml.Node, what string, lo, hi int64) (int64, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, p.errf(v, "%s: want an integer, got %q", what, s)
	}
	if n < lo || n > hi {
		return 0, p.errf(v, "%s: %d not in [%d, %d]", what, n, lo, hi)
	}
	return n, nil
}

// uintIn decodes a decimal unsigned integer in [lo, hi].
func (p *parser) uintIn(v *yaml.Node, what string, lo, hi uint64) (uint64, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, p.errf(v, "%s: want a non-negative integer, got %q", what, s)
	}
	if n < lo || n > hi {
		if hi == math.MaxUint64 {
			return 0, p.errf(v, "%s: %d is below %d", what, n, lo)
		}
		return 0, p.errf(v, "%s: %d not in [%d, %d]", what, n, lo, hi)
	}
	return n, nil
}

// floatIn decodes a finite number in [lo, hi].
func (p *parser) floatIn(v *yaml.Node, what string, lo, hi float64) (float64, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, p.errf(v, "%s: want a number, got %q", what, s)
	}
	if f < lo || f > hi {
		if hi == math.MaxFloat64 {
			return 0, p.errf(v, "%s: %s is below %s", what, s, formatFloat(lo))
		}
		return 0, p.errf(v, "%s: %s not in [%s, %s]", what, s, formatFloat(lo), formatFloat(hi))
	}
	return f, nil
}

// duration decodes a positive Go duration ("10us", "1.5s", "2m").
func (p *parser) duration(v *yaml.Node, what string) (time.Duration, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, p.errf(v, "%s: want a duration such as 10us, 250ms or 10s, got %q", what, s)
	}
	if d <= 0 {
		return 0, p.errf(v, "%s: %s is not positive", what, s)
	}
	return d, nil
}

func (p *parser) boolean(v *yaml.Node, what string) (bool, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return false, err
	}
	switch s {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, p.errf(v, "%s: want true or false, got %q", what, s)
}

// threshold is one selfmodel response step as the consistency check sees
// it.
type threshold struct {
	name string
	v    int
	line int // 0: not set (default)
}

func (t threshold) String() string {
	if t.line == 0 {
		return fmt.Sprintf("%s %d (default)", t.name, t.v)
	}
	return fmt.Sprintf("%s %d", t.name, t.v)
}

func (p *parser) selfModel(n *yaml.Node, m *SwarmSelfModel) error {
	const what = "swarm.selfmodel"
	lines := map[string]int{}
	err := p.fields(n, what, selfModelKeys, func(key string, k, v *yaml.Node) error {
		lines[key] = v.Line
		w := what + "." + key
		var err error
		var i int64
		switch key {
		case "mode":
			m.Mode, err = p.agentMode(v, w)
		case "window":
			i, err = p.intIn(v, w, selfWindowMin, selfWindowMax)
			m.Window = int(i)
		case "frame":
			i, err = p.intIn(v, w, 1, selfFrameMax)
			m.Frame = int(i)
		case "delay_at", "deny_at", "kill_at":
			if i, err = p.intIn(v, w, 0, selfFrameMax); err != nil {
				return err
			}
			t := int(i)
			switch key {
			case "delay_at":
				m.DelayAt = &t
			case "deny_at":
				m.DenyAt = &t
			default:
				m.KillAt = &t
			}
		case "delay_base":
			m.DelayBase, err = p.duration(v, w)
		case "delay_factor":
			m.DelayFactor, err = p.floatIn(v, w, 1, math.MaxFloat64)
		case "delay_max":
			m.DelayMax, err = p.duration(v, w)
		case "stable_after":
			m.StableAfter, err = p.uintIn(v, w, 1, math.MaxUint64)
		case "per_process":
			m.PerProcess, err = p.boolean(v, w)
		case "keep":
			i, err = p.intIn(v, w, 1, selfKeepMax)
			m.Keep = int(i)
		}
		return err
	})
	if err != nil {
		return err
	}
	// The delay's bounds, defaults included.
	base, dmax := orDefault(m.DelayBase, selfDelayBase), orDefault(m.DelayMax, selfDelayMax)
	if base > dmax {
		line := lines["delay_base"]
		if line == 0 {
			line = lines["delay_max"]
		}
		return Errorf(p.file, line, "%s: delay_base %v%s above delay_max %v%s", what,
			base, dflt(lines, "delay_base"), dmax, dflt(lines, "delay_max"))
	}
	// The response steps that are on, defaults included, in order and
	// within the frame.
	frame := threshold{"frame", orDefault(m.Frame, selfFrameDefault), lines["frame"]}
	steps := []threshold{
		{"delay_at", valueOr(m.DelayAt, selfDelayAtDefault), lines["delay_at"]},
		{"deny_at", valueOr(m.DenyAt, selfDenyAtDefault), lines["deny_at"]},
		{"kill_at", valueOr(m.KillAt, selfKillAtDefault), lines["kill_at"]},
	}
	var prev *threshold
	for i := range steps {
		t := &steps[i]
		if t.v == 0 {
			continue
		}
		if t.v > frame.v {
			return Errorf(p.file, lineOf(n, *t, frame), "%s: %v above %v; want delay_at <= deny_at <= kill_at <= frame (0 turns a step off)", what, *t, frame)
		}
		if prev != nil && prev.v > t.v {
			return Errorf(p.file, lineOf(n, *prev, *t), "%s: %v above %v; want delay_at <= deny_at <= kill_at <= frame (0 turns a step off)", what, *prev, *t)
		}
		prev = t
	}
	return nil
}

// lineOf is the line to blame for two values in conflict: the first one
// written in the file, else the section's.
func lineOf(n *yaml.Node, a, b threshold) int {
	switch {
	case a.line != 0:
		return a.line
	case b.line != 0:
		return b.line
	}
	return n.Line
}

func dflt(lines map[string]int, key string) string {
	if lines[key] == 0 {
		return " (default)"
	}
	return ""
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func valueOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

func (p *parser) rate(n *yaml.Node, r *SwarmRate) error {
	const what = "swarm.rate"
	return p.fields(n, what, rateKeys, func(key string, k, v *yaml.Node) error {
		w := what + "." + key
		var err error
		var u uint64
		switch key {
		case "mode":
			r.Mode, err = p.agentMode(v, w)
		case "factor":
			r.Factor, err = p.floatIn(v, w, 1, rateFactorMax)
		case "spawn":
			u, err = p.uintIn(v, w, 1, math.MaxUint32)
			r.Spawn = uint32(u)
		case "connect":
			u, err = p.uintIn(v, w, 1, math.MaxUint32)
			r.Connect = uint32(u)
		case "open":
			u, err = p.uintIn(v, w, 1, math.MaxUint32)
			r.Open = uint32(u)
		}
		return err
	})
}

func (p *parser) quorum(n *yaml.Node, q *SwarmQuorum) error {
	const what = "swarm.quorum"
	var needLine, votersLine int
	err := p.fields(n, what, quorumKeys, func(key string, k, v *yaml.Node) error {
		w := what + "." + key
		var err error
		switch key {
		case "need":
			var i int64
			i, err = p.intIn(v, w, 1, int64(len(SwarmVoters)))
			q.Need, needLine = int(i), v.Line
		case "window":
			q.Window, err = p.duration(v, w)
		case "voters":
			if q.Voters, err = p.words(v, w, SwarmVoters); err == nil && len(q.Voters) == 0 {
				err = p.errf(v, "%s: empty list; leave the key out for every detector (%s)", w, strings.Join(SwarmVoters, ", "))
			}
			votersLine = v.Line
		}
		return err
	})
	if err != nil {
		return err
	}
	need, voters := orDefault(q.Need, quorumNeedDefault), len(SwarmVoters)
	if q.Voters != nil {
		voters = len(q.Voters)
	}
	if need > voters {
		line, d := needLine, ""
		if line == 0 {
			line, d = votersLine, " (default)"
		}
		return Errorf(p.file, line, "%s: need %d%s of %d voters can never be met", what, need, d, voters)
	}
	return nil
}

func (p *parser) supervisor(n *yaml.Node, s *SwarmSupervisor) error {
	const what = "swarm.supervisor"
	return p.fields(n, what, supervisorKeys, func(key string, k, v *yaml.Node) error {
		w := what + "." + key
		var err error
		switch key {
		case "intensity":
			var i int64
			i, err = p.intIn(v, w, 1, supervisorMaxInt)
			s.Intensity = int(i)
		case "period":
			s.Period, err = p.duration(v, w)
		}
		return err
	})
}

// marshalSwarm writes the section's non-default values; nil when there
// are none.
func marshalSwarm(s *Swarm) *yaml.Node {
	if s.IsZero() {
		return nil
	}
	root := mapping(false)
	m := &s.SelfModel
	if *m != (SwarmSelfModel{}) {
		n := mapping(false)
		addMode(n, m.Mode)
		addInt(n, "window", int64(m.Window))
		addInt(n, "frame", int64(m.Frame))
		for _, t := range []struct {
			key string
			v   *int
		}{{"delay_at", m.DelayAt}, {"deny_at", m.DenyAt}, {"kill_at", m.KillAt}} {
			if t.v != nil {
				add(n, t.key, intNode(int64(*t.v)))
			}
		}
		addDuration(n, "delay_base", m.DelayBase)
		addFloat(n, "delay_factor", m.DelayFactor)
		addDuration(n, "delay_max", m.DelayMax)
		if m.StableAfter != 0 {
			add(n, "stable_after", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(m.StableAfter, 10)})
		}
		if m.PerProcess {
			add(n, "per_process", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"})
		}
		addInt(n, "keep", int64(m.Keep))
		add(root, "selfmodel", n)
	}
	if r := &s.Rate; *r != (SwarmRate{}) {
		n := mapping(false)
		addMode(n, r.Mode)
		addFloat(n, "factor", r.Factor)
		addInt(n, "spawn", int64(r.Spawn))
		addInt(n, "connect", int64(r.Connect))
		addInt(n, "open", int64(r.Open))
		add(root, "rate", n)
	}
	if q := &s.Quorum; q.Need != 0 || q.Window != 0 || len(q.Voters) > 0 {
		n := mapping(false)
		addInt(n, "need", int64(q.Need))
		addDuration(n, "window", q.Window)
		if len(q.Voters) > 0 {
			add(n, "voters", flowList(q.Voters))
		}
		add(root, "quorum", n)
	}
	if v := &s.Supervisor; *v != (SwarmSupervisor{}) {
		n := mapping(false)
		addInt(n, "intensity", int64(v.Intensity))
		addDuration(n, "period", v.Period)
		add(root, "supervisor", n)
	}
	return root
}

func intNode(v int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v, 10)}
}

// addMode, addInt, addFloat and addDuration add a key unless its value is
// the zero value (the default).
func addMode(m *yaml.Node, v AgentMode) {
	if v != AgentAuto {
		add(m, "mode", scalar(v.String()))
	}
}

func addInt(m *yaml.Node, key string, v int64) {
	if v != 0 {
		add(m, key, intNode(v))
	}
}

func addFloat(m *yaml.Node, key string, v float64) {
	if v == 0 {
		return
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		add(m, key, intNode(int64(v))) // "4", not "4.0" or "!!float 4"
		return
	}
	add(m, key, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: formatFloat(v)})
}

func addDuration(m *yaml.Node, key string, v time.Duration) {
	if v != 0 {
		add(m, key, scalar(formatDuration(v)))
	}
}

// formatDuration is time.Duration.String without zero tails: "1m", not
// "1m0s" (restart's, shared with the heal section).
var formatDuration = restart.FormatDuration

// formatFloat writes the shortest text that parses back to f.
func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// floorFactorKeys are the keys of a threshold that learns: a rate above
// max(learnt peak * factor, floor) is anomalous (memory.fault_rate,
// network.burst).
var floorFactorKeys = []string{"floor", "factor"}

// floorFactor parses a {floor, factor} mapping: floor in 1..2^32-1,
// factor in 1..factorMax.
func (p *parser) floorFactor(n *yaml.Node, what string, floor *uint32, factor *float64, factorMax float64) error {
	return p.fields(n, what, floorFactorKeys, func(key string, k, v *yaml.Node) error {
		w := what + "." + key
		var err error
		switch key {
		case "floor":
			var u uint64
			u, err = p.uintIn(v, w, 1, math.MaxUint32)
			*floor = uint32(u)
		case "factor":
			*factor, err = p.floatIn(v, w, 1, factorMax)
		}
		return err
	})
}

// marshalFloorFactor writes what floorFactor reads (zero keys left out).
func marshalFloorFactor(floor uint32, factor float64) *yaml.Node {
	m := mapping(true)
	addInt(m, "floor", int64(floor))
	addFloat(m, "factor", factor)
	return m
}
