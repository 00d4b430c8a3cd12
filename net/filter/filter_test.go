package filter

import (
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/ring"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/faketime"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// packet builds a packet as the filter sees it at OUTPUT (src is the
// container) or INPUT (dst is): headers pushed, protocol numbers set.
// proto is 6, 17, 1 or 58; for ICMP, flags is the type and sport the echo
// identifier.
func packet(src, dst netip.Addr, proto uint8, sport, dport uint16, flags uint8, payload int) *stack.PacketBuffer {
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
		ReserveHeaderBytes: 128,
		Payload:            buffer.MakeWithData(make([]byte, payload)),
	})
	switch proto {
	case protoTCP:
		header.TCP(pkt.TransportHeader().Push(header.TCPMinimumSize)).Encode(&header.TCPFields{
			SrcPort: sport, DstPort: dport, DataOffset: header.TCPMinimumSize, Flags: header.TCPFlags(flags), WindowSize: 1024,
		})
	case protoUDP:
		header.UDP(pkt.TransportHeader().Push(header.UDPMinimumSize)).Encode(&header.UDPFields{
			SrcPort: sport, DstPort: dport, Length: uint16(header.UDPMinimumSize + payload),
		})
	case protoICMP, protoICMPv6:
		h := pkt.TransportHeader().Push(8)
		h[0] = flags
		h[4], h[5] = byte(sport>>8), byte(sport)
	}
	pkt.TransportProtocolNumber = tcpip.TransportProtocolNumber(proto)
	if src.Is4() {
		ip := header.IPv4(pkt.NetworkHeader().Push(header.IPv4MinimumSize))
		ip.Encode(&header.IPv4Fields{
			TotalLength: uint16(pkt.Size()), TTL: 64, Protocol: proto,
			SrcAddr: tcpipAddr(src), DstAddr: tcpipAddr(dst),
		})
		pkt.NetworkProtocolNumber = header.IPv4ProtocolNumber
	} else {
		ip := header.IPv6(pkt.NetworkHeader().Push(header.IPv6MinimumSize))
		ip.Encode(&header.IPv6Fields{
			PayloadLength: uint16(pkt.Size() - header.IPv6MinimumSize), TransportProtocol: tcpip.TransportProtocolNumber(proto),
			HopLimit: 64, SrcAddr: tcpipAddr(src), DstAddr: tcpipAddr(dst),
		})
		pkt.NetworkProtocolNumber = header.IPv6ProtocolNumber
	}
	return pkt
}

const (
	syn    = uint8(header.TCPFlagSyn)
	synAck = uint8(header.TCPFlagSyn | header.TCPFlagAck)
	ack    = uint8(header.TCPFlagAck)
	finAck = uint8(header.TCPFlagFin | header.TCPFlagAck)
	rst    = uint8(header.TCPFlagRst)
)

func newFilter(tb testing.TB, opts Options) (*Filter, *ring.Ring[event.Event]) {
	tb.Helper()
	r, err := ring.New[event.Event](256)
	if err != nil {
		tb.Fatal(err)
	}
	return New(r, 3, opts), r
}

func match(f *Filter, hook stack.Hook, pkt *stack.PacketBuffer) bool {
	m, _ := f.Match(hook, pkt, "", "")
	pkt.DecRef()
	return m
}

func pop(r *ring.Ring[event.Event]) []event.Event {
	var out []event.Event
	var ev event.Event
	for r.Pop(&ev) {
		out = append(out, ev)
	}
	return out
}

func TestRules(t *testing.T) {
	k := func(remote string, proto uint8, port uint16) flowKey {
		w, v6 := addrWords(netip.MustParseAddr(remote))
		k := flowKey{remote: w, ports: uint64(port)<<16 | uint64(proto)<<8}
		if v6 {
			k.ports |= 1
		}
		return k
	}
	pfx := netip.MustParsePrefix
	for _, tc := range []struct {
		name string
		rule Rule
		key  flowKey
		want bool
	}{
		{"v4 prefix in", Rule{Prefix: pfx("10.1.0.0/16")}, k("10.1.2.3", 6, 80), true},
		{"v4 prefix out", Rule{Prefix: pfx("10.1.0.0/16")}, k("10.2.2.3", 6, 80), false},
		{"v4 rule, v6 flow", Rule{Prefix: pfx("0.0.0.0/0")}, k("::a01:203", 6, 80), false},
		{"v4-mapped prefix", Rule{Prefix: pfx("::ffff:10.0.0.0/104")}, k("10.9.9.9", 17, 53), true},
		{"v6 prefix", Rule{Prefix: pfx("2001:db8::/32")}, k("2001:db8::1", 6, 443), true},
		{"v6 /0 no v4", Rule{Prefix: pfx("::/0")}, k("1.2.3.4", 6, 443), false},
		{"any", Rule{Any: true}, k("2001:db8::1", 17, 1), true},
		{"port range in", Rule{Any: true, PortLo: 8000, PortHi: 8100}, k("1.2.3.4", 6, 8080), true},
		{"port range out", Rule{Any: true, PortLo: 8000, PortHi: 8100}, k("1.2.3.4", 6, 8200), false},
		{"ports, icmp", Rule{Any: true, PortLo: 1, PortHi: 10}, k("1.2.3.4", 1, 0), false},
		{"all ports, icmp", Rule{Any: true, PortHi: 65535}, k("1.2.3.4", 1, 0), true},
		{"proto tcp, udp flow", Rule{Any: true, Proto: 6}, k("1.2.3.4", 17, 53), false},
		{"proto icmp, icmpv6 flow", Rule{Any: true, Proto: 1}, k("2001:db8::1", 58, 0), true},
		{"host /32", Rule{Prefix: pfx("1.2.3.4/32")}, k("1.2.3.4", 6, 1), true},
		{"host /32 other", Rule{Prefix: pfx("1.2.3.4/32")}, k("1.2.3.5", 6, 1), false},
	} {
		c, err := compileRule(tc.rule)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := c.matches(&tc.key); got != tc.want {
			t.Errorf("%s: matches = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSetEgressFirstMatchAndErrors(t *testing.T) {
	f, _ := newFilter(t, Options{})
	if !f.Allows(netip.MustParseAddrPort("1.2.3.4:80"), 6) {
		t.Error("a new filter refuses")
	}
	err := f.SetEgress([]Rule{
		{Allow: false, Proto: 6, Prefix: netip.MustParsePrefix("10.0.0.9/32")},
		{Allow: true, Proto: 6, Prefix: netip.MustParsePrefix("10.0.0.0/8"), PortLo: 1, PortHi: 1023},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	for ap, want := range map[string]bool{
		"10.0.0.9:80": false, "10.0.0.8:80": true, "10.0.0.8:8080": false, "11.0.0.1:80": false,
		"127.0.0.1:80": true, "[::1]:80": true, "[::ffff:10.0.0.8]:22": true,
	} {
		if got := f.Allows(netip.MustParseAddrPort(ap), 6); got != want {
			t.Errorf("Allows(%s) = %v, want %v", ap, got, want)
		}
	}
	for _, bad := range []Rule{{}, {Any: true, Proto: 4}, {Any: true, PortLo: 9, PortHi: 8}} {
		if err := f.SetEgress([]Rule{{Any: true, Allow: true}, bad}, true); !errors.Is(err, ErrRule) {
			t.Errorf("SetEgress(%+v) = %v, want ErrRule", bad, err)
		}
	}
	if f.Allows(netip.MustParseAddrPort("10.0.0.9:80"), 6) {
		t.Error("a failed SetEgress changed the rules")
	}
}

// TestFlowLifecycle walks a TCP connection through the matcher packet by
// packet: events, counters, flags, the end and the update.
func TestFlowLifecycle(t *testing.T) {
	clock := faketime.NewManualClock()
	f, r := newFilter(t, Options{Update: 30 * time.Second, Clock: clock})
	local, remote := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("93.184.216.34")
	out := func(fl uint8, n int) bool {
		return match(f, stack.Output, packet(local, remote, protoTCP, 40000, 443, fl, n))
	}
	in := func(fl uint8, n int) bool {
		return match(f, stack.Input, packet(remote, local, protoTCP, 443, 40000, fl, n))
	}
	sweepAfter := func(d time.Duration) []event.Event {
		clock.Advance(d)
		f.Sweep(clock.Now())
		return pop(r)
	}
	if out(syn, 0) || in(synAck, 0) || out(ack, 100) || in(ack, 2000) || in(ack, 500) {
		t.Fatal("a packet of an allowed flow was refused")
	}
	evs := pop(r)
	if len(evs) != 1 || evs[0].Args[1] != event.FlowNew {
		t.Fatalf("events after the handshake: %+v", evs)
	}
	ev := evs[0]
	if ev.Container != 3 || ev.Sysno != 6 || ev.Net.Family != afInet || evAddr(&ev) != remote || ev.Net.Port != 443 ||
		ev.Args[0] != 40000 || ev.Flags != event.FlagNet || ev.Net.Protocol != sockStream || ev.Ops != event.TCPSynOut ||
		ev.Time != clock.Now().UnixNano() || ev.Ret != 0 {
		t.Errorf("FlowNew = %+v", ev)
	}

	if evs = sweepAfter(time.Second); len(evs) != 0 {
		t.Fatalf("after 1s: %+v", evs)
	}
	evs = sweepAfter(30 * time.Second)
	if len(evs) != 1 || evs[0].Args[1] != event.FlowUpdate || evs[0].Args[2] != 2 || evs[0].Args[3] != 100 ||
		evs[0].Args[4] != 3 || evs[0].Args[5] != 2500 || evs[0].Ret != int64(31*time.Second) {
		t.Fatalf("after 31s: %+v, want one FlowUpdate with 2/100 out, 3/2500 in, age 31s", evs)
	}
	// An open TCP connection lasts TCPIdle (30m) without packets.
	for i := 0; i < 58; i++ {
		for _, ev := range sweepAfter(30 * time.Second) {
			if ev.Args[1] != event.FlowUpdate {
				t.Fatalf("open flow, %v idle: %+v", time.Duration(i+2)*30*time.Second, ev)
			}
		}
	}
	if evs = sweepAfter(30 * time.Second); len(evs) != 1 || evs[0].Args[1] != event.FlowEnd {
		t.Fatalf("idle open flow: %+v, want FlowEnd", evs)
	}

	// A second connection, closed both ways, lasts ClosedIdle (10s).
	if out(syn, 0) || in(synAck, 0) || out(finAck, 0) || in(finAck, 0) || out(ack, 0) {
		t.Fatal("refused")
	}
	pop(r)
	sweepAfter(time.Second)
	if evs = sweepAfter(5 * time.Second); len(evs) != 0 {
		t.Fatalf("closed flow ended early: %+v", evs)
	}
	evs = sweepAfter(5 * time.Second)
	if len(evs) != 1 || evs[0].Args[1] != event.FlowEnd {
		t.Fatalf("closed flow: %+v, want FlowEnd", evs)
	}
	want := uint16(event.TCPSynOut | event.TCPSynAckIn | event.TCPFin)
	if evs[0].Ops != want || evs[0].Args[2] != 3 || evs[0].Args[4] != 2 {
		t.Errorf("FlowEnd = %+v, want flags %#x, 3 out, 2 in", evs[0], want)
	}
	if st := f.Stats(); st.Live != 0 || st.New != 2 || st.Packets != 10 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestDirectionsAndKinds(t *testing.T) {
	f, r := newFilter(t, Options{})
	if err := f.SetEgress(nil, false); err != nil { // deny all egress
		t.Fatal(err)
	}
	local, remote := netip.MustParseAddr("fd00::2"), netip.MustParseAddr("2001:db8::7")
	for _, tc := range []struct {
		name    string
		hook    stack.Hook
		pkt     *stack.PacketBuffer
		refuse  bool
		op      uint64 // 0: no event
		inbound bool
	}{
		{"outbound SYN", stack.Output, packet(local, remote, protoTCP, 5000, 80, syn, 0), true, event.FlowRefused, false},
		{"its retransmit", stack.Output, packet(local, remote, protoTCP, 5000, 80, syn, 0), true, 0, false},
		{"the reset for it", stack.Input, packet(remote, local, protoTCP, 80, 5000, rst|ack, 0), false, 0, false},
		{"inbound SYN", stack.Input, packet(remote, local, protoTCP, 6000, 22, syn, 0), false, event.FlowNew, true},
		{"our SYN-ACK", stack.Output, packet(local, remote, protoTCP, 22, 6000, synAck, 0), false, 0, true},
		{"mid-stream pickup", stack.Output, packet(local, remote, protoTCP, 7000, 443, ack, 10), false, event.FlowNew, false},
		{"inbound UDP", stack.Input, packet(remote, local, protoUDP, 9999, 53, 0, 30), false, event.FlowNew, true},
		{"UDP reply", stack.Output, packet(local, remote, protoUDP, 53, 9999, 0, 90), false, 0, true},
		{"outbound UDP", stack.Output, packet(local, remote, protoUDP, 9999, 53, 0, 30), true, event.FlowRefused, false},
		{"echo request", stack.Output, packet(local, remote, protoICMPv6, 77, 0, 128, 56), true, event.FlowRefused, false},
		{"inbound echo", stack.Input, packet(remote, local, protoICMPv6, 78, 0, 128, 56), false, event.FlowNew, true},
		{"echo reply", stack.Output, packet(local, remote, protoICMPv6, 78, 0, 129, 56), false, 0, true},
		{"ICMPv6 error", stack.Output, packet(local, remote, protoICMPv6, 0, 0, 1, 48), false, 0, false},
		{"neighbour solicitation", stack.Output, packet(local, remote, protoICMPv6, 0, 0, 135, 24), false, 0, false},
		{"loopback", stack.Output, packet(netip.IPv6Loopback(), netip.IPv6Loopback(), protoTCP, 1234, 80, syn, 0), false, event.FlowNew, false},
		{"to itself", stack.Output, packet(local, local, protoUDP, 1234, 80, 0, 1), false, event.FlowNew, false},
		{"forwarded", stack.Forward, packet(remote, remote, protoUDP, 1, 2, 0, 1), false, 0, false},
	} {
		m, _ := f.Match(tc.hook, tc.pkt, "", "")
		tc.pkt.DecRef()
		evs := pop(r)
		if m != tc.refuse {
			t.Errorf("%s: refused = %v, want %v", tc.name, m, tc.refuse)
		}
		switch {
		case tc.op == 0 && len(evs) != 0:
			t.Errorf("%s: events %+v, want none", tc.name, evs)
		case tc.op != 0 && (len(evs) != 1 || evs[0].Args[1] != tc.op):
			t.Errorf("%s: events %+v, want op %d", tc.name, evs, tc.op)
		case tc.op != 0 && (evs[0].Flags&event.FlagInbound != 0) != tc.inbound:
			t.Errorf("%s: inbound = %v, want %v", tc.name, !tc.inbound, tc.inbound)
		}
	}
	st := f.Stats()
	if st.Refused != 3 || st.Dropped != 4 || st.Packets != 17-1 { // the forwarded packet is not seen
		t.Errorf("Stats = %+v", st)
	}
}

// A refused flow opens on its next packet once a rule allows it; a block
// cuts an accepted flow and lifts.
func TestPolicyChangesReachKnownFlows(t *testing.T) {
	f, r := newFilter(t, Options{Idle: time.Hour})
	local, remote := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.9.0.1")
	udp := func() bool { return match(f, stack.Output, packet(local, remote, protoUDP, 1000, 53, 0, 10)) }
	if err := f.SetEgress(nil, false); err != nil {
		t.Fatal(err)
	}
	if !udp() {
		t.Fatal("deny all let UDP out")
	}
	if err := f.SetEgress([]Rule{{Allow: true, Proto: 17, Any: true, PortLo: 53, PortHi: 53}}, false); err != nil {
		t.Fatal(err)
	}
	if udp() {
		t.Fatal("the refused flow stayed refused under a rule that allows it")
	}
	until := time.Now().Add(time.Minute)
	f.Block(Block{IP: remote, Until: until})
	if !udp() {
		t.Fatal("the block did not cut the flow")
	}
	f.Block(Block{IP: remote, Until: until.Add(time.Minute)}) // same target: a new expiry
	if n := len(f.Blocks()); n != 1 {
		t.Fatalf("%d blocks, want 1", n)
	}
	f.Sweep(until)
	if !udp() {
		t.Fatal("block lifted before its new Until")
	}
	if !f.Unblock(Block{IP: remote}) || f.Unblock(Block{IP: remote}) {
		t.Fatal("Unblock")
	}
	if udp() {
		t.Fatal("unblocked flow still refused")
	}
	var ops []uint64
	for _, ev := range pop(r) {
		ops = append(ops, ev.Args[1])
	}
	want := []uint64{event.FlowRefused, event.FlowNew, event.FlowBlocked, event.FlowNew}
	if len(ops) != len(want) {
		t.Fatalf("ops %v, want %v", ops, want)
	}
	for i := range ops {
		if ops[i] != want[i] {
			t.Fatalf("ops %v, want %v", ops, want)
		}
	}
}

// A full table refuses nothing it would accept and accepts nothing it
// would refuse; the flows it cannot hold go unaccounted.
func TestFullTable(t *testing.T) {
	f, r := newFilter(t, Options{Slots: 64})
	if err := f.SetEgress([]Rule{{Allow: true, Prefix: netip.MustParsePrefix("10.1.0.0/16")}}, false); err != nil {
		t.Fatal(err)
	}
	local := netip.MustParseAddr("10.0.0.2")
	allowed := netip.MustParseAddr("10.1.0.1")
	for p := uint16(1); p <= 500; p++ {
		if match(f, stack.Output, packet(local, allowed, protoTCP, 20000+p, 80, syn, 0)) {
			t.Fatalf("allowed flow %d refused", p)
		}
		// Replies of inbound flows that found no room go out too.
		match(f, stack.Input, packet(netip.MustParseAddr("10.2.0.1"), local, protoTCP, 30000+p, 22, syn, 0))
		if match(f, stack.Output, packet(local, netip.MustParseAddr("10.2.0.1"), protoTCP, 22, 30000+p, synAck, 0)) {
			t.Fatalf("reply %d of an inbound flow refused", p)
		}
	}
	st := f.Stats()
	if st.Live != 64 || st.Misses == 0 {
		t.Fatalf("Stats = %+v, want 64 live and misses", st)
	}
	pop(r)
	for p := uint16(1); p <= 50; p++ {
		if !match(f, stack.Output, packet(local, netip.MustParseAddr("10.3.0.1"), protoTCP, 40000+p, 80, syn, 0)) {
			t.Fatalf("a denied flow got out of a full table")
		}
	}
	if st2 := f.Stats(); st2.Refused != 50 {
		t.Errorf("Refused = %d, want 50", st2.Refused)
	}
	if n := len(pop(r)); n != 50 {
		t.Errorf("%d FlowRefused events, want 50", n)
	}
}

func TestRingFullDropsAndCounts(t *testing.T) {
	r, _ := ring.New[event.Event](4)
	f := New(r, 0, Options{})
	local, remote := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.1.0.1")
	for p := uint16(1); p <= 10; p++ {
		if match(f, stack.Output, packet(local, remote, protoUDP, p, 53, 0, 1)) {
			t.Fatal("refused")
		}
	}
	if st := f.Stats(); st.RingDrops != 6 || st.New != 10 {
		t.Errorf("Stats = %+v, want 6 ring drops of 10", st)
	}
}

func TestMatchDoesNotAllocate(t *testing.T) {
	f, r := newFilter(t, Options{})
	local, remote := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.1.0.1")
	known := packet(local, remote, protoTCP, 5555, 443, ack, 1400)
	defer known.DecRef()
	f.Match(stack.Output, known, "", "")
	if a := testing.AllocsPerRun(1000, func() { f.Match(stack.Output, known, "", "") }); a != 0 {
		t.Errorf("known flow: %v allocs per packet", a)
	}
	in := packet(remote, local, protoTCP, 443, 5555, ack, 1400)
	defer in.DecRef()
	if a := testing.AllocsPerRun(1000, func() { f.Match(stack.Input, in, "", "") }); a != 0 {
		t.Errorf("known flow, inbound: %v allocs per packet", a)
	}
	// New flows: a fresh source port each run, an event each.
	var ev event.Event
	fresh := packet(local, remote, protoTCP, 1, 443, syn, 0)
	defer fresh.DecRef()
	port := uint16(10000)
	if a := testing.AllocsPerRun(200, func() {
		port++
		header.TCP(fresh.TransportHeader().Slice()).SetSourcePort(port)
		f.Match(stack.Output, fresh, "", "")
		r.Pop(&ev)
	}); a != 0 {
		t.Errorf("new flow: %v allocs per packet", a)
	}
	if err := f.SetEgress(nil, false); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(200, func() {
		port++
		header.TCP(fresh.TransportHeader().Slice()).SetSourcePort(port)
		f.Match(stack.Output, fresh, "", "")
		r.Pop(&ev)
	}); a != 0 {
		t.Errorf("refused flow: %v allocs per packet", a)
	}
}

// TestConcurrent runs packets of shared and own flows from several
// goroutines against a sweeping one; the totals must add up (run it with
// -race too).
func TestConcurrent(t *testing.T) {
	f := New(nil, 0, Options{Slots: 256})
	local, remote := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.1.0.1")
	const workers, perWorker = 4, 5000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() {
		// A fixed time: the sweeper reads every slot while packets bump
		// them, but ends no flow (the packets of an ending flow may be
		// lost, see slot.release).
		now := time.Now()
		for {
			select {
			case <-stop:
				return
			default:
				f.Sweep(now)
			}
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shared := packet(local, remote, protoUDP, 1, 53, 0, 10)
			own := packet(local, remote, protoUDP, uint16(100+w), 53, 0, 10)
			defer shared.DecRef()
			defer own.DecRef()
			for i := 0; i < perWorker; i++ {
				f.Match(stack.Output, shared, "", "")
				f.Match(stack.Output, own, "", "")
			}
		}()
	}
	wg.Wait()
	close(stop)
	st := f.Stats()
	if st.Packets != 2*workers*perWorker || st.Dropped != 0 {
		t.Errorf("Stats = %+v, want %d packets", st, 2*workers*perWorker)
	}
	if st.Live > 1+workers {
		t.Errorf("%d live flows, want at most %d", st.Live, 1+workers)
	}
}

// Packets whose transport header gVisor left in the payload (an IPv4 first
// fragment coming in) are parsed from there; later fragments make no flow.
func TestUnparsedTransportAndFragments(t *testing.T) {
	f, r := newFilter(t, Options{})
	local, remote := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.1.0.1")

	// A UDP datagram with its header still in the payload.
	body := make([]byte, header.UDPMinimumSize+100)
	header.UDP(body).Encode(&header.UDPFields{SrcPort: 53, DstPort: 3333, Length: uint16(len(body))})
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{ReserveHeaderBytes: 64, Payload: buffer.MakeWithData(body)})
	ip := header.IPv4(pkt.NetworkHeader().Push(header.IPv4MinimumSize))
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(pkt.Size()), TTL: 64, Protocol: protoUDP, Flags: header.IPv4FlagMoreFragments,
		SrcAddr: tcpipAddr(remote), DstAddr: tcpipAddr(local)})
	pkt.NetworkProtocolNumber = header.IPv4ProtocolNumber
	if match(f, stack.Input, pkt) {
		t.Fatal("refused")
	}
	evs := pop(r)
	if len(evs) != 1 || evs[0].Args[0] != 3333 || evs[0].Net.Port != 53 || evs[0].Flags&event.FlagInbound == 0 {
		t.Fatalf("events %+v, want an inbound FlowNew 3333 <- 53", evs)
	}

	// The next fragment: no transport header, no flow.
	pkt = stack.NewPacketBuffer(stack.PacketBufferOptions{ReserveHeaderBytes: 64, Payload: buffer.MakeWithData(make([]byte, 64))})
	ip = header.IPv4(pkt.NetworkHeader().Push(header.IPv4MinimumSize))
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(pkt.Size()), TTL: 64, Protocol: protoUDP, FragmentOffset: 108,
		SrcAddr: tcpipAddr(remote), DstAddr: tcpipAddr(local)})
	pkt.NetworkProtocolNumber = header.IPv4ProtocolNumber
	if match(f, stack.Input, pkt) || len(pop(r)) != 0 {
		t.Fatal("a later fragment was judged")
	}
	if st := f.Stats(); st.Packets != 2 || st.New != 1 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestSlotSize(t *testing.T) {
	if n := unsafe.Sizeof(slot{}); n != 136 {
		t.Errorf("a slot takes %d bytes; Options.Slots says 136", n)
	}
}
