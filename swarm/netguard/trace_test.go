package netguard

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
)

// Recorded traces, built deterministically (a fixed LCG): a server under
// load, benign clients, vertical and horizontal scans, connection bursts.
// Times start at t0, a whole second.

const (
	testContainer = 3
	t0            = int64(1_700_000_000) * int64(time.Second)
)

// flow is one flow event of a trace, at an offset from t0.
type flow struct {
	at      time.Duration
	proto   uint32 // 6, 17, 1, 58
	remote  netip.AddrPort
	local   uint16
	op      uint64
	tcp     uint16
	inbound bool
	// pktOut, bytesOut, pktIn, bytesIn are the flow's counters.
	pktOut, bytesOut, pktIn, bytesIn uint64
	age                              time.Duration
}

// lcg is a fixed linear congruential generator: the same trace every time.
type lcg uint32

func (x *lcg) next(n int) int {
	*x = *x*1103515245 + 12345
	return int(uint32(*x)>>16) % n
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// ipv4 returns 10.a.b.c for n = a<<16|b<<8|c, port p.
func ipv4(n int, p uint16) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(n >> 16), byte(n >> 8), byte(n)}), p)
}

// at is the offset of the i-th of perSecond evenly spread events a
// second.
func at(i, perSecond int) time.Duration {
	return time.Duration(int64(i) * int64(time.Second) / int64(perSecond))
}

// ok is a successful outbound TCP flow: FlowNew at start, FlowEnd 50ms
// later.
func ok(start time.Duration, remote netip.AddrPort, local uint16) []flow {
	return []flow{
		{at: start, proto: 6, remote: remote, local: local, op: event.FlowNew, tcp: event.TCPSynOut},
		{at: start + 50*time.Millisecond, proto: 6, remote: remote, local: local, op: event.FlowEnd,
			tcp: event.TCPSynOut | event.TCPSynAckIn | event.TCPFin, pktOut: 5, bytesOut: 600, pktIn: 6, bytesIn: 9000, age: 50 * time.Millisecond},
	}
}

// closed is a probe of a closed TCP port: SYN out, RST in at once.
func closed(start time.Duration, remote netip.AddrPort, local uint16) []flow {
	return []flow{
		{at: start, proto: 6, remote: remote, local: local, op: event.FlowNew, tcp: event.TCPSynOut},
		{at: start + time.Millisecond, proto: 6, remote: remote, local: local, op: event.FlowEnd,
			tcp: event.TCPSynOut | event.TCPRstIn, pktOut: 1, bytesOut: 60, pktIn: 1, bytesIn: 40, age: time.Millisecond},
	}
}

// silent is a probe of a filtered TCP port or an absent host: SYN out,
// no answer, FlowEnd on idle expiry after expire.
func silent(start, expire time.Duration, remote netip.AddrPort, local uint16) []flow {
	return []flow{
		{at: start, proto: 6, remote: remote, local: local, op: event.FlowNew, tcp: event.TCPSynOut},
		{at: start + expire, proto: 6, remote: remote, local: local, op: event.FlowEnd,
			tcp: event.TCPSynOut, pktOut: 3, bytesOut: 180, age: expire},
	}
}

// verticalScan probes n ports of host from port first, perSecond a
// second from start; every port is closed.
func verticalScan(start time.Duration, host string, first uint16, n, perSecond int) []flow {
	var out []flow
	for i := range n {
		out = append(out, closed(start+at(i, perSecond), netip.AddrPortFrom(netip.MustParseAddr(host), first+uint16(i)), uint16(40000+i))...)
	}
	return out
}

// horizontalScan probes port on n hosts 10.0.x.y, perSecond a second
// from start; no host answers, so every probe ends 2s later.
func horizontalScan(start time.Duration, port uint16, n, perSecond int) []flow {
	var out []flow
	for i := range n {
		out = append(out, silent(start+at(i, perSecond), 2*time.Second, ipv4(i+1, port), uint16(41000+i))...)
	}
	return out
}

// server is seconds seconds of a web server answering perSecond clients a
// second, each a new inbound TCP flow from a random client address and
// port, answered and closed; one in 50 clients goes away half-way (a
// reset, or a SYN never completed: scanners and SYN floods out there), so
// the server sees failed inbound flows too. The server also queries its
// database (10.9.0.1:5432) over a pool of 8 connections opened at the
// start.
func server(seed lcg, seconds, perSecond int) []flow {
	x := seed
	var out []flow
	db := ap("10.9.0.1:5432")
	for i := range 8 {
		out = append(out, flow{at: 0, proto: 6, remote: db, local: uint16(50000 + i), op: event.FlowNew, tcp: event.TCPSynOut})
	}
	for s := range seconds {
		for i := range perSecond {
			t := time.Duration(s)*time.Second + at(i, perSecond)
			client := netip.AddrPortFrom(netip.AddrFrom4([4]byte{byte(1 + x.next(223)), byte(x.next(256)), byte(x.next(256)), byte(1 + x.next(254))}),
				uint16(1024+x.next(60000)))
			f := flow{at: t, proto: 6, remote: client, local: 443, op: event.FlowNew, tcp: event.TCPSynIn | event.TCPSynAckOut, inbound: true}
			out = append(out, f)
			f.at += 20 * time.Millisecond
			f.op, f.age = event.FlowEnd, 20*time.Millisecond
			switch x.next(50) {
			case 0:
				f.tcp = event.TCPSynIn | event.TCPSynAckOut | event.TCPRstOut
				f.pktIn, f.bytesIn = 1, 60
			case 1:
				f.tcp = event.TCPSynIn | event.TCPRstIn
				f.pktIn, f.bytesIn = 2, 100
			default:
				f.tcp |= event.TCPFin
				f.pktOut, f.bytesOut, f.pktIn, f.bytesIn = 8, 12000, 6, 800
			}
			out = append(out, f)
		}
		for i := range 4 {
			out = append(out, flow{at: time.Duration(s)*time.Second + at(i, 4), proto: 6, remote: db, local: uint16(50000 + i),
				op: event.FlowUpdate, tcp: event.TCPSynOut | event.TCPSynAckIn, pktOut: 100, bytesOut: 9000, pktIn: 100, bytesIn: 90000})
		}
	}
	return out
}

// client is seconds seconds of a benign client opening perSecond new
// connections a second to a handful of backends, all answered, and now
// and then one refused by a closed port (a backend restarting).
func client(seed lcg, seconds, perSecond int) []flow {
	x := seed
	var out []flow
	backends := []netip.AddrPort{ap("10.1.0.1:8080"), ap("10.1.0.2:8080"), ap("10.1.0.3:8080"), ap("[2001:db8::7]:443")}
	for s := range seconds {
		for i := range perSecond {
			t := time.Duration(s)*time.Second + at(i, perSecond)
			b := backends[x.next(len(backends))]
			if x.next(100) == 0 {
				out = append(out, closed(t, b, uint16(30000+x.next(20000)))...)
				continue
			}
			out = append(out, ok(t, b, uint16(30000+x.next(20000)))...)
		}
	}
	return out
}

// burst is perSecond new outbound connections a second for seconds
// seconds from start, to random hosts on port 443, all answered.
func burst(start time.Duration, seconds, perSecond int) []flow {
	var out []flow
	for i := range seconds * perSecond {
		out = append(out, ok(start+at(i, perSecond), ipv4(i%5000+1, 443), uint16(20000+i%30000))...)
	}
	return out
}

// shift moves a trace by d.
func shift(flows []flow, d time.Duration) []flow {
	out := slices.Clone(flows)
	for i := range out {
		out[i].at += d
	}
	return out
}

// merge merges traces by time (stable: events at the same time keep their
// order).
func merge(traces ...[]flow) []flow {
	var out []flow
	for _, t := range traces {
		out = append(out, t...)
	}
	slices.SortStableFunc(out, func(a, b flow) int { return cmp.Compare(a.at, b.at) })
	return out
}

// events turns a trace into packet events of container slot.
func events(slot uint32, flows []flow) []event.Event {
	evs := make([]event.Event, len(flows))
	for i, f := range flows {
		evs[i] = packet(slot, f)
	}
	return evs
}

func packet(slot uint32, f flow) event.Event {
	ev := event.Event{
		Kind:      event.KindPacket,
		Container: slot,
		Time:      t0 + int64(f.at),
		Sysno:     f.proto,
		Ops:       f.tcp,
		Ret:       int64(f.age),
		Args:      [6]uint64{uint64(f.local), f.op, f.pktOut, f.bytesOut, f.pktIn, f.bytesIn},
	}
	if f.inbound {
		ev.Flags |= event.FlagInbound
	}
	a := f.remote.Addr()
	ev.Net.Port = f.remote.Port()
	if a.Is4() {
		ev.Net.Family = afInet
		b := a.As4()
		copy(ev.Net.IP[:], b[:])
	} else {
		ev.Net.Family = afInet6
		ev.Net.IP = a.As16()
	}
	switch f.proto {
	case 6:
		ev.Net.Protocol = sockStream
	case 17:
		ev.Net.Protocol = sockDgram
	default:
		ev.Net.Protocol = sockRaw
	}
	return ev
}

// feed hands evs to a, ticking every 100ms of event time as the driver
// does, and returns the decisions.
func feed(a *Agent, evs []event.Event) []agent.Decision {
	var out []agent.Decision
	var lastTick int64
	for i := range evs {
		if evs[i].Time-lastTick >= int64(100*time.Millisecond) {
			lastTick = evs[i].Time
			out = a.Tick(time.Unix(0, lastTick), out)
		}
		out = a.Handle(&evs[i], out)
	}
	return out
}

func enforce() Config {
	c := DefaultConfig()
	c.Mode = ModeEnforce
	return c
}

// newAgent returns an agent whose test container has cfg.
func newAgent(t interface{ Fatal(...any) }, cfg Config) *Agent {
	a, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddContainer(testContainer, cfg); err != nil {
		t.Fatal(err)
	}
	return a
}
