package rate

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/clocktable"
	"github.com/athenaos/athena/swarm/event"
)

// Name is the detector's agent name.
const Name = "rate"

// Class is a kind of call whose rate the detector watches.
type Class uint8

// Classes.
const (
	// ClassSpawn: clone, clone3, fork, vfork, execve, execveat.
	ClassSpawn Class = iota
	// ClassConnect: connect, socket.
	ClassConnect
	// ClassOpen: open, openat, openat2, creat.
	ClassOpen
)

// NumClasses is the number of classes; arrays indexed by Class have this
// length.
const NumClasses = 3

var classNames = [NumClasses]string{"spawn", "connect", "open"}

func (c Class) String() string {
	if int(c) < NumClasses {
		return classNames[c]
	}
	return "class?"
}

// Mode is the detector's mode (agent.Mode): learn builds the model,
// observe reports what enforce would do, enforce decides.
type Mode = agent.Mode

// Modes.
const (
	ModeLearn   = agent.ModeLearn
	ModeObserve = agent.ModeObserve
	ModeEnforce = agent.ModeEnforce
)

// ParseMode parses a mode name ("learn", "observe", "enforce").
func ParseMode(s string) (Mode, error) {
	m, err := agent.ParseMode(s)
	if err != nil {
		return 0, fmt.Errorf("%v: %w", err, ErrConfig)
	}
	return m, nil
}

// Defaults (see the package doc for the reasons) and limits.
const (
	DefaultFactor       = 4.0
	DefaultSpawnFloor   = 200
	DefaultConnectFloor = 500
	DefaultOpenFloor    = 20000
	DefaultMaxGroups    = 16384
	DefaultIdleTimeout  = 10 * time.Minute
	DefaultDelayBase    = 0 // no delay: see DelayBase
	DefaultDelayMax     = time.Second
	// MaxFactor bounds Config.Factor.
	MaxFactor = 1000
	// MaxGroups bounds Config.MaxGroups.
	MaxGroups = 1 << 24
)

// DefaultFloors are the default per-class floors, in calls per second per
// thread group.
var DefaultFloors = [NumClasses]uint32{
	ClassSpawn:   DefaultSpawnFloor,
	ClassConnect: DefaultConnectFloor,
	ClassOpen:    DefaultOpenFloor,
}

// Config configures a Detector. New fills every zero field (each Floors
// entry on its own) with its default.
type Config struct {
	// Mode is the starting mode (learn for the zero value).
	Mode Mode
	// Factor multiplies a class's learnt peak: a group's count in one
	// second is anomalous above max(peak*Factor, floor). 1..MaxFactor;
	// default 4.
	Factor float64
	// Floors are the per-class thresholds below which nothing is
	// anomalous, learnt or not, in calls per second per thread group
	// (indexed by Class); default DefaultFloors.
	Floors [NumClasses]uint32
	// MaxGroups bounds the group table; when it is full, a new group
	// evicts one not seen recently (CLOCK). 1..MaxGroups; default 16,384.
	MaxGroups int
	// IdleTimeout forgets a group after this long without counted calls
	// (checked by Tick, to the second); negative: never. Default 10
	// minutes.
	IdleTimeout time.Duration
	// DelayBase is the delay of an enforce decision at a count of once
	// the threshold; it grows with count/threshold up to DelayMax
	// (default 1s). The default, 0, asks for no delay: the enforcement
	// side holds a delayed task at every call for as long as the delay
	// lasts, so a rate anomaly alone (a busy but benign process) must not
	// slow the app; it only records until a second detector agrees.
	DelayBase time.Duration
	DelayMax  time.Duration
}

// DefaultConfig returns the defaults, in learn mode.
func DefaultConfig() Config {
	return Config{
		Factor:      DefaultFactor,
		Floors:      DefaultFloors,
		MaxGroups:   DefaultMaxGroups,
		IdleTimeout: DefaultIdleTimeout,
		DelayBase:   DefaultDelayBase,
		DelayMax:    DefaultDelayMax,
	}
}

// Errors of Detector.
var (
	// ErrConfig: a Config or Mode is invalid.
	ErrConfig = errors.New("rate: invalid config")
	// ErrSnapshot: Restore was given something Snapshot did not return.
	ErrSnapshot = errors.New("rate: not a rate snapshot")
)

// withDefaults fills zero fields and validates.
func (c Config) withDefaults() (Config, error) {
	def := DefaultConfig()
	if c.Factor == 0 {
		c.Factor = def.Factor
	}
	for i, f := range c.Floors {
		if f == 0 {
			c.Floors[i] = def.Floors[i]
		}
	}
	if c.MaxGroups == 0 {
		c.MaxGroups = def.MaxGroups
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = def.IdleTimeout
	}
	if c.DelayMax == 0 {
		c.DelayMax = def.DelayMax
	}
	switch {
	case c.Mode > ModeEnforce:
		return c, fmt.Errorf("config: mode %d: %w", c.Mode, ErrConfig)
	case !(c.Factor >= 1 && c.Factor <= MaxFactor): // also refuses NaN
		return c, fmt.Errorf("config: Factor %g not in [1, %d]: %w", c.Factor, MaxFactor, ErrConfig)
	case c.MaxGroups < 1 || c.MaxGroups > MaxGroups:
		return c, fmt.Errorf("config: MaxGroups %d not in [1, %d]: %w", c.MaxGroups, MaxGroups, ErrConfig)
	case c.DelayBase < 0 || c.DelayMax < 0:
		return c, fmt.Errorf("config: negative delay: %w", ErrConfig)
	}
	return c, nil
}

// Stats are the detector's counters.
type Stats struct {
	Groups int    // thread groups in the table
	Calls  uint64 // counted calls (spawn, connect, open) handled
	// Decisions counts emitted decisions by action.
	Decisions [4]uint64
	Evicted   uint64 // groups evicted from a full table
	Expired   uint64 // groups forgotten after IdleTimeout
	Exited    uint64 // groups forgotten at exit_group or by Forget
}

// Group is a thread group's counts, as Detector.Group returns them.
type Group struct {
	Container uint32
	PID       int32
	// Second is the Unix second the counts are for: the second of the
	// group's latest counted call.
	Second int64
	// Counts are the group's calls in Second, by Class.
	Counts [NumClasses]uint32
}

// Detector is the rate agent of one workload: per-class peaks learnt for
// the whole workload, and a bounded table of per-thread-group counts. It
// implements agent.Agent and agent.Snapshotter.
//
// A Detector is a deterministic state machine: it reads no clock (time
// comes from Tick and event times), starts no goroutines and does no I/O.
// It is not safe for concurrent use; one driver goroutine calls it.
type Detector struct {
	cfg Config
	// peaks are the highest one-second counts of any group, by class
	// (learn mode); thresh the thresholds derived from them and cfg.
	peaks  [NumClasses]uint32
	thresh [NumClasses]uint32
	// groups holds each thread group's counts (bounded, CLOCK eviction).
	groups *clocktable.Table[slot]
	// now is the detector's clock in nanoseconds: the latest of Tick's
	// time and counted calls' times. nextSweep is when Tick next looks
	// for idle groups.
	now       int64
	nextSweep int64
	stats     Stats
}

var (
	_ agent.Agent       = (*Detector)(nil)
	_ agent.Snapshotter = (*Detector)(nil)
)

// New returns a detector with no peaks learnt: until it learns (or
// SetPeaks), the thresholds are the floors.
func New(cfg Config) (*Detector, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	d := &Detector{cfg: cfg, groups: clocktable.New[slot](cfg.MaxGroups)}
	d.derive()
	return d, nil
}

// derive recomputes the thresholds from the peaks and cfg.
func (d *Detector) derive() { d.thresh = thresholds(&d.cfg, d.peaks) }

func thresholds(c *Config, peaks [NumClasses]uint32) (th [NumClasses]uint32) {
	for i, p := range peaks {
		t := math.Ceil(float64(p) * c.Factor)
		if t > math.MaxUint32 {
			t = math.MaxUint32
		}
		th[i] = max(uint32(t), c.Floors[i])
	}
	return th
}

// Name implements agent.Agent.Name.
func (d *Detector) Name() string { return Name }

// Config returns the detector's configuration, defaults filled in.
func (d *Detector) Config() Config { return d.cfg }

// Mode returns the current mode.
func (d *Detector) Mode() Mode { return d.cfg.Mode }

// SetMode switches mode. Groups keep their counts, so a switch from learn
// to enforce judges the current second's counts against the new
// thresholds from the next call on.
func (d *Detector) SetMode(m Mode) error {
	if m > ModeEnforce {
		return fmt.Errorf("set mode %d: %w", m, ErrConfig)
	}
	d.cfg.Mode = m
	d.derive()
	return nil
}

// Peaks returns the learnt peaks by class: the highest number of calls of
// the class any thread group made within one second.
func (d *Detector) Peaks() [NumClasses]uint32 { return d.peaks }

// SetPeaks replaces the peaks (a profile from the host's long memory,
// say); learn mode goes on raising them from there.
func (d *Detector) SetPeaks(p [NumClasses]uint32) {
	d.peaks = p
	d.derive()
}

// Thresholds returns the per-class thresholds the peaks, Factor and
// Floors give now: a group's count in one second above its class's
// threshold is anomalous.
func (d *Detector) Thresholds() [NumClasses]uint32 { return thresholds(&d.cfg, d.peaks) }

// Stats returns the counters.
func (d *Detector) Stats() Stats {
	s := d.stats
	s.Groups, s.Evicted = d.groups.Len(), d.groups.Evicted()
	return s
}

// Group returns a thread group's counts.
func (d *Detector) Group(container uint32, pid int32) (Group, bool) {
	s, ok := d.groups.Get(groupKey(container, pid))
	if !ok {
		return Group{}, false
	}
	return Group{Container: container, PID: pid, Second: s.sec, Counts: s.count}, true
}

// Handle implements agent.Agent.Handle. It takes syscall events
// (event.KindSyscall) and ignores the others. A call of no class costs one
// table read. A counted call adds 1+Repeats to its thread group's count of
// the class in the second of ev.Time (a call timed before the group's
// current second counts in that second); in learn mode the count raises
// the class's peak. In observe and enforce modes, the call that takes the
// count over the class's threshold appends one decision, the only one for
// that group, class and second:
//
//   - enforce: ActKill for spawn, ActDeny for connect and open, with a
//     Delay (DelayBase*count/threshold, at most DelayMax) that the quorum
//     carries out when no other detector agrees;
//   - observe: ActRecord, with what enforce would have done in Reason.
//
// Decision.Evidence holds the group's counts by class and the calling
// thread ("spawn=201", "connect=0", "open=3", "tid=42"). exit_group
// forgets the thread group.
//
// Handle allocates nothing unless it decides (a new group may grow the
// table); a decision allocates its Reason and Evidence.
func (d *Detector) Handle(ev *event.Event, out []agent.Decision) []agent.Decision {
	if ev.Sysno >= tableSize || ev.Kind != event.KindSyscall {
		return out
	}
	tag := table[ev.Sysno]
	if tag == tagNone {
		return out
	}
	key := groupKey(ev.Container, ev.PID)
	if tag == tagExitGroup {
		d.forget(key)
		return out
	}
	d.stats.Calls++
	if ev.Time > d.now {
		d.now = ev.Time
	}
	sec := ev.Time / int64(time.Second)
	s, _ := d.groups.Lookup(key)
	if sec > s.sec {
		s.sec = sec
		s.count = [NumClasses]uint32{}
		s.flags &^= decidedMask
	}
	c := Class(tag - 1)
	n := uint32(ev.Repeats) + 1
	cnt := s.count[c] + n
	if cnt < n {
		cnt = math.MaxUint32
	}
	s.count[c] = cnt
	if d.cfg.Mode == ModeLearn {
		if cnt > d.peaks[c] {
			d.peaks[c] = cnt
		}
		return out
	}
	if cnt <= d.thresh[c] || s.flags&(decided<<c) != 0 {
		return out
	}
	s.flags |= decided << c
	return d.decide(s, c, ev, out)
}

// decide appends the decision on group s, over its threshold in class c.
func (d *Detector) decide(s *slot, c Class, ev *event.Event, out []agent.Decision) []agent.Decision {
	cnt, th := s.count[c], d.thresh[c]
	act := agent.ActDeny
	if c == ClassSpawn {
		act = agent.ActKill
	}
	dec := agent.Decision{
		Agent:     Name,
		Container: ev.Container,
		PID:       ev.PID,
		TID:       ev.TID,
		Action:    act,
		Score:     min(1, float64(cnt)/(2*float64(th))),
		Reason: fmt.Sprintf("%s: %d calls in 1s, threshold %d (peak %d x %g, floor %d)",
			c, cnt, th, d.peaks[c], d.cfg.Factor, d.cfg.Floors[c]),
		Evidence: evidence(s, ev.TID),
	}
	delay := time.Duration(float64(d.cfg.DelayBase) * float64(cnt) / float64(th))
	if delay > d.cfg.DelayMax || delay < 0 {
		delay = d.cfg.DelayMax
	}
	if d.cfg.Mode == ModeObserve {
		would := act.String()
		if delay > 0 {
			would += " and delay " + delay.String()
		}
		dec.Reason = "observe: would " + would + ": " + dec.Reason
		dec.Action = agent.ActRecord
	} else {
		dec.Delay = delay
	}
	d.stats.Decisions[dec.Action]++
	return append(out, dec)
}

// evidence formats a group's counts and the calling thread.
func evidence(s *slot, tid int32) []string {
	ev := make([]string, 0, NumClasses+1)
	for c, n := range s.count {
		ev = append(ev, classNames[c]+"="+strconv.FormatUint(uint64(n), 10))
	}
	return append(ev, "tid="+strconv.Itoa(int(tid)))
}

// Tick implements agent.Agent.Tick: it advances the detector's clock and,
// at most every IdleTimeout/4, forgets groups idle for IdleTimeout. It
// decides nothing.
func (d *Detector) Tick(now time.Time, out []agent.Decision) []agent.Decision {
	if ns := now.UnixNano(); ns > d.now {
		d.now = ns
	}
	if d.cfg.IdleTimeout < 0 || d.now < d.nextSweep {
		return out
	}
	idle := int64(d.cfg.IdleTimeout)
	// s.sec is the second of the group's last counted call: its start is
	// at most a second before the call.
	d.stats.Expired += uint64(d.groups.DeleteFunc(func(_ uint64, s *slot) bool {
		return d.now-s.sec*int64(time.Second) >= idle+int64(time.Second)
	}))
	d.nextSweep = d.now + idle/4
	return out
}

// Forget drops a thread group's counts (the driver saw it exit) and
// reports whether the group was known.
func (d *Detector) Forget(container uint32, pid int32) bool {
	return d.forget(groupKey(container, pid))
}

func (d *Detector) forget(key uint64) bool {
	if !d.groups.Delete(key) {
		return false
	}
	d.stats.Exited++
	return true
}
