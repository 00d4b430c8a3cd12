package filter

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/ring"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/link/pipe"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// The test network: the container's stack (NIC 1 on a pipe to the remote
// stack, NIC 2 loopback) and a remote stack with a peer address the rules
// allow and one they deny.
var (
	ctr4    = netip.MustParseAddr("10.0.0.2")
	peer4   = netip.MustParseAddr("10.0.0.1")
	denied4 = netip.MustParseAddr("10.0.0.3")
	ctr6    = netip.MustParseAddr("fd00::2")
	peer6   = netip.MustParseAddr("fd00::1")
	denied6 = netip.MustParseAddr("fd00::3")
	lo4     = netip.MustParseAddr("127.0.0.1")
)

type testNet struct {
	ctr, remote *stack.Stack
	f           *Filter
	events      *ring.Ring[event.Event]
}

func newTestStack() *stack.Stack {
	return stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol, ipv6.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		// runsc's sandbox stack loops packets to its own addresses back
		// (HandleLocal), which the rejections rely on.
		HandleLocal: true,
	})
}

func addAddr(tb testing.TB, s *stack.Stack, nic tcpip.NICID, pfx string) tcpip.Subnet {
	tb.Helper()
	p := netip.MustParsePrefix(pfx)
	proto := ipv4.ProtocolNumber
	if p.Addr().Is6() {
		proto = ipv6.ProtocolNumber
	}
	awp := tcpip.AddressWithPrefix{Address: tcpipAddr(p.Addr()), PrefixLen: p.Bits()}
	if err := s.AddProtocolAddress(nic, tcpip.ProtocolAddress{Protocol: proto, AddressWithPrefix: awp}, stack.AddressProperties{}); err != nil {
		tb.Fatalf("AddProtocolAddress(%s): %s", pfx, err)
	}
	return awp.Subnet()
}

func tcpipAddr(a netip.Addr) tcpip.Address {
	if a.Is4() {
		return tcpip.AddrFrom4(a.As4())
	}
	return tcpip.AddrFrom16(a.As16())
}

func full(a netip.Addr, port uint16) tcpip.FullAddress {
	return tcpip.FullAddress{Addr: tcpipAddr(a), Port: port}
}

func netProto(a netip.Addr) tcpip.NetworkProtocolNumber {
	if a.Is4() {
		return ipv4.ProtocolNumber
	}
	return ipv6.ProtocolNumber
}

// newTestNet builds the network; with install, the filter's tables are in
// the container's stack. opts.Stack is set to the container's stack unless
// drop.
func newTestNet(tb testing.TB, opts Options, install, drop bool) *testNet {
	tb.Helper()
	a, b := pipe.New("\x02\x00\x00\x00\x00\x02", "\x02\x00\x00\x00\x00\x01", 1500)
	n := &testNet{ctr: newTestStack(), remote: newTestStack()}
	tb.Cleanup(func() {
		n.ctr.Close()
		n.remote.Close()
		n.ctr.Wait()
		n.remote.Wait()
	})
	if err := n.ctr.CreateNIC(1, a); err != nil {
		tb.Fatal(err)
	}
	if err := n.ctr.CreateNIC(2, loopback.New()); err != nil {
		tb.Fatal(err)
	}
	if err := n.remote.CreateNIC(1, b); err != nil {
		tb.Fatal(err)
	}
	sub4 := addAddr(tb, n.ctr, 1, "10.0.0.2/24")
	sub6 := addAddr(tb, n.ctr, 1, "fd00::2/64")
	lo4 := addAddr(tb, n.ctr, 2, "127.0.0.1/8")
	lo6 := addAddr(tb, n.ctr, 2, "::1/128")
	n.ctr.SetRouteTable([]tcpip.Route{{Destination: lo4, NIC: 2}, {Destination: lo6, NIC: 2}, {Destination: sub4, NIC: 1}, {Destination: sub6, NIC: 1}})
	for _, p := range []string{"10.0.0.1/24", "10.0.0.3/24", "fd00::1/64", "fd00::3/64"} {
		addAddr(tb, n.remote, 1, p)
	}
	n.remote.SetRouteTable([]tcpip.Route{{Destination: sub4, NIC: 1}, {Destination: sub6, NIC: 1}})

	var err error
	if n.events, err = ring.New[event.Event](1024); err != nil {
		tb.Fatal(err)
	}
	if !drop {
		opts.Stack = n.ctr
	}
	n.f = New(n.events, 7, opts)
	if install {
		n.install()
	}
	return n
}

func (n *testNet) install() {
	v4, v6 := n.f.Tables()
	n.ctr.IPTables().ReplaceTable(stack.FilterID, v4, false)
	n.ctr.IPTables().ReplaceTable(stack.FilterID, v6, true)
}

// drain returns the events pushed so far.
func (n *testNet) drain() []event.Event {
	var out []event.Event
	var ev event.Event
	for n.events.Pop(&ev) {
		out = append(out, ev)
	}
	return out
}

// serve runs a TCP server on s at addr:port: each connection's bytes are
// read to EOF, counted into got, and reply bytes are written back after
// the first read; then the server closes the connection.
func serve(tb testing.TB, s *stack.Stack, addr netip.Addr, port uint16, reply int, got chan<- int) {
	tb.Helper()
	l, err := gonet.ListenTCP(s, full(addr, port), netProto(addr))
	if err != nil {
		tb.Fatalf("listen %s:%d: %v", addr, port, err)
	}
	tb.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if reply > 0 {
					if _, err := c.Write(make([]byte, reply)); err != nil {
						return
					}
				}
				nr, _ := io.Copy(io.Discard, c)
				if got != nil {
					got <- int(nr)
				}
			}()
		}
	}()
}

func dial(s *stack.Stack, addr netip.Addr, port uint16, timeout time.Duration) (*gonet.TCPConn, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	c, err := gonet.DialContextTCP(ctx, s, full(addr, port), netProto(addr))
	return c, time.Since(start), err
}

// exchange dials addr:port from s, sends send bytes, reads reply bytes,
// and closes; it returns what the server counted.
func exchange(tb testing.TB, s *stack.Stack, addr netip.Addr, port uint16, send, reply int, got <-chan int) {
	tb.Helper()
	c, _, err := dial(s, addr, port, 5*time.Second)
	if err != nil {
		tb.Fatalf("dial %s:%d: %v", addr, port, err)
	}
	if _, err := c.Write(make([]byte, send)); err != nil {
		tb.Fatalf("write: %v", err)
	}
	if _, err := io.ReadFull(c, make([]byte, reply)); err != nil {
		tb.Fatalf("read reply: %v", err)
	}
	c.Close()
	if got != nil {
		select {
		case n := <-got:
			if n != send {
				tb.Fatalf("server got %d bytes, want %d", n, send)
			}
		case <-time.After(5 * time.Second):
			tb.Fatal("server did not see EOF")
		}
	}
}

// sweepUntil sweeps with a clock running from now in steps until an event
// with op for remote port shows up, and returns it.
func (n *testNet) sweepUntil(tb testing.TB, op uint64, port uint16) event.Event {
	tb.Helper()
	now := time.Now()
	var seen []event.Event
	for i := 0; i < 40; i++ {
		n.f.Sweep(now)
		for _, ev := range n.drain() {
			if ev.Args[1] == op && ev.Net.Port == port {
				return ev
			}
			seen = append(seen, ev)
		}
		now = now.Add(5 * time.Second)
		time.Sleep(time.Millisecond)
	}
	tb.Fatalf("no event op %d for port %d; saw %s", op, port, describe(seen))
	return event.Event{}
}

func describe(evs []event.Event) string {
	var b strings.Builder
	for _, ev := range evs {
		b.WriteString(" [op=" + strconv.FormatUint(ev.Args[1], 10) + " port=" + strconv.Itoa(int(ev.Net.Port)) + "]")
	}
	return b.String()
}

func findEvent(evs []event.Event, op uint64, remote netip.Addr, port uint16) (event.Event, bool) {
	for _, ev := range evs {
		if ev.Args[1] == op && ev.Net.Port == port && evAddr(&ev) == remote {
			return ev, true
		}
	}
	return event.Event{}, false
}

func evAddr(ev *event.Event) netip.Addr {
	if ev.Net.Family == afInet {
		return netip.AddrFrom4([4]byte(ev.Net.IP[:4]))
	}
	return netip.AddrFrom16(ev.Net.IP)
}

// allowPeerOnly is the egress policy of most tests: TCP to the peers on
// port 8080, default deny.
func allowPeerOnly(tb testing.TB, f *Filter) {
	tb.Helper()
	err := f.SetEgress([]Rule{
		{Allow: true, Proto: 6, Prefix: netip.PrefixFrom(peer4, 32), PortLo: 8080, PortHi: 8080},
		{Allow: true, Proto: 6, Prefix: netip.PrefixFrom(peer6, 128), PortLo: 8080, PortHi: 8080},
	}, false)
	if err != nil {
		tb.Fatal(err)
	}
}

func TestAllowedFlowIsAccounted(t *testing.T) {
	for _, peer := range []netip.Addr{peer4, peer6} {
		t.Run(peer.String(), func(t *testing.T) {
			n := newTestNet(t, Options{}, true, false)
			allowPeerOnly(t, n.f)
			got := make(chan int, 1)
			serve(t, n.remote, peer, 8080, 5000, got)
			const send = 100000
			exchange(t, n.ctr, peer, 8080, send, 5000, got)

			evs := n.drain()
			nev, ok := findEvent(evs, event.FlowNew, peer, 8080)
			if !ok {
				t.Fatalf("no FlowNew for %s:8080 in%s", peer, describe(evs))
			}
			if nev.Kind != event.KindPacket || nev.Container != 7 || nev.Sysno != 6 || nev.Flags&event.FlagInbound != 0 ||
				nev.Net.Protocol != sockStream || nev.Args[0] == 0 || nev.Time == 0 || nev.Flags&event.FlagNet == 0 {
				t.Errorf("FlowNew = %+v", nev)
			}
			end := n.sweepUntil(t, event.FlowEnd, 8080)
			if end.Args[3] != send || end.Args[5] != 5000 {
				t.Errorf("FlowEnd bytes out %d in %d, want %d and 5000", end.Args[3], end.Args[5], send)
			}
			if end.Args[2] == 0 || end.Args[4] == 0 || end.Ret <= 0 {
				t.Errorf("FlowEnd packets out %d in %d, age %d", end.Args[2], end.Args[4], end.Ret)
			}
			if want := uint16(event.TCPSynOut | event.TCPSynAckIn | event.TCPFin); end.Ops&want != want {
				t.Errorf("FlowEnd TCP flags %#x, want %#x set", end.Ops, want)
			}
			st := n.f.Stats()
			if st.New == 0 || st.Live != 0 || st.Packets < end.Args[2]+end.Args[4] || st.Refused != 0 {
				t.Errorf("Stats = %+v", st)
			}
		})
	}
}

func TestDeniedConnectFailsFast(t *testing.T) {
	for _, denied := range []netip.Addr{denied4, denied6} {
		t.Run(denied.String(), func(t *testing.T) {
			n := newTestNet(t, Options{}, true, false)
			allowPeerOnly(t, n.f)
			serve(t, n.remote, denied, 8080, 0, nil) // reachable, were it allowed
			_, took, err := dial(n.ctr, denied, 8080, 5*time.Second)
			if err == nil || !strings.Contains(err.Error(), (&tcpip.ErrConnectionRefused{}).String()) {
				t.Fatalf("dial denied %s: err %v, want connection refused", denied, err)
			}
			t.Logf("dial %s refused after %v: %v", denied, took, err)
			if took > time.Second {
				t.Errorf("refusal took %v", took)
			}
			// An allowed host on another port is refused too.
			if _, _, err := dial(n.ctr, peer4, 8081, 5*time.Second); err == nil {
				t.Error("dial peer:8081 succeeded")
			}
			evs := n.drain()
			ev, ok := findEvent(evs, event.FlowRefused, denied, 8080)
			if !ok {
				t.Fatalf("no FlowRefused in%s", describe(evs))
			}
			if ev.Ops&event.TCPSynOut == 0 || ev.Args[2] != 0 || ev.Flags&event.FlagInbound != 0 {
				t.Errorf("FlowRefused = %+v", ev)
			}
			if st := n.f.Stats(); st.Refused != 2 || st.New != 0 {
				t.Errorf("Stats = %+v", st)
			}
			if !n.f.Allows(netip.AddrPortFrom(peer4, 8080), 6) || n.f.Allows(netip.AddrPortFrom(denied, 8080), 6) ||
				n.f.Allows(netip.AddrPortFrom(peer4, 8080), 17) || !n.f.Allows(netip.AddrPortFrom(lo4, 1), 6) {
				t.Error("Allows disagrees with the rules")
			}
		})
	}
}

// Without Options.Stack a refusal is a silent drop: the connect retries
// its SYN until it gives up (here: until the test's deadline).
func TestDeniedConnectWithoutRejectHangs(t *testing.T) {
	n := newTestNet(t, Options{}, true, true)
	allowPeerOnly(t, n.f)
	_, took, err := dial(n.ctr, denied4, 8080, 300*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("dial: %v after %v, want the deadline", err, took)
	}
	if st := n.f.Stats(); st.Refused != 1 || st.Dropped < 1 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestDeniedUDPGetsRefused(t *testing.T) {
	n := newTestNet(t, Options{}, true, false)
	allowPeerOnly(t, n.f)
	c, err := gonet.DialUDP(n.ctr, nil, &tcpip.FullAddress{Addr: tcpipAddr(denied4), Port: 53}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("query")); err != nil {
		t.Fatalf("first write: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = c.Read(make([]byte, 10))
	if err == nil || !strings.Contains(err.Error(), (&tcpip.ErrConnectionRefused{}).String()) {
		t.Fatalf("read after a refused datagram: %v, want connection refused", err)
	}
	if _, ok := findEvent(n.drain(), event.FlowRefused, denied4, 53); !ok {
		t.Error("no FlowRefused")
	}
}

func TestInboundPassesUnderDenyAll(t *testing.T) {
	n := newTestNet(t, Options{}, true, false)
	if err := n.f.SetEgress(nil, false); err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	serve(t, n.ctr, ctr4, 80, 3000, got) // a server in the container, a client outside
	exchange(t, n.remote, ctr4, 80, 20000, 3000, got)
	evs := n.drain()
	var nev event.Event
	for _, ev := range evs {
		if ev.Args[1] == event.FlowNew && ev.Args[0] == 80 {
			nev = ev
		}
	}
	if a := evAddr(&nev); nev.Flags&event.FlagInbound == 0 || (a != peer4 && a != denied4) || nev.Ops&event.TCPSynIn == 0 {
		t.Fatalf("inbound FlowNew = %+v (events%s)", nev, describe(evs))
	}
	end := n.sweepUntil(t, event.FlowEnd, nev.Net.Port)
	if end.Args[5] != 20000 || end.Args[3] != 3000 || end.Flags&event.FlagInbound == 0 {
		t.Errorf("FlowEnd in %d out %d flags %#x, want 20000, 3000, inbound", end.Args[5], end.Args[3], end.Flags)
	}
	if st := n.f.Stats(); st.Refused != 0 || st.Dropped != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestLoopbackUnaffected(t *testing.T) {
	n := newTestNet(t, Options{}, true, false)
	if err := n.f.SetEgress(nil, false); err != nil {
		t.Fatal(err)
	}
	n.f.Block(Block{}) // every host, every port: still not loopback
	for _, a := range []netip.Addr{lo4, netip.IPv6Loopback(), ctr4} {
		got := make(chan int, 1)
		serve(t, n.ctr, a, 9000, 100, got)
		exchange(t, n.ctr, a, 9000, 7000, 100, got)
	}
	evs := n.drain()
	var out, in int
	for _, ev := range evs {
		if ev.Args[1] != event.FlowNew {
			t.Errorf("event op %d on loopback", ev.Args[1])
		}
		if ev.Flags&event.FlagInbound != 0 {
			in++
		} else {
			out++
		}
	}
	// Each connection is two flows: the client's (outbound) and the
	// server's (inbound), both in the container.
	if out != 3 || in != 3 {
		t.Errorf("loopback FlowNew: %d outbound, %d inbound, want 3 and 3%s", out, in, describe(evs))
	}
	if st := n.f.Stats(); st.Refused != 0 || st.Blocked != 0 || st.Dropped != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestBlockAndExpiry(t *testing.T) {
	n := newTestNet(t, Options{}, true, false)
	got := make(chan int, 4)
	serve(t, n.remote, peer4, 8080, 10, got)

	// A connection opened before the block...
	long, _, err := dial(n.ctr, peer4, 8080, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer long.Close()
	if _, err := io.ReadFull(long, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}

	until := time.Now().Add(time.Minute)
	n.f.Block(Block{Family: afInet, Port: 8080, IP: peer4, Until: until})
	_, took, err := dial(n.ctr, peer4, 8080, 5*time.Second)
	if err == nil {
		t.Fatal("dial a blocked host succeeded")
	}
	t.Logf("blocked dial failed after %v: %v", took, err)
	if took > time.Second {
		t.Errorf("blocked dial took %v", took)
	}
	// ...is cut on its next packet: the socket gets a reset.
	long.SetDeadline(time.Now().Add(5 * time.Second))
	_, werr := long.Write([]byte("more"))
	_, rerr := long.Read(make([]byte, 1))
	if werr == nil && rerr == nil {
		t.Error("the connection to a newly blocked host still works")
	}
	t.Logf("existing connection after the block: write %v, read %v", werr, rerr)
	evs := n.drain()
	var blocked int
	for _, ev := range evs {
		if ev.Args[1] == event.FlowBlocked {
			blocked++
		}
	}
	if blocked != 2 {
		t.Errorf("%d FlowBlocked events, want 2 (new and cut):%s", blocked, describe(evs))
	}
	if len(n.f.Blocks()) != 1 {
		t.Errorf("Blocks = %v", n.f.Blocks())
	}

	// Sweep lifts the block at Until.
	n.f.Sweep(until.Add(-time.Second))
	if len(n.f.Blocks()) != 1 {
		t.Fatal("block lifted early")
	}
	n.f.Sweep(until)
	if len(n.f.Blocks()) != 0 {
		t.Fatal("block not lifted at Until")
	}
	exchange(t, n.ctr, peer4, 8080, 10, 10, nil)
	if st := n.f.Stats(); st.Blocked != 2 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestFullTableKeepsTrafficFlowing(t *testing.T) {
	n := newTestNet(t, Options{Slots: 64}, true, false)
	allowPeerOnly(t, n.f)
	serve(t, n.remote, peer4, 8080, 1, nil)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 150; i++ { // more flows than slots: many windows fill
		c, _, err := dial(n.ctr, peer4, 8080, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			t.Fatalf("read %d: %v", i, err)
		}
		conns = append(conns, c)
	}
	st := n.f.Stats()
	if st.Misses == 0 || st.Live > 64 {
		t.Fatalf("Stats = %+v, want misses and at most 64 live", st)
	}
	// The rules still hold for flows that find no room.
	if _, _, err := dial(n.ctr, denied4, 8080, 5*time.Second); err == nil {
		t.Fatal("denied dial succeeded with a full table")
	}
	t.Logf("150 connections, 64 slots: %+v", n.f.Stats())
}
