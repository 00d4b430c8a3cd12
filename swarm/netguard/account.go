package netguard

import (
	"net/netip"
	"slices"
	"time"

	"github.com/athenaos/athena/swarm/event"
)

// Sizes of a container's accounting tables.
const (
	// TopRoom is the size of the top-remotes table: TopRemotes returns at
	// most this many.
	TopRoom = 32
	// RecentRoom is the number of ended flows Recent keeps.
	RecentRoom = 64
)

// Stats are a container's counters, as Agent.Stats returns them.
type Stats struct {
	Mode Mode
	// FlowsOut and FlowsIn count new flows (FlowNew) by who opened them.
	FlowsOut, FlowsIn uint64
	// Refused counts outbound flows the egress policy refused, Blocked
	// those a swarm block dropped.
	Refused, Blocked uint64
	// Ended counts ended flows. The packet and byte totals are those of
	// ended flows: a flow's counters are added when it ends, so a
	// long-lived flow shows at its end (FlowUpdate events are counted in
	// Updates, not added, so nothing is counted twice).
	Ended                                    uint64
	PacketsOut, BytesOut, PacketsIn, BytesIn uint64
	Updates                                  uint64
	// Failed counts failed outbound probes (the scan detector's input);
	// Probes is how many are in the scan window now.
	Failed uint64
	Probes int
	// Peak is the learnt burst peak; Threshold the burst threshold it
	// gives: max(ceil(Peak*BurstFactor), BurstFloor).
	Peak, Threshold uint32
	// Decisions counts the decisions made, by action. Folded counts those
	// not made because the same one was made within the last second,
	// Capped those over FoldRoom a second.
	Decisions      [4]uint64
	Folded, Capped uint64
}

// Remote is a remote host's traffic with a container, as TopRemotes
// returns it: the totals of its ended flows.
type Remote struct {
	Addr                                     netip.Addr
	Flows                                    uint64
	PacketsOut, BytesOut, PacketsIn, BytesIn uint64
	// Err bounds the table's error (the space-saving algorithm): when the
	// table was full, this remote took the place of the one with the
	// fewest bytes and inherited its count, Err, as its rank. Its
	// counters are its own since then, so they are exact only when Err
	// is 0; its true rank lies between Bytes() and Bytes()+Err.
	Err uint64
}

// Bytes returns the bytes both ways.
func (r *Remote) Bytes() uint64 { return r.BytesOut + r.BytesIn }

// Flow is an ended flow, as Recent returns it.
type Flow struct {
	// End is when the flow ended (the event's time), Duration its age
	// then.
	End      time.Time
	Duration time.Duration
	// Remote is the remote end; Proto the IP protocol number; LocalPort
	// the container's port.
	Remote    netip.AddrPort
	Proto     uint8
	LocalPort uint16
	// Inbound: the remote opened the flow.
	Inbound bool
	// TCP holds the TCP flags seen (event.TCP* bits).
	TCP                                      uint16
	PacketsOut, BytesOut, PacketsIn, BytesIn uint64
}

// counts are a remote's or a flow's packets and bytes.
type counts struct{ packetsOut, bytesOut, packetsIn, bytesIn uint64 }

func countsOf(ev *event.Event) counts { return counts{ev.Args[2], ev.Args[3], ev.Args[4], ev.Args[5]} }

func (c *counts) add(d counts) {
	c.packetsOut += d.packetsOut
	c.bytesOut += d.bytesOut
	c.packetsIn += d.packetsIn
	c.bytesIn += d.bytesIn
}

// topEntry is a remote in the top table.
type topEntry struct {
	host  hostKey
	flows uint64
	err   uint64
	counts
}

func (e *topEntry) rank() uint64 { return e.bytesOut + e.bytesIn + e.err }

// topTable keeps the remotes with the most bytes (space-saving: a full
// table gives the entry with the lowest rank to a new remote, which
// inherits that rank as its error), so any remote with more than a
// TopRoom-th of the bytes is in it, however many remotes there are.
type topTable struct {
	e [TopRoom]topEntry
	n int
}

func (t *topTable) add(h hostKey, c counts) {
	i := slices.IndexFunc(t.e[:t.n], func(e topEntry) bool { return e.host == h })
	switch {
	case i >= 0:
	case t.n < TopRoom:
		i = t.n
		t.e[i] = topEntry{host: h}
		t.n++
	default:
		i = 0
		for j := 1; j < TopRoom; j++ {
			if t.e[j].rank() < t.e[i].rank() {
				i = j
			}
		}
		t.e[i] = topEntry{host: h, err: t.e[i].rank()}
	}
	t.e[i].flows++
	t.e[i].add(c)
}

// flowRec is an ended flow in the recent ring: pointer-free, 80 bytes.
type flowRec struct {
	end, age  int64
	remote    event.NetAddr
	localPort uint16
	proto     uint8
	inbound   bool
	tcp       uint16
	counts
}

// recentRing keeps the last RecentRoom ended flows.
type recentRing struct {
	r    [RecentRoom]flowRec
	next int
	n    int
}

func (r *recentRing) push(f flowRec) {
	r.r[r.next] = f
	r.next = (r.next + 1) % RecentRoom
	r.n = min(r.n+1, RecentRoom)
}

// account adds an ended flow to the totals, the top table and the recent
// ring.
func (c *container) account(ev *event.Event, inbound bool) {
	n := countsOf(ev)
	c.stats.Ended++
	c.stats.PacketsOut += n.packetsOut
	c.stats.BytesOut += n.bytesOut
	c.stats.PacketsIn += n.packetsIn
	c.stats.BytesIn += n.bytesIn
	c.top.add(hostOf(&ev.Net), n)
	c.recent.push(flowRec{
		end: ev.Time, age: ev.Ret, remote: ev.Net, localPort: uint16(ev.Args[0]),
		proto: uint8(ev.Sysno), inbound: inbound, tcp: ev.Ops, counts: n,
	})
}

// Stats returns a container's counters.
func (a *Agent) Stats(slot uint32) (Stats, bool) {
	c, ok := a.ctrs[slot]
	if !ok {
		return Stats{}, false
	}
	s := c.stats
	s.Mode, s.Probes, s.Peak, s.Threshold = c.cfg.Mode, c.scan.n, c.peak, c.thresh
	return s, true
}

// TopRemotes returns up to n of a container's remotes with the most bytes
// (at most TopRoom), most first.
func (a *Agent) TopRemotes(slot uint32, n int) []Remote {
	c, ok := a.ctrs[slot]
	if !ok || n <= 0 {
		return nil
	}
	e := slices.Clone(c.top.e[:c.top.n])
	slices.SortFunc(e, func(x, y topEntry) int {
		if x.rank() != y.rank() {
			if x.rank() > y.rank() {
				return -1
			}
			return 1
		}
		return x.host.addr().Compare(y.host.addr())
	})
	out := make([]Remote, 0, min(n, len(e)))
	for _, t := range e[:min(n, len(e))] {
		out = append(out, Remote{Addr: t.host.addr(), Flows: t.flows, Err: t.err,
			PacketsOut: t.packetsOut, BytesOut: t.bytesOut, PacketsIn: t.packetsIn, BytesIn: t.bytesIn})
	}
	return out
}

// Recent returns up to n of a container's last ended flows (at most
// RecentRoom), newest first.
func (a *Agent) Recent(slot uint32, n int) []Flow {
	c, ok := a.ctrs[slot]
	if !ok || n <= 0 {
		return nil
	}
	r := &c.recent
	n = min(n, r.n)
	out := make([]Flow, 0, n)
	for i := 1; i <= n; i++ {
		f := &r.r[(r.next-i+RecentRoom)%RecentRoom]
		out = append(out, Flow{
			End: time.Unix(0, f.end), Duration: time.Duration(f.age),
			Remote: netip.AddrPortFrom(addrOf(&f.remote), f.remote.Port), Proto: f.proto,
			LocalPort: f.localPort, Inbound: f.inbound, TCP: f.tcp,
			PacketsOut: f.packetsOut, BytesOut: f.bytesOut, PacketsIn: f.packetsIn, BytesIn: f.bytesIn,
		})
	}
	return out
}
