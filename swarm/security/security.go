package security

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/quorum"
	"github.com/athenaos/athena/swarm/selfmodel"
	"github.com/athenaos/athena/swarm/supervisor"
)

// RulesAgent is the name the rule engine votes under.
const RulesAgent = "rules"

// Defaults of Config.
const (
	DefaultFoldWindow     = time.Second
	DefaultDenyHold       = 10 * time.Second
	DefaultDelayHold      = 100 * time.Millisecond
	DefaultRulesKillAfter = 3
	// DefaultSnapshotTicks: with the sentry ticking about every 100 ms,
	// a detector is snapshotted about every 5 s.
	DefaultSnapshotTicks = 50
)

// Config configures a Swarm. Zero fields take the defaults.
type Config struct {
	Quorum     quorum.Config
	Supervisor supervisor.Config
	// FoldWindow is the record folding window.
	FoldWindow time.Duration
	// DenyHold and DelayHold are how long a deny or a delay lasts after
	// the last decision that asked for it. The sense of self asks for a
	// delay at every call while a task's frame holds enough anomalies,
	// so DelayHold only bridges the drainer's lag: a delay ends soon
	// after the anomalies leave the frame, as pH's does.
	DenyHold, DelayHold time.Duration
	// RulesKillAfter is how many refusals of one thread group within the
	// quorum window make the rule engine vote for a kill (negative:
	// never).
	RulesKillAfter int
}

func (c Config) withDefaults() Config {
	if c.FoldWindow <= 0 {
		c.FoldWindow = DefaultFoldWindow
	}
	if c.DenyHold <= 0 {
		c.DenyHold = DefaultDenyHold
	}
	if c.DelayHold <= 0 {
		c.DelayHold = DefaultDelayHold
	}
	if c.RulesKillAfter == 0 {
		c.RulesKillAfter = DefaultRulesKillAfter
	}
	if c.Supervisor.Name == "" {
		c.Supervisor.Name = "security"
	}
	// Snapshots on ticks only: a snapshot copies a detector's tables.
	if c.Supervisor.SnapshotEvery == 0 {
		c.Supervisor.SnapshotEvery = -1
	}
	if c.Supervisor.SnapshotTicks == 0 {
		c.Supervisor.SnapshotTicks = DefaultSnapshotTicks
	}
	return c
}

// Outcome is what the enforcement side does about one decision, and what
// it records.
type Outcome struct {
	// Decision is the agent's (or the rule engine's) decision.
	Decision agent.Decision
	// Action is what is carried out; Delay how long each call waits
	// (ActDelay); Hold how long a delay or deny lasts.
	Action agent.Action
	Delay  time.Duration
	Hold   time.Duration
	// Carried reports a harmful action the quorum agreed to; Pending a
	// harmful one that lacked votes.
	Carried, Pending bool
	// Votes are the live votes about the thread group, the deciding one
	// last.
	Votes []quorum.Vote
	// Mode is the deciding agent's mode.
	Mode string
	// Record says the outcome is to be recorded now; Repeats how many
	// outcomes of its kind were folded into this record.
	Record  bool
	Repeats int
	// Folded marks the record of folded outcomes closed by Tick: it was
	// carried out already and only its record is due.
	Folded bool
	// Time is when it was decided.
	Time time.Time
}

// Stats are the swarm's counters.
type Stats struct {
	Calls     uint64    // calls handled
	Votes     uint64    // rule engine votes
	Decisions uint64    // agent decisions
	Records   uint64    // outcomes recorded (folded ones count once)
	Folded    uint64    // outcomes folded into another's record
	Actions   [4]uint64 // outcomes carried out, by action
}

// ModelInfo describes one container's sense-of-self detector.
type ModelInfo struct {
	Container uint32
	Mode      selfmodel.Mode
	// Why says why the mode is what it is ("model not stable yet").
	Why   string
	Model *selfmodel.Model
	Stats selfmodel.Stats
	// StableAfter is the detector's stability rule.
	StableAfter uint64
}

// Swarm is the security role of one sandbox. See the package comment.
type Swarm struct {
	cfg       Config
	sup       *supervisor.Supervisor
	q         *quorum.Quorum
	detectors []*detector
	// refusals counts the rule engine's refusals per thread group within
	// the quorum window, for RulesKillAfter.
	refusals map[groupKey][]int64
	folds    map[foldKey]*fold
	decs     []agent.Decision
	now      int64
	stats    Stats
	quorumIs string
}

type groupKey struct {
	container uint32
	pid       int32
}

type foldKey struct {
	container uint32
	pid       int32
	agent     string
	action    agent.Action
	carried   bool
}

type fold struct {
	opened int64 // when the window opened (its first record)
	n      int   // outcomes folded since
	last   Outcome
}

// New returns a swarm with no detectors yet (AddContainer adds them).
func New(cfg Config) (*Swarm, error) {
	cfg = cfg.withDefaults()
	if cfg.Quorum.Need == 0 {
		cfg.Quorum = quorum.DefaultConfig()
	}
	q, err := quorum.New(cfg.Quorum)
	if err != nil {
		return nil, err
	}
	sup, err := supervisor.New(cfg.Supervisor)
	if err != nil {
		return nil, err
	}
	voters := "any agent"
	if len(cfg.Quorum.Voters) > 0 {
		voters = strings.Join(cfg.Quorum.Voters, ",")
	}
	return &Swarm{
		cfg: cfg, sup: sup, q: q,
		refusals: map[groupKey][]int64{},
		folds:    map[foldKey]*fold{},
		quorumIs: fmt.Sprintf("%d of %s within %v", cfg.Quorum.Need, voters, cfg.Quorum.Window),
	}, nil
}

// QuorumRule describes the quorum ("2 of rules,selfmodel,rate within
// 10s").
func (s *Swarm) QuorumRule() string { return s.quorumIs }

// detector is a container's sense-of-self detector as a supervised child:
// it sees only its container's calls.
type detector struct {
	*selfmodel.Detector
	name string
	slot uint32
	why  string
}

func (d *detector) Name() string { return d.name }

func (d *detector) Handle(ev *event.Event, out []agent.Decision) []agent.Decision {
	if ev.Container != d.slot {
		return out
	}
	return d.Detector.Handle(ev, out)
}

// ErrDuplicate: a container's detector was added twice.
var ErrDuplicate = errors.New("security: container already has a detector")

// AddContainer adds the sense-of-self detector of container slot with cfg
// (its Mode already resolved by the caller; why says why, for status)
// and, when model is not nil, that model as its starting point. A
// detector in enforce mode is fail-closed, others fail-open.
func (s *Swarm) AddContainer(slot uint32, cfg selfmodel.Config, model *selfmodel.Model, why string) error {
	for _, d := range s.detectors {
		if d.slot == slot {
			return fmt.Errorf("%w: slot %d", ErrDuplicate, slot)
		}
	}
	det, err := selfmodel.New(cfg)
	if err != nil {
		return err
	}
	if model != nil {
		if err := det.SetModel(model); err != nil {
			return err
		}
	}
	name := selfmodel.Name
	if slot != 0 {
		name = fmt.Sprintf("%s/%d", selfmodel.Name, slot)
	}
	d := &detector{Detector: det, name: name, slot: slot, why: why}
	policy := supervisor.FailOpen
	if cfg.Mode == selfmodel.ModeEnforce {
		policy = supervisor.FailClosed
	}
	if err := s.sup.Add(supervisor.Spec{Agent: d, Policy: policy}); err != nil {
		return err
	}
	s.detectors = append(s.detectors, d)
	return nil
}

// AddAgent adds another supervised agent (the rate detector).
func (s *Swarm) AddAgent(sp supervisor.Spec) error { return s.sup.Add(sp) }

// Call takes one call of the application and appends the outcomes it
// leads to.
func (s *Swarm) Call(ev *event.Event, out []Outcome) []Outcome {
	s.stats.Calls++
	if ev.Time > s.now {
		s.now = ev.Time
	}
	s.decs = s.sup.Handle(ev, s.decs[:0])
	for i := range s.decs {
		out = s.decide(s.decs[i], out)
	}
	return out
}

// Resync passes a gap in a task's calls to its container's detector (see
// selfmodel.Detector.Resync).
func (s *Swarm) Resync(container uint32, tid, pid int32, r *selfmodel.Ring, skipped uint64) {
	for _, d := range s.detectors {
		if d.slot == container {
			d.Resync(container, tid, pid, r, skipped)
			return
		}
	}
}

// PerProcess reports whether container slot's detector keys tasks by
// thread group (then the sentry's per-thread prefilter is off for it).
func (s *Swarm) PerProcess(slot uint32) bool {
	for _, d := range s.detectors {
		if d.slot == slot {
			return d.Config().PerProcess
		}
	}
	return false
}

// Vote takes the rule engine's refusal of a call of thread pid (tid) at
// time now: kill says the rule kills. It appends the outcome.
func (s *Swarm) Vote(now time.Time, container uint32, pid, tid int32, kill bool, reason string, evidence []string, out []Outcome) []Outcome {
	s.stats.Votes++
	ns := now.UnixNano()
	if ns > s.now {
		s.now = ns
	}
	key := groupKey{container, pid}
	times := s.refusals[key]
	win := int64(s.cfg.Quorum.Window)
	for len(times) > 0 && ns-times[0] > win {
		times = times[1:]
	}
	if len(s.refusals) >= maxGroups {
		clear(s.refusals) // bounded: a flood of groups resets the counts
	}
	times = append(times, ns)
	if s.cfg.RulesKillAfter > 0 && len(times) > s.cfg.RulesKillAfter {
		times = times[len(times)-s.cfg.RulesKillAfter:]
	}
	s.refusals[key] = times
	act := agent.ActDeny
	if kill {
		act = agent.ActKill
	} else if s.cfg.RulesKillAfter > 0 && len(times) >= s.cfg.RulesKillAfter {
		act = agent.ActKill
		reason = fmt.Sprintf("%s (%d refusals of the thread group within %v)", reason, len(times), s.cfg.Quorum.Window)
	}
	return s.decide(agent.Decision{Agent: RulesAgent, Container: container, PID: pid, TID: tid, Action: act, Score: 1, Reason: reason, Evidence: evidence}, out)
}

// maxGroups bounds the rule engine's refusal counts.
const maxGroups = 4096

// Tick advances the time: agents' time-driven decisions, vote expiry,
// and the records of closed fold windows.
func (s *Swarm) Tick(now time.Time, out []Outcome) []Outcome {
	if ns := now.UnixNano(); ns > s.now {
		s.now = ns
	}
	s.decs = s.sup.Tick(now, s.decs[:0])
	for i := range s.decs {
		out = s.decide(s.decs[i], out)
	}
	s.q.Tick(now)
	win := int64(s.cfg.FoldWindow)
	for k, f := range s.folds {
		if s.now-f.opened < win {
			continue
		}
		if f.n > 0 {
			o := f.last
			o.Record, o.Repeats, o.Folded = true, f.n, true
			s.stats.Records++
			out = append(out, o)
		}
		delete(s.folds, k)
	}
	return out
}

// decide runs one decision through the quorum and the folding.
func (s *Swarm) decide(d agent.Decision, out []Outcome) []Outcome {
	s.stats.Decisions++
	now := time.Unix(0, s.now)
	qo := s.q.Decide(now, d)
	o := Outcome{Decision: d, Action: qo.Action, Carried: qo.Carried, Pending: qo.Pending, Votes: qo.Votes, Mode: s.modeOf(d), Time: now}
	switch o.Action {
	case agent.ActDelay:
		o.Delay, o.Hold = d.Delay, s.cfg.DelayHold
		if o.Delay == 0 { // a pending harmful decision carried as a delay
			for _, v := range qo.Votes {
				o.Delay = max(o.Delay, v.Delay)
			}
		}
		if o.Delay == 0 {
			o.Action, o.Hold = agent.ActRecord, 0
		}
	case agent.ActDeny:
		o.Hold = s.cfg.DenyHold
	}
	s.stats.Actions[o.Action]++
	return append(out, s.fold(o))
}

// fold decides whether o is recorded now or counted in its window.
func (s *Swarm) fold(o Outcome) Outcome {
	k := foldKey{o.Decision.Container, o.Decision.PID, o.Decision.Agent, o.Action, o.Carried}
	f := s.folds[k]
	if f != nil && s.now-f.opened < int64(s.cfg.FoldWindow) {
		f.n++
		f.last = o
		s.stats.Folded++
		return o
	}
	if f == nil {
		if len(s.folds) >= maxFolds {
			clear(s.folds) // bounded; the folded counts are lost, not the actions
		}
		f = new(fold)
		s.folds[k] = f
	}
	o.Record, o.Repeats = true, f.n
	f.opened, f.n = s.now, 0
	s.stats.Records++
	return o
}

const maxFolds = 4096

func (s *Swarm) modeOf(d agent.Decision) string {
	switch {
	case d.Agent == RulesAgent:
		return "enforce"
	case d.Agent == selfmodel.Name:
		for _, det := range s.detectors {
			if det.slot == d.Container {
				return det.Mode().String()
			}
		}
	}
	return ""
}

// Tolerize accepts thread group pid's recent behaviour in container
// slot's model (see selfmodel.Detector.Tolerize) and forgets the votes
// about it. It returns the windows added, or false when the container has
// no detector.
func (s *Swarm) Tolerize(slot uint32, pid int32) (int, bool) {
	for _, d := range s.detectors {
		if d.slot == slot {
			delete(s.refusals, groupKey{slot, pid})
			s.q.Forget(slot, pid)
			return d.Tolerize(slot, pid), true
		}
	}
	return 0, false
}

// Models describes the containers' detectors.
func (s *Swarm) Models() []ModelInfo {
	out := make([]ModelInfo, len(s.detectors))
	for i, d := range s.detectors {
		out[i] = ModelInfo{Container: d.slot, Mode: d.Mode(), Why: d.why, Model: d.Model(), Stats: d.Stats(), StableAfter: d.Config().StableAfter}
	}
	return out
}

// Model returns container slot's model (nil without a detector). The
// model belongs to the driver's goroutine: marshal it there.
func (s *Swarm) Model(slot uint32) *selfmodel.Model {
	for _, d := range s.detectors {
		if d.slot == slot {
			return d.Model()
		}
	}
	return nil
}

// Inject rehearses a fault in agent name (see supervisor.Inject) and
// appends the outcomes that follows (a fail-closed agent stopped
// degrades the swarm).
func (s *Swarm) Inject(name string, stop bool, out []Outcome) ([]Outcome, error) {
	var err error
	s.decs, err = s.sup.Inject(name, stop, s.decs[:0])
	for i := range s.decs {
		out = s.decide(s.decs[i], out)
	}
	return out, err
}

// Agents returns the supervised agents' status.
func (s *Swarm) Agents() []supervisor.ChildStatus { return s.sup.Status() }

// Degraded reports whether a fail-closed agent failed.
func (s *Swarm) Degraded() bool { return s.sup.Degraded() }

// Stats returns the swarm's counters.
func (s *Swarm) Stats() Stats { return s.stats }

// taskBytes is the sense-of-self state of one task.
const taskBytes = uint64(unsafe.Sizeof(selfmodel.Task{}))

// Memory estimates the swarm's state: tasks tracked (by all detectors),
// the bytes of their per-task state, and everything (models and tasks).
func (s *Swarm) Memory() (tasks int, perTask, total uint64) {
	for _, d := range s.detectors {
		st := d.Stats()
		tasks += st.Tasks
		perTask += uint64(st.Tasks) * taskBytes
		total += uint64(d.Model().Bytes())
	}
	return tasks, perTask, total + perTask
}
