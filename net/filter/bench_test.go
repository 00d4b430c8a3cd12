package filter

import (
	"io"
	"net/netip"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/event"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
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

// BenchmarkTCPThroughput sends bulk TCP streams from the container's
// stack to the remote (1500-byte MTU, both stacks in this process) in four
// setups, a MiB each in turn per iteration (interleaved, so that a busy
// machine slows them alike; each MiB is timed until the remote has read
// it all), and reports each one's MB/s and CPU time per MiB, and the
// throughput ratios:
//
//   - plain: no tables (gVisor skips iptables and connection tracking);
//   - conntrack: accept-only tables forced in: iptables on, so gVisor
//     tracks connections for every packet, and the rules cost a traversal;
//   - noop: the filter's table layout with a matcher that matches nothing
//     (iptables, conntrack and one interface call per packet);
//   - filter: the filter's tables.
func BenchmarkTCPThroughput(b *testing.B) {
	modes := []string{"plain", "conntrack", "noop", "filter"}
	conns := make([]*gonet.TCPConn, len(modes))
	dones := make([]chan struct{}, len(modes))
	buf := make([]byte, 1<<20)
	var filter *Filter
	for i, mode := range modes {
		n := newTestNet(b, Options{}, false, false)
		switch mode {
		case "conntrack":
			accept := n.f.table(stack.EmptyFilter4(), header.IPv4ProtocolNumber, &stack.AcceptTarget{NetworkProtocol: header.IPv4ProtocolNumber})
			accept.Rules[0].Matchers, accept.Rules[3].Matchers = nil, nil
			n.ctr.IPTables().ForceReplaceTable(stack.FilterID, accept, false)
		case "noop":
			t := n.f.table(stack.EmptyFilter4(), header.IPv4ProtocolNumber, &refuse{})
			t.Rules[0].Matchers, t.Rules[3].Matchers = []stack.Matcher{noop{}}, []stack.Matcher{noop{}}
			n.ctr.IPTables().ReplaceTable(stack.FilterID, t, false)
		case "filter":
			n.install()
			filter = n.f
		}
		l, err := gonet.ListenTCP(n.remote, full(peer4, 8080), ipv4.ProtocolNumber)
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			s, err := l.Accept()
			if err != nil {
				return
			}
			defer s.Close()
			in := make([]byte, len(buf))
			for {
				if _, err := io.ReadFull(s, in); err != nil {
					return
				}
				done <- struct{}{}
			}
		}()
		c, _, err := dial(n.ctr, peer4, 8080, 5*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close(); l.Close() })
		conns[i], dones[i] = c, done
	}
	wall := make([]time.Duration, len(modes))
	cpu := make([]int64, len(modes))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for m, c := range conns {
			t0, c0 := time.Now(), cpuTime()
			if _, err := c.Write(buf); err != nil {
				b.Fatal(err)
			}
			<-dones[m]
			wall[m] += time.Since(t0)
			cpu[m] += cpuTime() - c0
		}
	}
	b.StopTimer()
	mbps := make([]float64, len(modes))
	for m, mode := range modes {
		mbps[m] = float64(b.N) * float64(len(buf)) / wall[m].Seconds() / 1e6
		b.ReportMetric(mbps[m], mode+"-MB/s")
		b.ReportMetric(float64(cpu[m])/float64(b.N)/1e3, mode+"-cpu-us/MiB")
	}
	b.ReportMetric(mbps[3]/mbps[0], "filter/plain")
	b.ReportMetric(mbps[1]/mbps[0], "conntrack/plain")
	b.ReportMetric(mbps[3]/mbps[1], "filter/conntrack")
	b.ReportMetric(mbps[3]/mbps[2], "filter/noop")
	if st := filter.Stats(); st.New != 1 {
		b.Errorf("Stats = %+v", st)
	} else {
		b.ReportMetric(float64(st.Packets)/float64(b.N), "filter-pkts/MiB")
	}
}

// cpuTime returns the process's user and system CPU time in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
