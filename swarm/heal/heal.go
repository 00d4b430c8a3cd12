package heal

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/restart"
)

// State is where a supervised process is, as the agent sees it.
type State uint8

// States.
const (
	// Running: started (or restarted: its backoff delay has passed) and
	// not seen to exit since.
	Running State = iota
	// Restarting: it exited and athena init restarts it after a delay
	// that has not passed yet.
	Restarting
	// GivenUp: it exited once too often within its intensity window;
	// init does not restart it any more.
	GivenUp
	// Done: it exited and is not restarted under its policy (restart
	// no, status 0 under on-failure), or main is over and init is
	// stopping the services.
	Done
)

var stateNames = [...]string{Running: "running", Restarting: "restarting", GivenUp: "given-up", Done: "done"}

// String returns "running", "restarting", "given-up" or "done".
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// proc is one supervised process: main (procs[0]) or a service.
type proc struct {
	name   string
	comm   [16]byte // NUL-padded, as event.Event.Comm
	commN  int      // len of the command name; 0 matches nothing
	policy restart.Policy
	state  State
	// restartAt is when a Restarting process starts again (ns).
	restartAt int64
	exits     uint64
	restarts  uint64
	lastCause string
	lastExit  int64
	lastPID   int32
	// tracker decides restarts, fed as athena init feeds its own; m
	// mirrors its state for snapshots (a Tracker cannot be copied).
	tracker *restart.Tracker
	m       mirror
}

// live reports whether an exit at t can be this process's: it runs, or
// its restart was due by t. Init starts a given-up or done process
// never again, and a restarting one not before restartAt: an exit under
// its name then is an orphan's.
func (p *proc) live(t int64) bool {
	return p.state == Running || p.state == Restarting && t >= p.restartAt
}

// matches reports whether comm (NUL-padded) is p's command name.
func (p *proc) matches(comm *[16]byte) bool {
	n := p.commN
	if n == 0 || string(p.comm[:n]) != string(comm[:n]) {
		return false
	}
	return n == len(comm) || comm[n] == 0
}

// container is one container's processes.
type container struct {
	slot  uint32
	procs []proc // main first, then the services in order
	// finished: main is over (done or given up); init stops the
	// services and restarts nothing any more.
	finished bool
	orphans  uint64
}

// Stats are the agent's counters, for metrics; the comment of each
// field gives its metric name.
type Stats struct {
	Containers int    // /swarm/healer/containers: containers followed
	Exits      uint64 // /swarm/healer/exits: exits of main or a service
	Restarts   uint64 // /swarm/healer/restarts: restarts decided
	GiveUps    uint64 // /swarm/healer/give_ups: processes given up
	Orphans    uint64 // /swarm/healer/orphans: exits of other processes init reaped
	Unknown    uint64 // /swarm/healer/unknown: exit events of containers not followed
}

// Agent is the healer agent. It implements agent.Agent and
// agent.Snapshotter.
//
// It is a deterministic state machine: it reads no clock (time comes from
// event times and Tick), starts no goroutines and does no I/O. It is not
// safe for concurrent use.
type Agent struct {
	containers map[uint32]*container
	order      []*container // by slot, for deterministic iteration
	// pending counts Restarting processes; nextDue is the earliest
	// restartAt among them.
	pending int
	nextDue int64
	stats   Stats
}

var (
	_ agent.Agent       = (*Agent)(nil)
	_ agent.Snapshotter = (*Agent)(nil)
)

// New returns an agent following no container yet.
func New() *Agent { return &Agent{containers: map[uint32]*container{}} }

// Name implements agent.Agent.Name: "healer".
func (a *Agent) Name() string { return Name }

// AddContainer starts following the container in slot, whose athena init
// supervises what cfg says. Its processes start Running.
func (a *Agent) AddContainer(slot uint32, cfg ContainerConfig) error {
	if err := cfg.check(); err != nil {
		return fmt.Errorf("add container %d: %w", slot, err)
	}
	if _, ok := a.containers[slot]; ok {
		return fmt.Errorf("add container %d: already added: %w", slot, ErrContainer)
	}
	if len(a.containers) >= MaxContainers {
		return fmt.Errorf("add container %d: more than %d: %w", slot, MaxContainers, ErrContainer)
	}
	c := &container{slot: slot, procs: make([]proc, 0, 1+len(cfg.Services))}
	c.procs = append(c.procs, newProc(MainName, cfg.Main, cfg.MainPolicy))
	for _, s := range cfg.Services {
		c.procs = append(c.procs, newProc(s.Name, s.Comm, s.Policy))
	}
	a.containers[slot] = c
	i, _ := slices.BinarySearchFunc(a.order, slot, func(c *container, s uint32) int { return cmp.Compare(c.slot, s) })
	a.order = slices.Insert(a.order, i, c)
	a.stats.Containers = len(a.containers)
	return nil
}

func newProc(name, comm string, p restart.Policy) proc {
	p = p.WithDefaults()
	pr := proc{name: name, policy: p, tracker: restart.NewTracker(p), m: newMirror(p)}
	pr.commN = copy(pr.comm[:], comm)
	return pr
}

// RemoveContainer stops following the container in slot (it was
// deleted); it reports whether it was followed.
func (a *Agent) RemoveContainer(slot uint32) bool {
	c, ok := a.containers[slot]
	if !ok {
		return false
	}
	for i := range c.procs {
		if c.procs[i].state == Restarting {
			a.pending--
		}
	}
	delete(a.containers, slot)
	a.order = slices.DeleteFunc(a.order, func(c *container) bool { return c.slot == slot })
	a.stats.Containers = len(a.containers)
	return true
}

// Handle implements agent.Agent.Handle. It reads KindLifecycle events
// with Ops LifeOpExit of the containers it follows and ignores the rest,
// without allocating. An exit of main or a service appends one ActRecord
// decision; an orphan's is only counted.
func (a *Agent) Handle(ev *event.Event, out []agent.Decision) []agent.Decision {
	if ev.Kind != event.KindLifecycle || ev.Ops != event.LifeOpExit {
		return out
	}
	c := a.containers[ev.Container]
	if c == nil {
		a.stats.Unknown++
		return out
	}
	i := c.classify(ev)
	if i < 0 {
		c.orphans++
		a.stats.Orphans++
		return out
	}
	return append(out, a.exit(c, &c.procs[i], ev))
}

// classify returns the index of the process ev's exit is: the first live
// service whose command name is ev's, else main if its command name is
// ev's and it is live; -1 for an orphan.
func (c *container) classify(ev *event.Event) int {
	for i := 1; i < len(c.procs); i++ {
		if p := &c.procs[i]; p.matches(&ev.Comm) && p.live(ev.Time) {
			return i
		}
	}
	if p := &c.procs[0]; p.matches(&ev.Comm) && p.live(ev.Time) {
		return 0
	}
	return -1
}

// exit records the exit ev of p, a live process of c, and decides.
func (a *Agent) exit(c *container, p *proc, ev *event.Event) agent.Decision {
	exited := ev.Args[0] == 1
	code, sig := int(ev.Args[1]&0xff), int(ev.Args[2]&0x7f)
	if p.state == Restarting {
		// Its restart was due: this is the restarted process's exit.
		p.state = Running
		a.pending--
	}
	p.exits++
	p.lastExit, p.lastPID = ev.Time, ev.PID
	p.lastCause = describe(exited, code, sig)
	a.stats.Exits++
	var outcome string
	if c.finished {
		p.state = Done
		outcome = "not restarted: stopping"
	} else {
		d := p.tracker.Exit(time.Unix(0, ev.Time), exited, code, sig)
		p.m.exit(ev.Time, d, p.policy)
		switch {
		case d.Restart:
			p.state, p.restartAt = Restarting, ev.Time+int64(d.Delay)
			// Init starts it again when the delay has passed.
			p.tracker.Started(time.Unix(0, p.restartAt))
			p.m.started, p.m.running = p.restartAt, true
			p.restarts++
			a.stats.Restarts++
			if a.pending == 0 || p.restartAt < a.nextDue {
				a.nextDue = p.restartAt
			}
			a.pending++
			outcome = "restart " + strconv.Itoa(d.Count) + " in " + restart.FormatDuration(d.Delay)
		case d.GiveUp:
			p.state = GivenUp
			a.stats.GiveUps++
			outcome = d.Reason
		default:
			p.state = Done
			outcome = strings.TrimPrefix(d.Reason, restart.Describe(exited, code, sig)+": ")
		}
		if p == &c.procs[0] && p.state != Restarting {
			a.finish(c)
		}
	}
	return agent.Decision{
		Agent:     Name,
		Container: c.slot,
		PID:       ev.PID,
		Action:    agent.ActRecord,
		Reason:    p.name + " (pid " + strconv.Itoa(int(ev.PID)) + ") " + p.lastCause + ": " + outcome,
		Evidence: []string{
			"process=" + p.name,
			"comm=" + ev.CommString(),
			"exits=" + strconv.FormatUint(p.exits, 10),
			"restarts=" + strconv.FormatUint(p.restarts, 10),
			"window=" + strconv.Itoa(len(p.m.restarts)) + "/" + strconv.Itoa(p.policy.MaxRestarts) + " restarts within " + restart.FormatDuration(p.policy.Window),
			"policy=" + PolicyString(p.policy),
			"state=" + p.state.String(),
		},
	}
}

// finish marks c's main over: init restarts nothing any more and stops
// the services; a service waiting for its restart never comes back.
func (a *Agent) finish(c *container) {
	c.finished = true
	for i := 1; i < len(c.procs); i++ {
		if p := &c.procs[i]; p.state == Restarting {
			p.state = Done
			a.pending--
		}
	}
}

// describe says how a process ended, as athena init logs it: "exited
// with status 1" or "killed by SIGSEGV".
func describe(exited bool, code, sig int) string {
	if exited {
		return "exited with status " + strconv.Itoa(code)
	}
	return "killed by " + restart.SignalName(sig)
}

// Tick implements agent.Agent.Tick: the restarts due by now have
// happened (their processes are Running again). It decides nothing and
// allocates nothing.
func (a *Agent) Tick(now time.Time, out []agent.Decision) []agent.Decision {
	t := now.UnixNano()
	if a.pending == 0 || t < a.nextDue {
		return out
	}
	a.pending, a.nextDue = 0, 0
	for _, c := range a.order {
		for i := range c.procs {
			p := &c.procs[i]
			if p.state != Restarting {
				continue
			}
			if p.restartAt <= t {
				p.state = Running
				continue
			}
			if a.pending == 0 || p.restartAt < a.nextDue {
				a.nextDue = p.restartAt
			}
			a.pending++
		}
	}
	return out
}

// Stats returns the agent's counters.
func (a *Agent) Stats() Stats { return a.stats }
