package netguard

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/policy"
)

// container is the agent's state for one container: fixed-size tables
// (about 11 KB) plus the probe ring and its counts while probes are in the
// scan window (see the package doc, Memory).
type container struct {
	cfg Config
	// thresh is the burst threshold: max(ceil(peak*factor), floor).
	thresh uint32
	peak   uint32
	// count is the new outbound flows in Unix second sec; burstSec and
	// limitSec are the seconds whose burst and limit decisions were made.
	sec, burstSec, limitSec int64
	count                   uint32
	// now is the latest time the container saw, in nanoseconds.
	now    int64
	scan   scanState
	stats  Stats
	top    topTable
	recent recentRing
	fold   [FoldRoom]foldEntry
}

func newContainer(cfg Config) *container {
	c := &container{burstSec: -1, limitSec: -1}
	c.setConfig(cfg)
	return c
}

// setConfig takes a new configuration (defaults filled in). The probe
// ring is rebuilt at the next probe if its room changed.
func (c *container) setConfig(cfg Config) {
	if cfg.ProbeRoom() != len(c.scan.ring) {
		c.scan = scanState{}
	}
	c.cfg = cfg
	c.thresh = cfg.threshold(c.peak)
}

// Decision kinds (their agent names), as the fold table keys them.
const (
	idEgress uint8 = 1 + iota
	idScan
	idBurst
	idLimit
)

var idNames = [...]string{idEgress: AgentEgress, idScan: AgentScan, idBurst: AgentBurst, idLimit: AgentLimit}

// FoldRoom is the most decisions one container gets within a second (the
// fold table's size): a flood of refusals to distinct remotes costs the
// swarm at most this many decisions a second.
const FoldRoom = 64

// foldEntry is a decision made within the last second.
type foldEntry struct {
	t      int64
	remote event.NetAddr
	id     uint8 // 0: free
	action agent.Action
}

// admit reports whether a decision (id, remote, action) may be made now:
// the same one was not made within the last second, and the container
// made fewer than FoldRoom decisions within it. It records the decision
// when it admits it.
func (c *container) admit(id uint8, remote event.NetAddr, act agent.Action) bool {
	free := -1
	for i := range c.fold {
		f := &c.fold[i]
		recent := f.id != 0 && c.now-f.t < int64(time.Second)
		switch {
		case recent && f.id == id && f.action == act && f.remote == remote:
			c.stats.Folded++
			return false
		case !recent && free < 0:
			free = i
		}
	}
	if free < 0 {
		c.stats.Capped++
		return false
	}
	c.fold[free] = foldEntry{t: c.now, remote: remote, id: id, action: act}
	return true
}

// decide appends the decision of detector id about remote, if the mode
// and the fold table let it through, and reports whether it did.
// reason and evidence are called only then, so that a folded decision
// allocates nothing.
func (c *container) decide(out []agent.Decision, ev *event.Event, id uint8, remote event.NetAddr, score float64,
	reason func() string, evidence func() []string) ([]agent.Decision, bool) {
	act := agent.ActDeny
	if c.cfg.Mode == ModeObserve {
		act = agent.ActRecord
	}
	if c.cfg.Mode == ModeLearn || !c.admit(id, remote, act) {
		return out, false
	}
	d := agent.Decision{
		Agent:     idNames[id],
		Container: ev.Container,
		Action:    act,
		Score:     score,
		Reason:    reason(),
		Evidence:  evidence(),
		Remote:    remote,
		Limit:     id == idLimit,
	}
	hold := c.cfg.BlockHold
	if d.Limit {
		hold = c.cfg.LimitHold
	}
	if act == agent.ActRecord {
		d.Reason = "observe: would block " + FormatRemote(remote) + " for " + hold.String() + ": " + d.Reason
	} else {
		d.Evidence = append(d.Evidence, "block "+FormatRemote(remote)+" for "+hold.String())
	}
	c.stats.Decisions[act]++
	return append(out, d), true
}

// egress votes to block the host:port a refused flow went to (the host,
// for a protocol without ports).
func (c *container) egress(ev *event.Event, out []agent.Decision) []agent.Decision {
	remote := ev.Net
	if !ported(ev.Sysno) {
		remote.Port = 0
	}
	out, _ = c.decide(out, ev, idEgress, remote, 1,
		func() string { return "egress policy refused " + describe(ev) },
		func() []string {
			return []string{c.egressRule(ev), "local port " + strconv.FormatUint(ev.Args[0]&math.MaxUint16, 10)}
		})
	return out
}

// egressRule says which of the container's egress rules refuses the flow.
func (c *container) egressRule(ev *event.Event) string {
	e := &c.cfg.Egress
	allow, i := e.Decide(uint8(ev.Sysno), addrOf(&ev.Net), ev.Net.Port)
	switch {
	case allow:
		return "the agent's copy of the egress rules allows it: the packet filter's rules differ"
	case i == policy.EgressDefault:
		return "egress default: deny (no rule matched)"
	}
	return "egress rule " + strconv.Itoa(i+1) + ": " + e.Rules[i].String()
}

// burst counts a new outbound flow in its second and decides when the
// count passes the burst threshold or the limit.
func (c *container) burst(ev *event.Event, out []agent.Decision) []agent.Decision {
	sec := ev.Time / int64(time.Second)
	if sec > c.sec {
		c.sec, c.count = sec, 0
	}
	if c.count < math.MaxUint32 {
		c.count++
	}
	if c.cfg.Mode == ModeLearn {
		if c.count > c.peak {
			c.peak = c.count
			c.thresh = c.cfg.threshold(c.peak)
		}
		return out
	}
	var ok bool
	if c.count > c.thresh && c.burstSec != c.sec {
		out, ok = c.decide(out, ev, idBurst, event.NetAddr{}, min(1, float64(c.count)/(2*float64(c.thresh))),
			func() string {
				return fmt.Sprintf("burst: %d new outbound flows in 1s, threshold %d (peak %d x %g, floor %d)",
					c.count, c.thresh, c.peak, c.cfg.BurstFactor, c.cfg.BurstFloor)
			},
			func() []string {
				return []string{"new=" + strconv.FormatUint(uint64(c.count), 10), "last " + describe(ev)}
			})
		if ok {
			c.burstSec = c.sec
		}
	}
	if c.cfg.Limit > 0 && c.count > c.cfg.Limit && c.limitSec != c.sec {
		out, ok = c.decide(out, ev, idLimit, event.NetAddr{}, 1,
			func() string {
				return fmt.Sprintf("limit: %d new outbound flows in 1s, limit %d", c.count, c.cfg.Limit)
			},
			func() []string {
				return []string{"new=" + strconv.FormatUint(uint64(c.count), 10), "last " + describe(ev)}
			})
		if ok {
			c.limitSec = c.sec
		}
	}
	return out
}

// probe counts a failed outbound probe and decides when it completes a
// vertical or horizontal scan.
func (c *container) probe(ev *event.Event, out []agent.Decision) []agent.Decision {
	c.stats.Failed++
	p := probe{t: ev.Time, host: hostOf(&ev.Net), svc: svcOf(ev)}
	ports, hosts := c.scan.add(p, c.now-int64(c.cfg.ScanWindow), c.cfg.ProbeRoom())
	if c.cfg.Mode == ModeLearn {
		return out
	}
	win := c.cfg.ScanWindow.String()
	if ports >= c.cfg.ScanPorts {
		remote := event.NetAddr{Family: ev.Net.Family, IP: ev.Net.IP}
		out, _ = c.decide(out, ev, idScan, remote, min(1, float64(ports)/(2*float64(c.cfg.ScanPorts))),
			func() string {
				return fmt.Sprintf("vertical scan: %d ports of %s failed within %s (threshold %d)",
					ports, addrOf(&ev.Net), win, c.cfg.ScanPorts)
			},
			func() []string { return []string{"ports: " + c.scan.ports(p.host)} })
	}
	if hosts >= c.cfg.ScanHosts {
		remote := event.NetAddr{Port: ev.Net.Port, Protocol: uint8(p.svc >> 16)}
		out, _ = c.decide(out, ev, idScan, remote, min(1, float64(hosts)/(2*float64(c.cfg.ScanHosts))),
			func() string {
				return fmt.Sprintf("horizontal scan: %s port %d failed on %d hosts within %s (threshold %d)",
					protoName(ev.Sysno), ev.Net.Port, hosts, win, c.cfg.ScanHosts)
			},
			func() []string { return []string{"hosts: " + c.scan.hosts(p.svc)} })
	}
	return out
}

// addrOf returns an event address's IP.
func addrOf(a *event.NetAddr) netip.Addr {
	if a.Family == afInet {
		return netip.AddrFrom4([4]byte(a.IP[:4]))
	}
	return netip.AddrFrom16(a.IP)
}

func isLoopback(a *event.NetAddr) bool { return addrOf(a).Unmap().IsLoopback() }

// ported reports whether IP protocol p has ports (TCP, UDP).
func ported(p uint32) bool { return p == 6 || p == 17 }

// protoName names an IP protocol number.
func protoName(p uint32) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1:
		return "icmp"
	case 58:
		return "icmpv6"
	}
	return "ip proto " + strconv.FormatUint(uint64(p), 10)
}

// describe writes a flow event's protocol and remote: "tcp to 1.2.3.4:80",
// "udp to [2001:db8::1]:53", "icmp to 1.2.3.4".
func describe(ev *event.Event) string {
	a := addrOf(&ev.Net)
	if !ported(ev.Sysno) {
		return protoName(ev.Sysno) + " to " + a.String()
	}
	return protoName(ev.Sysno) + " to " + netip.AddrPortFrom(a, ev.Net.Port).String()
}

// FormatRemote writes a decision's Remote: "10.0.0.5:*" (every port of a
// host), "10.0.0.5:22", "[2001:db8::1]:443", "*:22" (port 22 of every
// host) or "*" (every remote), after "tcp " or "udp " when Protocol
// narrows it to SOCK_STREAM or SOCK_DGRAM flows ("raw " for other
// protocols).
func FormatRemote(r event.NetAddr) string {
	var proto string
	switch r.Protocol {
	case sockStream:
		proto = "tcp "
	case sockDgram:
		proto = "udp "
	case 0:
	default:
		proto = "raw "
	}
	port := "*"
	if r.Port != 0 {
		port = strconv.Itoa(int(r.Port))
	}
	switch r.Family {
	case afInet:
		return proto + addrOf(&r).String() + ":" + port
	case afInet6:
		return proto + "[" + addrOf(&r).String() + "]:" + port
	}
	if r.Port == 0 {
		return proto + "*"
	}
	return proto + "*:" + port
}
