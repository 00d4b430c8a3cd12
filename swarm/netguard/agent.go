package netguard

import (
	"fmt"
	"slices"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
)

// Name is the agent's name. Its decisions carry the names of its
// detectors instead (AgentEgress, AgentScan, AgentBurst, AgentLimit), so
// that the quorum counts each as a voter of its own.
const Name = "netguard"

// The names of the agent's detectors, as its decisions carry them.
const (
	AgentEgress = "egress"
	AgentScan   = "scan"
	AgentBurst  = "burst"
	// AgentLimit's decisions enforce the operator's limit (Decision.Limit):
	// the quorum carries them without votes.
	AgentLimit = "netlimit"
)

// MaxContainers bounds the containers the agent keeps state for (the
// sentry gives 64 slots a swarm).
const MaxContainers = 256

// Linux values the events carry.
const (
	afInet     = 2
	afInet6    = 10
	sockStream = 1
	sockDgram  = 2
	sockRaw    = 3
)

// Agent is the network agent of one sandbox: per container, the scan,
// burst, egress and limit detectors and the flow accounting. It
// implements agent.Agent and agent.Snapshotter.
//
// An Agent is a deterministic state machine: it reads no clock (time comes
// from event times and Tick), starts no goroutines and does no I/O. It is
// not safe for concurrent use; one driver goroutine calls it, and the
// accessors (Stats, TopRemotes, Recent) must be called from it too or
// under the driver's lock.
type Agent struct {
	// def is the configuration of containers that send events before
	// AddContainer names them.
	def  Config
	ctrs map[uint32]*container
	// now is the latest time seen (events and ticks), in nanoseconds.
	now      int64
	counters Counters
}

// Counters are the agent's own counters.
type Counters struct {
	// Events counts the packet events handled.
	Events uint64
	// Ignored counts packet events without an IP remote or with an
	// unknown flow operation.
	Ignored uint64
	// Dropped counts events of a container the agent had no room for
	// (MaxContainers).
	Dropped uint64
}

var (
	_ agent.Agent       = (*Agent)(nil)
	_ agent.Snapshotter = (*Agent)(nil)
)

// New returns an agent without containers. cfg, defaults filled in, is
// the configuration of a container whose events come before AddContainer
// names it.
func New(cfg Config) (*Agent, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Agent{def: cfg, ctrs: make(map[uint32]*container)}, nil
}

// Name implements agent.Agent.Name.
func (a *Agent) Name() string { return Name }

// Counters returns the agent's own counters.
func (a *Agent) Counters() Counters { return a.counters }

// AddContainer gives container slot the configuration cfg (defaults
// filled in), adding it if it is new. A container that exists keeps its
// counts, tables and learnt peak: a new policy changes thresholds, not
// history. It fails with ErrConfig or, for a new slot beyond
// MaxContainers, ErrFull.
func (a *Agent) AddContainer(slot uint32, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if c, ok := a.ctrs[slot]; ok {
		c.setConfig(cfg)
		return nil
	}
	if len(a.ctrs) >= MaxContainers {
		return fmt.Errorf("add container %d: %w", slot, ErrFull)
	}
	a.ctrs[slot] = newContainer(cfg)
	return nil
}

// RemoveContainer forgets container slot and reports whether it was
// known.
func (a *Agent) RemoveContainer(slot uint32) bool {
	_, ok := a.ctrs[slot]
	delete(a.ctrs, slot)
	return ok
}

// Containers returns the slots the agent has state for, in order.
func (a *Agent) Containers() []uint32 {
	out := make([]uint32, 0, len(a.ctrs))
	for s := range a.ctrs {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// SetMode switches a container's mode; it keeps its counts and peak.
func (a *Agent) SetMode(slot uint32, m Mode) error {
	c, ok := a.ctrs[slot]
	if !ok {
		return fmt.Errorf("set mode of container %d: unknown container: %w", slot, ErrConfig)
	}
	if m > ModeEnforce {
		return fmt.Errorf("set mode %d: %w", m, ErrConfig)
	}
	cfg := c.cfg
	cfg.Mode = m
	c.setConfig(cfg)
	return nil
}

// Config returns a container's configuration, defaults filled in.
func (a *Agent) Config(slot uint32) (Config, bool) {
	c, ok := a.ctrs[slot]
	if !ok {
		return Config{}, false
	}
	return c.cfg, true
}

// Peak returns the most new outbound flows a container opened within one
// second while learning.
func (a *Agent) Peak(slot uint32) uint32 {
	if c, ok := a.ctrs[slot]; ok {
		return c.peak
	}
	return 0
}

// SetPeak replaces a container's learnt peak (a profile from the host's
// long memory); learn mode goes on raising it from there.
func (a *Agent) SetPeak(slot uint32, peak uint32) bool {
	c, ok := a.ctrs[slot]
	if ok {
		c.peak = peak
		c.thresh = c.cfg.threshold(peak)
	}
	return ok
}

// Hold returns how long the block a decision of this agent asks for
// lasts once carried out: the container's LimitHold for a limit
// decision, its BlockHold otherwise (0 for an unknown container).
func (a *Agent) Hold(d agent.Decision) time.Duration {
	c, ok := a.ctrs[d.Container]
	switch {
	case !ok:
		return 0
	case d.Limit:
		return c.cfg.LimitHold
	}
	return c.cfg.BlockHold
}

// Handle implements agent.Agent.Handle. It takes packet events
// (event.KindPacket) and ignores the others. Every flow event is
// accounted (Stats, TopRemotes, Recent); outbound ones to a remote other
// than loopback also feed the detectors:
//
//   - egress: FlowRefused votes to block the remote host:port;
//   - scan: a failed probe (FlowRefused, FlowBlocked of a first packet,
//     or a FlowEnd of a TCP flow whose SYN got no SYN-ACK or of a UDP
//     flow that got no packet back) counts towards a vertical scan (distinct ports of one
//     host, which votes to block the host) and a horizontal one
//     (distinct hosts on one port, which votes to block that port on
//     every host);
//   - burst and limit: FlowNew, FlowRefused and FlowBlocked (of a first
//     packet, not of an open flow a block cut) count as new outbound
//     flows of the second of the event's time.
//
// In learn mode it only learns the burst peak; observe mode appends
// ActRecord decisions saying what enforce would do; enforce appends
// ActDeny votes (limit decisions with Limit set). The same decision
// (detector, container, Remote, action) is appended at most once a
// second, and a container gets at most FoldRoom decisions a second.
//
// Handle allocates nothing for an event that leads to no decision, once
// the container's probe ring has grown; a decision allocates its Reason
// and Evidence.
func (a *Agent) Handle(ev *event.Event, out []agent.Decision) []agent.Decision {
	if ev.Kind != event.KindPacket {
		return out
	}
	a.counters.Events++
	op := ev.Args[1]
	if (ev.Net.Family != afInet && ev.Net.Family != afInet6) || op < event.FlowNew || op > event.FlowUpdate {
		a.counters.Ignored++
		return out
	}
	c := a.container(ev.Container)
	if c == nil {
		a.counters.Dropped++
		return out
	}
	a.now = max(a.now, ev.Time)
	c.now = max(c.now, ev.Time)
	inbound := ev.Flags&event.FlagInbound != 0
	switch op {
	case event.FlowNew:
		if inbound {
			c.stats.FlowsIn++
		} else {
			c.stats.FlowsOut++
		}
	case event.FlowEnd:
		c.account(ev, inbound)
	case event.FlowRefused:
		c.stats.Refused++
	case event.FlowBlocked:
		c.stats.Blocked++
	case event.FlowUpdate:
		c.stats.Updates++
		return out
	}
	// A server's clients open inbound flows: they never count. Loopback
	// stays inside the sandbox, and a local service without connection
	// pooling opens thousands of flows a second to it.
	if inbound || isLoopback(&ev.Net) {
		return out
	}
	if op == event.FlowRefused {
		out = c.egress(ev, out)
	}
	if op == event.FlowNew || op == event.FlowRefused || (op == event.FlowBlocked && !cut(ev)) {
		out = c.burst(ev, out)
	}
	if failed(ev) {
		out = c.probe(ev, out)
	}
	return out
}

// container returns the state of slot, adding it with the default
// configuration if there is room; nil if there is none.
func (a *Agent) container(slot uint32) *container {
	if c, ok := a.ctrs[slot]; ok {
		return c
	}
	if len(a.ctrs) >= MaxContainers {
		return nil
	}
	c := newContainer(a.def)
	a.ctrs[slot] = c
	return c
}

// failed reports whether an outbound flow event is a failed probe: the
// policy or a block refused it, or it ended unanswered (a TCP SYN that got
// no SYN-ACK, whether reset or timed out; a UDP flow that got no packet
// back). Only TCP and UDP count: see the package doc.
func failed(ev *event.Event) bool {
	if ev.Sysno != 6 && ev.Sysno != 17 {
		return false
	}
	switch ev.Args[1] {
	case event.FlowRefused:
		return true
	case event.FlowBlocked:
		return !cut(ev)
	case event.FlowEnd:
		if ev.Sysno == 6 {
			return ev.Ops&event.TCPSynOut != 0 && ev.Ops&event.TCPSynAckIn == 0
		}
		return ev.Args[4] == 0
	}
	return false
}

// cut reports whether a FlowBlocked event is about a flow that was open
// when a new block cut it (it has an age, or got answers), rather than a
// first packet the block refused: a cut flow is neither a new flow nor a
// probe, and counting the flows a block cuts at once would renew the
// block by itself.
func cut(ev *event.Event) bool {
	return ev.Ret > 0 || ev.Args[4] > 0 || ev.Ops&event.TCPSynAckIn != 0
}

// Tick implements agent.Agent.Tick: it advances the clock and drops the
// probes that left the scan window, freeing a container's probe ring
// when it empties (a quiet container holds no probe memory). It decides
// nothing.
func (a *Agent) Tick(now time.Time, out []agent.Decision) []agent.Decision {
	a.now = max(a.now, now.UnixNano())
	for _, c := range a.ctrs {
		c.now = max(c.now, a.now)
		c.scan.expire(c.now - int64(c.cfg.ScanWindow))
		if c.scan.n == 0 {
			c.scan = scanState{}
		}
	}
	return out
}
