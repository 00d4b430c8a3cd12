package filter

import (
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/event"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// BenchmarkMatch is the per-packet cost of a packet of a known flow (a
// 1400-byte TCP segment the container sends).
func BenchmarkMatch(b *testing.B) {
	f := New(nil, 0, Options{})
	pkt := packet(netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.1.0.1"), protoTCP, 5555, 443, ack, 1400)
	defer pkt.DecRef()
	f.Match(stack.Output, pkt, "", "")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f.Match(stack.Output, pkt, "", "")
	}
}

// BenchmarkMatchParallel is BenchmarkMatch from every P, a flow each.
func BenchmarkMatchParallel(b *testing.B) {
	f := New(nil, 0, Options{})
	var port atomic.Uint32
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		pkt := packet(netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.1.0.1"), protoTCP, uint16(5000+port.Add(1)), 443, ack, 1400)
		defer pkt.DecRef()
		for pb.Next() {
			f.Match(stack.Output, pkt, "", "")
		}
	})
}

// BenchmarkMatchNewFlow is the cost of a flow's first packet (table
// insert, clock, event into a ring that is drained as it goes).
func BenchmarkMatchNewFlow(b *testing.B) {
	f, r := newFilter(b, Options{Slots: 1 << 20})
	pkt := packet(netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.1.0.1"), protoTCP, 1, 443, syn, 0)
	defer pkt.DecRef()
	tcpH := header.TCP(pkt.TransportHeader().Slice())
	var ev event.Event
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tcpH.SetSourcePort(uint16(i))
		tcpH.SetDestinationPort(uint16(i >> 16))
		f.Match(stack.Output, pkt, "", "")
		r.Pop(&ev)
	}
}

// noop is a matcher that matches nothing: with it, the filter's table
// layout costs gVisor's rule traversal and one interface call per packet.
type noop struct{}

func (noop) Match(stack.Hook, *stack.PacketBuffer, string, string) (bool, bool) { return false, false }

// BenchmarkTCPThroughput sends a bulk TCP stream from the container's
// stack to the remote (1500-byte MTU, both stacks in this process) and
// reports MB/s:
//
//   - plain: no tables (gVisor skips iptables and connection tracking);
//   - conntrack: accept-only tables forced in: iptables on, so gVisor
//     tracks connections for every packet, and the rules cost a traversal;
//   - noop: the filter's table layout with a matcher that matches nothing;
//   - filter: the filter's tables.
func BenchmarkTCPThroughput(b *testing.B) {
	for _, mode := range []string{"plain", "conntrack", "noop", "filter"} {
		b.Run(mode, func(b *testing.B) {
			n := newTestNet(b, Options{}, false, false)
			switch mode {
			case "conntrack":
				accept := n.f.table(stack.EmptyFilter4(), header.IPv4ProtocolNumber, &stack.AcceptTarget{NetworkProtocol: header.IPv4ProtocolNumber})
				for _, i := range []int{0, 3} {
					accept.Rules[i].Matchers = nil
				}
				n.ctr.IPTables().ForceReplaceTable(stack.FilterID, accept, false)
			case "noop":
				t := n.f.table(stack.EmptyFilter4(), header.IPv4ProtocolNumber, &refuse{})
				for _, i := range []int{0, 3} {
					t.Rules[i].Matchers = []stack.Matcher{noop{}}
				}
				n.ctr.IPTables().ReplaceTable(stack.FilterID, t, false)
			case "filter":
				n.install()
			}
			got := make(chan int, 1)
			serve(b, n.remote, peer4, 8080, 0, got)
			c, _, err := dial(n.ctr, peer4, 8080, 5*time.Second)
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 1<<20)
			b.SetBytes(int64(len(buf)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			c.Close()
			select {
			case nr := <-got:
				if nr != b.N*len(buf) {
					b.Fatalf("server got %d bytes, want %d", nr, b.N*len(buf))
				}
			case <-time.After(10 * time.Second):
				b.Fatal("server did not finish")
			}
			b.StopTimer()
			if mode == "filter" {
				if st := n.f.Stats(); st.New != 1 || st.Packets == 0 {
					b.Errorf("Stats = %+v", st)
				}
			}
		})
	}
}
