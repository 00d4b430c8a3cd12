package filter

import (
	"net/netip"
	"testing"
)

var sink int

func BenchmarkZZAccessors(b *testing.B) {
	pkt := packet(netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.1.0.1"), protoTCP, 5555, 443, ack, 1400)
	defer pkt.DecRef()
	for i := 0; i < b.N; i++ {
		sink += len(pkt.NetworkHeader().Slice()) + len(pkt.TransportHeader().Slice()) + pkt.Data().Size()
	}
}
func BenchmarkZZParse(b *testing.B) {
	pkt := packet(netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("10.1.0.1"), protoTCP, 5555, 443, ack, 1400)
	defer pkt.DecRef()
	var k flowKey
	var pi pktInfo
	for i := 0; i < b.N; i++ {
		parse(pkt, true, &k, &pi)
	}
}
