package memguard

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/clocktable"
	"github.com/athenaos/athena/swarm/event"
)

// Name is the agent's name: its decisions carry it, and the quorum counts
// its votes under it.
const Name = "memory"

// Mode is a container's mode (agent.Mode): learn builds the profile,
// observe reports what enforce would do, enforce decides.
type Mode = agent.Mode

// Modes.
const (
	ModeLearn   = agent.ModeLearn
	ModeObserve = agent.ModeObserve
	ModeEnforce = agent.ModeEnforce
)

// Defaults (see the package doc for the reasons) and limits.
const (
	DefaultFloor       = 50000
	DefaultFactor      = 4.0
	DefaultMaxTasks    = 16384
	DefaultIdleTimeout = 10 * time.Minute
	DefaultDelayBase   = 100 * time.Microsecond
	DefaultDelayMax    = 10 * time.Millisecond
	DefaultGrace       = 2 * time.Second
	// MaxFactor bounds ContainerConfig.Factor.
	MaxFactor = 1000
	// MaxTasks bounds Config.MaxTasks.
	MaxTasks = 1 << 24
	// MaxContainers bounds the containers one agent watches.
	MaxContainers = 4096
)

// Config configures an Agent: what is common to its containers. New fills
// every zero field with its default.
type Config struct {
	// MaxTasks bounds the task table (fault counts per thread); when it
	// is full, a new task evicts one not seen recently (CLOCK).
	// 1..MaxTasks; default 16,384.
	MaxTasks int
	// IdleTimeout forgets a task after this long without faults or
	// mapping requests (checked by Tick, to the second); negative: never.
	// Default 10 minutes.
	IdleTimeout time.Duration
	// DelayBase is the delay an enforce fault-rate decision asks for at
	// a rate of once the threshold; it grows with rate/threshold up to
	// DelayMax. Defaults 100µs and 10ms; DelayBase <= DelayMax.
	DelayBase time.Duration
	DelayMax  time.Duration
	// Grace is how long a budget kill is given to take effect: the
	// victim is not killed again, and no other group is killed while it
	// is still sampled, within Grace. Budget records are also repeated at
	// most once per Grace. Default 2s.
	Grace time.Duration
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		MaxTasks:    DefaultMaxTasks,
		IdleTimeout: DefaultIdleTimeout,
		DelayBase:   DefaultDelayBase,
		DelayMax:    DefaultDelayMax,
		Grace:       DefaultGrace,
	}
}

// ContainerConfig configures the agent for one container
// (Agent.AddContainer). Zero Floor and Factor take their defaults; the
// zero Record* fields ask for the default actions (kill, kill, deny).
type ContainerConfig struct {
	// Mode is the container's mode (learn for the zero value).
	Mode Mode
	// Budget is the container's resident memory budget in bytes; 0:
	// none.
	Budget uint64
	// RecordBudget only records a container over its budget (policy
	// budget_action: record); otherwise enforce mode kills its largest
	// thread group.
	RecordBudget bool
	// RecordAnonExec only records a task executing anonymous memory
	// (anon_exec: record); otherwise enforce mode votes to kill it.
	RecordAnonExec bool
	// RecordWX only records a request for a writable and executable
	// mapping (wx: record); otherwise enforce mode votes to deny it.
	RecordWX bool
	// Floor is the fault-rate floor in faults per second per task, at
	// least 1; default 50,000.
	Floor uint32
	// Factor multiplies the learnt fault peak: a task's faults in one
	// second are anomalous above max(peak*Factor, Floor). 1..MaxFactor;
	// default 4.
	Factor float64
}

// Profile is what learn mode learns about a container's workload; the
// host keeps it in its long memory (Agent.Profile, Agent.SetProfile).
type Profile struct {
	// FaultPeak is the most page faults any task took within one second.
	FaultPeak uint32
	// ExecAnon: a task executed anonymous memory (a JIT compiler: Java,
	// JavaScript, LuaJIT...). Enforce mode then only records it.
	ExecAnon bool
	// WX: a task asked for a writable and executable mapping (a JIT
	// that does not flip W^X). Enforce mode then only records it.
	WX bool
}

// Errors of Agent.
var (
	// ErrConfig: a Config, ContainerConfig or Mode is invalid.
	ErrConfig = errors.New("memguard: invalid config")
	// ErrContainer: AddContainer was given a container already added (or
	// one too many); SetMode or SetProfile one never added.
	ErrContainer = errors.New("memguard: container")
	// ErrSnapshot: Restore was given something Snapshot did not return.
	ErrSnapshot = errors.New("memguard: not a memguard snapshot")
)

func (c Config) withDefaults() (Config, error) {
	def := DefaultConfig()
	if c.MaxTasks == 0 {
		c.MaxTasks = def.MaxTasks
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = def.IdleTimeout
	}
	if c.DelayBase == 0 {
		c.DelayBase = def.DelayBase
	}
	if c.DelayMax == 0 {
		c.DelayMax = def.DelayMax
	}
	if c.Grace == 0 {
		c.Grace = def.Grace
	}
	switch {
	case c.MaxTasks < 1 || c.MaxTasks > MaxTasks:
		return c, fmt.Errorf("config: MaxTasks %d not in [1, %d]: %w", c.MaxTasks, MaxTasks, ErrConfig)
	case c.DelayBase < 0 || c.DelayMax < 0 || c.Grace < 0:
		return c, fmt.Errorf("config: negative duration: %w", ErrConfig)
	case c.DelayBase > c.DelayMax:
		return c, fmt.Errorf("config: DelayBase %v above DelayMax %v: %w", c.DelayBase, c.DelayMax, ErrConfig)
	}
	return c, nil
}

func (c ContainerConfig) withDefaults() (ContainerConfig, error) {
	if c.Floor == 0 {
		c.Floor = DefaultFloor
	}
	if c.Factor == 0 {
		c.Factor = DefaultFactor
	}
	switch {
	case c.Mode > ModeEnforce:
		return c, fmt.Errorf("container config: mode %d: %w", c.Mode, ErrConfig)
	case !(c.Factor >= 1 && c.Factor <= MaxFactor): // also refuses NaN
		return c, fmt.Errorf("container config: Factor %g not in [1, %d]: %w", c.Factor, MaxFactor, ErrConfig)
	}
	return c, nil
}

// Stats are the agent's counters.
type Stats struct {
	Containers int    // containers watched
	Tasks      int    // tasks in the table
	Faults     uint64 // fault events handled (of watched containers)
	Memory     uint64 // memory events handled (of watched containers)
	// Unknown counts fault and memory events of containers not added.
	Unknown uint64
	// Decisions counts emitted decisions by action; Folded the decisions
	// not emitted because the task had one of its kind in that second.
	Decisions [4]uint64
	Folded    uint64
	Evicted   uint64 // tasks evicted from a full table
	Expired   uint64 // tasks forgotten after IdleTimeout
	Exited    uint64 // tasks forgotten at exit, exit_group or by Forget
}

// ContainerStats is one container's state, for status.
type ContainerStats struct {
	Container uint32
	Mode      Mode
	// Faults counts its page faults; ExecAnon those that executed
	// anonymous memory, ExecUnmapped those that executed an address with
	// no mapping (crashes); WX the requests for writable and executable
	// mappings.
	Faults, ExecAnon, ExecUnmapped, WX uint64
	// PeakRate is the most faults a task took within one second in this
	// run, in any mode; Threshold the fault-rate threshold in force
	// (max(Profile.FaultPeak*Factor, Floor)).
	PeakRate  uint32
	Threshold uint32
	// Profile is what was learnt (or set).
	Profile Profile
	// Usage is the container's resident bytes at its latest sample,
	// taken at UsageTime (ns since the epoch; 0: no sample yet). Groups
	// is the number of thread groups in that sample, Largest the PID of
	// the largest and LargestBytes its resident bytes.
	Usage        uint64
	UsageTime    int64
	Groups       uint32
	Largest      int32
	LargestBytes uint64
	// Budget is the container's budget (0: none); Over whether the
	// latest sample exceeded it; Kills how many budget kills it got.
	Budget uint64
	Over   bool
	Kills  uint64
}

// container is the agent's state for one container.
type container struct {
	slot   uint32
	cfg    ContainerConfig
	thresh uint32 // fault-rate threshold from prof and cfg
	prof   Profile

	faults, execAnon, execUnmapped, wx uint64
	peakRate                           uint32

	// round gathers the group samples since the latest container
	// sample; latest is the round that sample closed.
	round, latest sampleRound
	usage         uint64
	usageTime     int64

	over       bool
	lastBudget int64 // time of the latest budget decision (ns), 0: none
	victim     int32 // the latest budget kill's PID, 0: none
	killedAt   int64
	kills      uint64
}

// sampleRound is what one round of group samples says: how many groups,
// the largest and whether the latest victim is still there.
type sampleRound struct {
	groups     uint32
	largest    int32
	bytes      uint64
	victimSeen bool
}

func (c *container) derive() {
	t := math.Ceil(float64(c.prof.FaultPeak) * c.cfg.Factor)
	if t > math.MaxUint32 {
		t = math.MaxUint32
	}
	c.thresh = max(uint32(t), c.cfg.Floor)
}

// Agent is the memory agent of one sandbox: per-container profiles,
// budgets and samples, and a bounded table of per-task fault counts. It
// implements agent.Agent and agent.Snapshotter.
//
// An Agent is a deterministic state machine: it reads no clock (time
// comes from Tick and event times), starts no goroutines and does no I/O.
// It is not safe for concurrent use; one driver goroutine calls it.
type Agent struct {
	cfg        Config
	containers map[uint32]*container
	// tasks holds each task's fault counts (bounded, CLOCK eviction).
	tasks *clocktable.Table[taskSlot]
	// now is the agent's clock in nanoseconds: the latest of Tick's time
	// and event times. nextSweep is when Tick next looks for idle tasks.
	now       int64
	nextSweep int64
	stats     Stats
}

var (
	_ agent.Agent       = (*Agent)(nil)
	_ agent.Snapshotter = (*Agent)(nil)
)

// New returns an agent watching no container yet (AddContainer adds
// them).
func New(cfg Config) (*Agent, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Agent{cfg: cfg, containers: map[uint32]*container{}, tasks: clocktable.New[taskSlot](cfg.MaxTasks)}, nil
}

// Name implements agent.Agent.Name.
func (a *Agent) Name() string { return Name }

// Config returns the agent's configuration, defaults filled in.
func (a *Agent) Config() Config { return a.cfg }

// AddContainer starts watching container slot with cfg (defaults filled
// in). Events of containers not added are counted (Stats.Unknown) and
// otherwise ignored.
func (a *Agent) AddContainer(slot uint32, cfg ContainerConfig) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if _, dup := a.containers[slot]; dup {
		return fmt.Errorf("%w %d already added", ErrContainer, slot)
	}
	if len(a.containers) >= MaxContainers {
		return fmt.Errorf("%w %d: already %d containers", ErrContainer, slot, MaxContainers)
	}
	c := &container{slot: slot, cfg: cfg}
	c.derive()
	a.containers[slot] = c
	return nil
}

// RemoveContainer stops watching container slot and forgets its tasks; it
// reports whether the container was watched.
func (a *Agent) RemoveContainer(slot uint32) bool {
	if _, ok := a.containers[slot]; !ok {
		return false
	}
	delete(a.containers, slot)
	container := slot
	a.stats.Exited += uint64(a.tasks.DeleteFunc(func(key uint64, _ *taskSlot) bool { return uint32(key>>32) == container }))
	return true
}

// ContainerConfig returns container slot's configuration, defaults filled
// in.
func (a *Agent) ContainerConfig(slot uint32) (ContainerConfig, bool) {
	c, ok := a.containers[slot]
	if !ok {
		return ContainerConfig{}, false
	}
	return c.cfg, true
}

// SetMode switches container slot's mode. Tasks keep their counts.
func (a *Agent) SetMode(slot uint32, m Mode) error {
	if m > ModeEnforce {
		return fmt.Errorf("set mode %d: %w", m, ErrConfig)
	}
	c, ok := a.containers[slot]
	if !ok {
		return fmt.Errorf("set mode: %w %d not added", ErrContainer, slot)
	}
	c.cfg.Mode = m
	return nil
}

// Profile returns what container slot's workload has taught (or was set).
func (a *Agent) Profile(slot uint32) (Profile, bool) {
	c, ok := a.containers[slot]
	if !ok {
		return Profile{}, false
	}
	return c.prof, true
}

// SetProfile replaces container slot's profile (from the host's long
// memory, say); learn mode goes on from there.
func (a *Agent) SetProfile(slot uint32, p Profile) error {
	c, ok := a.containers[slot]
	if !ok {
		return fmt.Errorf("set profile: %w %d not added", ErrContainer, slot)
	}
	c.prof = p
	c.derive()
	return nil
}

// Stats returns the counters.
func (a *Agent) Stats() Stats {
	s := a.stats
	s.Containers = len(a.containers)
	s.Tasks, s.Evicted = a.tasks.Len(), a.tasks.Evicted()
	return s
}

// Container returns container slot's state.
func (a *Agent) Container(slot uint32) (ContainerStats, bool) {
	c, ok := a.containers[slot]
	if !ok {
		return ContainerStats{}, false
	}
	return c.stats(), true
}

// Containers returns every watched container's state, by slot.
func (a *Agent) Containers() []ContainerStats {
	out := make([]ContainerStats, 0, len(a.containers))
	for _, c := range a.containers {
		out = append(out, c.stats())
	}
	slices.SortFunc(out, func(x, y ContainerStats) int { return cmp.Compare(x.Container, y.Container) })
	return out
}

func (c *container) stats() ContainerStats {
	return ContainerStats{
		Container: c.slot, Mode: c.cfg.Mode,
		Faults: c.faults, ExecAnon: c.execAnon, ExecUnmapped: c.execUnmapped, WX: c.wx,
		PeakRate: c.peakRate, Threshold: c.thresh, Profile: c.prof,
		Usage: c.usage, UsageTime: c.usageTime,
		Groups: c.latest.groups, Largest: c.latest.largest, LargestBytes: c.latest.bytes,
		Budget: c.cfg.Budget, Over: c.over, Kills: c.kills,
	}
}

// Task is one task's fault counts, as Agent.Task returns them.
type Task struct {
	Container uint32
	TID       int32
	// Second is the Unix second Faults is for: the second of the task's
	// latest event; Prev is its count in the second before (0 if it took
	// no fault then).
	Second int64
	Faults uint32
	Prev   uint32
}

// Task returns a task's fault counts.
func (a *Agent) Task(container uint32, tid int32) (Task, bool) {
	s, ok := a.tasks.Get(taskKey(container, tid))
	if !ok {
		return Task{}, false
	}
	return Task{Container: container, TID: tid, Second: s.sec, Faults: s.count, Prev: s.prev}, true
}

// Handle implements agent.Agent.Handle. It takes page faults
// (event.KindFault), mapping requests and usage samples
// (event.KindMemory) of the containers added, and exit and exit_group
// calls (event.KindSyscall), which forget the calling task; it ignores
// everything else. See the package doc for what it decides.
//
// Handle allocates nothing unless it decides (a new task may grow the
// table); a decision allocates its Reason and Evidence.
func (a *Agent) Handle(ev *event.Event, out []agent.Decision) []agent.Decision {
	switch ev.Kind {
	case event.KindFault:
		c := a.containers[ev.Container]
		if c == nil {
			a.stats.Unknown++
			return out
		}
		a.stats.Faults++
		return a.fault(c, ev, out)
	case event.KindMemory:
		c := a.containers[ev.Container]
		if c == nil {
			a.stats.Unknown++
			return out
		}
		a.stats.Memory++
		return a.memory(c, ev, out)
	case event.KindSyscall:
		if ev.Sysno == sysExit || ev.Sysno == sysExitGroup {
			a.forget(taskKey(ev.Container, ev.TID))
		}
	}
	return out
}

// task returns ev's task slot, its counts rolled to ev's second.
func (a *Agent) task(ev *event.Event) *taskSlot {
	if ev.Time > a.now {
		a.now = ev.Time
	}
	sec := ev.Time / int64(time.Second)
	s, _ := a.tasks.Lookup(taskKey(ev.Container, ev.TID))
	if sec > s.sec {
		if sec == s.sec+1 {
			s.prev = s.count
		} else {
			s.prev = 0
		}
		s.sec, s.count = sec, 0
		s.flags &^= decidedMask
	}
	return s
}

// once reports whether s may have a decision of kind flag in its current
// second, and marks it; a second one is folded.
func (a *Agent) once(s *taskSlot, flag uint8) bool {
	if s.flags&flag != 0 {
		a.stats.Folded++
		return false
	}
	s.flags |= flag
	return true
}

func (a *Agent) fault(c *container, ev *event.Event, out []agent.Decision) []agent.Decision {
	n := uint32(ev.Repeats) + 1
	c.faults += uint64(n)
	s := a.task(ev)
	cnt := s.count + n
	if cnt < n {
		cnt = math.MaxUint32
	}
	s.count = cnt
	c.peakRate = max(c.peakRate, cnt)
	if ev.Args[1]&event.AccessExec != 0 {
		switch ev.Args[3] {
		case event.MemAnon:
			c.execAnon += uint64(n)
			if a.once(s, decidedExec) {
				out = a.anonExec(c, ev, out)
			}
		case event.MemUnmapped:
			c.execUnmapped += uint64(n)
		}
	}
	if c.cfg.Mode == ModeLearn {
		if cnt > c.prof.FaultPeak {
			c.prof.FaultPeak = cnt
			c.derive()
		}
		return out
	}
	if cnt <= c.thresh || !a.once(s, decidedRate) {
		return out
	}
	return a.rateDecision(c, s, ev, out)
}

// emit appends d and counts it.
func (a *Agent) emit(d agent.Decision, out []agent.Decision) []agent.Decision {
	a.stats.Decisions[d.Action]++
	return append(out, d)
}

// rateDecision appends the decision on task s, over its container's
// fault-rate threshold.
func (a *Agent) rateDecision(c *container, s *taskSlot, ev *event.Event, out []agent.Decision) []agent.Decision {
	th := c.thresh
	rate := max(s.count, s.prev)
	delay := time.Duration(float64(a.cfg.DelayBase) * float64(rate) / float64(th))
	if delay > a.cfg.DelayMax || delay < 0 {
		delay = a.cfg.DelayMax
	}
	d := agent.Decision{
		Agent: Name, Container: ev.Container, PID: ev.PID, TID: ev.TID,
		Action: agent.ActDelay, Delay: delay,
		Score: min(1, float64(rate)/(2*float64(th))),
		Reason: fmt.Sprintf("page faults: %d in 1s, threshold %d (peak %d x %g, floor %d)",
			s.count, th, c.prof.FaultPeak, c.cfg.Factor, c.cfg.Floor),
		Evidence: []string{"faults=" + num(uint64(s.count)), "prev=" + num(uint64(s.prev)), "tid=" + num(uint64(uint32(ev.TID)))},
	}
	if c.cfg.Mode == ModeObserve {
		d.Reason = "observe: would delay " + delay.String() + ": " + d.Reason
		d.Action, d.Delay = agent.ActRecord, 0
	}
	return a.emit(d, out)
}

// respond sets d's action and reason for a finding that enforce mode
// answers with act (ActKill, ActDeny) unless the policy says record or
// the workload is known to do it (learnt).
func respond(d *agent.Decision, mode Mode, act agent.Action, record, learnt bool, what string) {
	switch {
	case mode == ModeLearn:
		d.Action, d.Score = agent.ActRecord, 0
		d.Reason = "learn: " + d.Reason + "; learnt: the workload " + what
	case learnt:
		d.Action, d.Score = agent.ActRecord, 0
		d.Reason = "as learnt, the workload " + what + ": " + d.Reason
	case record:
		d.Action = agent.ActRecord
		d.Reason = "recorded (policy): " + d.Reason
	case mode == ModeObserve:
		d.Action = agent.ActRecord
		d.Reason = "observe: would " + act.String() + ": " + d.Reason
	default:
		d.Action = act
	}
}

// anonExec appends the decision on a task that executed anonymous
// memory.
func (a *Agent) anonExec(c *container, ev *event.Event, out []agent.Decision) []agent.Decision {
	addr, ip := ev.Args[0], ev.Args[2]
	d := agent.Decision{
		Agent: Name, Container: ev.Container, PID: ev.PID, TID: ev.TID, Score: 1,
		Reason: fmt.Sprintf("executed anonymous memory at %#x (ip %#x): injected code?", addr, ip),
		Evidence: []string{
			"addr=" + hex(addr), "ip=" + hex(ip), "class=" + className(ev.Args[3]),
			"access=" + accessText(ev.Args[1]), "signal=" + signalName(ev.Sysno), "tid=" + num(uint64(uint32(ev.TID))),
		},
	}
	respond(&d, c.cfg.Mode, agent.ActKill, c.cfg.RecordAnonExec, c.prof.ExecAnon, "executes anonymous memory (a JIT)")
	if c.cfg.Mode == ModeLearn {
		c.prof.ExecAnon = true
	}
	return a.emit(d, out)
}

func (a *Agent) memory(c *container, ev *event.Event, out []agent.Decision) []agent.Decision {
	if ev.Time > a.now {
		a.now = ev.Time
	}
	switch ev.Args[0] {
	case event.MemOpWX:
		c.wx++
		s := a.task(ev)
		if !a.once(s, decidedWX) {
			return out
		}
		return a.wxDecision(c, ev, out)
	case event.MemOpGroupUsage:
		r := &c.round
		r.groups++
		if ev.PID == c.victim && c.victim != 0 {
			r.victimSeen = true
		}
		if b := ev.Args[1]; b > r.bytes {
			r.largest, r.bytes = ev.PID, b
		}
	case event.MemOpContainerUsage:
		c.latest, c.round = c.round, sampleRound{}
		c.usage, c.usageTime = ev.Args[1], ev.Time
		return a.budget(c, ev.Time, out)
	}
	return out
}

// wxDecision appends the decision on a request for a writable and
// executable mapping.
func (a *Agent) wxDecision(c *container, ev *event.Event, out []agent.Decision) []agent.Decision {
	call := sysName(ev.Sysno)
	addr, length, prot, flags := ev.Args[1], ev.Args[2], ev.Args[3], ev.Args[4]
	kind := ""
	evidence := []string{"syscall=" + call, "addr=" + hex(addr), "len=" + num(length), "prot=" + protText(prot)}
	if ev.Sysno == sysMmap {
		anon := flags&mapAnonymous != 0
		kind = " (file)"
		if anon {
			kind = " (anonymous)"
		}
		evidence = append(evidence, "flags="+mmapFlagsText(flags), fmt.Sprintf("anonymous=%t", anon))
	}
	evidence = append(evidence, "tid="+num(uint64(uint32(ev.TID))))
	d := agent.Decision{
		Agent: Name, Container: ev.Container, PID: ev.PID, TID: ev.TID, Score: 1,
		Reason:   fmt.Sprintf("%s asked for writable and executable memory%s: %s, %d bytes at %#x", call, kind, protText(prot), length, addr),
		Evidence: evidence,
	}
	respond(&d, c.cfg.Mode, agent.ActDeny, c.cfg.RecordWX, c.prof.WX, "maps writable and executable memory (a JIT)")
	if c.cfg.Mode == ModeLearn {
		c.prof.WX = true
	}
	return a.emit(d, out)
}

// budget checks container c's latest sample, taken at now, against its
// budget.
func (a *Agent) budget(c *container, now int64, out []agent.Decision) []agent.Decision {
	budget, usage := c.cfg.Budget, c.usage
	if budget == 0 || usage <= budget {
		c.over = false
		return out
	}
	wasOver := c.over
	c.over = true
	l := &c.latest
	grace := int64(a.cfg.Grace)
	inGrace := c.lastBudget != 0 && now-c.lastBudget < grace
	d := agent.Decision{
		Agent: Name, Container: c.slot, Action: agent.ActRecord, Score: 1, Limit: true,
		Reason: fmt.Sprintf("container %s over budget %s", size(usage), size(budget)),
		Evidence: []string{"usage=" + num(usage), "budget=" + num(budget), "groups=" + num(uint64(l.groups)),
			"pid=" + num(uint64(uint32(l.largest))), "rss=" + num(l.bytes)},
	}
	victim := fmt.Sprintf("PID %d (%s)", l.largest, size(l.bytes))
	kill := c.cfg.Mode == ModeEnforce && !c.cfg.RecordBudget
	switch {
	case kill && l.largest != 0:
		// The latest victim still sampled within its grace: wait for the
		// kill to take effect.
		if c.victim != 0 && l.victimSeen && now-c.killedAt < grace {
			return out
		}
		d.PID, d.Action = l.largest, agent.ActKill
		d.Reason += "; killing " + victim
		c.victim, c.killedAt = l.largest, now
		c.kills++
	case wasOver && inGrace:
		return out // records at most once per grace
	case l.largest == 0:
		d.Reason += "; no thread group sampled"
	case c.cfg.RecordBudget:
		d.Reason += "; largest " + victim
	default:
		d.Reason += "; would kill " + victim
	}
	switch {
	case kill:
	case c.cfg.Mode == ModeLearn:
		d.Reason = "learn: " + d.Reason
	case c.cfg.Mode == ModeObserve:
		d.Reason = "observe: " + d.Reason
	default:
		d.Reason = "recorded (policy): " + d.Reason
	}
	if l.largest == 0 {
		d.Evidence = d.Evidence[:3]
	}
	c.lastBudget = now
	return a.emit(d, out)
}

// Tick implements agent.Agent.Tick: it advances the agent's clock and, at
// most every IdleTimeout/4, forgets tasks idle for IdleTimeout. It
// decides nothing.
func (a *Agent) Tick(now time.Time, out []agent.Decision) []agent.Decision {
	if ns := now.UnixNano(); ns > a.now {
		a.now = ns
	}
	if a.cfg.IdleTimeout < 0 || a.now < a.nextSweep {
		return out
	}
	idle := int64(a.cfg.IdleTimeout)
	a.stats.Expired += uint64(a.tasks.DeleteFunc(func(_ uint64, s *taskSlot) bool {
		return a.now-s.sec*int64(time.Second) >= idle+int64(time.Second)
	}))
	a.nextSweep = a.now + idle/4
	return out
}

// Forget drops a task's counts (the driver saw it exit) and reports
// whether the task was known.
func (a *Agent) Forget(container uint32, tid int32) bool {
	return a.forget(taskKey(container, tid))
}

func (a *Agent) forget(key uint64) bool {
	if !a.tasks.Delete(key) {
		return false
	}
	a.stats.Exited++
	return true
}
