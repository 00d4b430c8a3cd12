package netguard

import "testing"

// BenchmarkHandleServer: the events of a busy server and its client side
// (inbound flows, successful outbound flows, updates), which decide
// nothing.
func BenchmarkHandleServer(b *testing.B) {
	a := newAgent(b, enforce())
	evs := events(testContainer, merge(server(1, 2, 5000), client(2, 2, 50)))
	feed(a, evs)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		a.Handle(&evs[i%len(evs)], nil)
	}
}

// BenchmarkHandleScan: failed probes to distinct hosts and ports through a
// full probe ring (a scan in learn mode: counted, not decided).
func BenchmarkHandleScan(b *testing.B) {
	cfg := DefaultConfig()
	a := newAgent(b, cfg)
	evs := events(testContainer, merge(horizontalScan(0, 22, 5000, 5000), verticalScan(0, "10.0.0.5", 1, 5000, 5000)))
	feed(a, evs)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		a.Handle(&evs[i%len(evs)], nil)
	}
}
