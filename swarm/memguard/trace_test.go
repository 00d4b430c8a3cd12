package memguard

import (
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
)

// Synthetic traces: faults, mapping requests and usage samples of one
// container, as the platform wrapper, the gate and the driver push them.
// Times start at t0, a whole second; the agent reads no clock, so the
// event times are the fake clock.

const (
	testContainer = 3
	t0            = int64(1_700_000_000) * int64(time.Second)
	mib           = 1 << 20
)

// at is an event time: t0 plus d.
func at(d time.Duration) int64 { return t0 + int64(d) }

// fault is a page fault of task tid (group pid) at time t: access bits,
// memory class, address and instruction pointer.
func fault(t int64, pid, tid int32, access, class, addr, ip uint64) event.Event {
	return event.Event{
		Kind: event.KindFault, Time: t, Container: testContainer, PID: pid, TID: tid,
		Sysno: sigSEGV, Args: [6]uint64{addr, access, ip, class},
	}
}

// touches is n ordinary faults (writes to the heap) of task tid evenly
// spread over one second from start, folded perEvent to an event.
func touches(start time.Duration, pid, tid int32, n, perEvent int) []event.Event {
	var out []event.Event
	events := n / perEvent
	for i := range events {
		t := at(start + time.Duration(int64(i)*int64(time.Second)/int64(events)))
		ev := fault(t, pid, tid, event.AccessWrite, event.MemUnknown, 0x5000_0000+uint64(i)<<12, 0x40_1000)
		ev.Repeats = uint16(perEvent - 1)
		out = append(out, ev)
	}
	return out
}

// steady is seconds seconds of touches at perSecond faults a second.
func steady(start time.Duration, seconds int, pid, tid int32, perSecond, perEvent int) []event.Event {
	var out []event.Event
	for s := range seconds {
		out = append(out, touches(start+time.Duration(s)*time.Second, pid, tid, perSecond, perEvent)...)
	}
	return out
}

// group is one thread group's resident set in a usage sample.
type group struct {
	pid   int32
	bytes uint64
}

// sample is one usage round of the driver at time t: each group's
// resident set, then the container's total (the groups' sum).
func sample(t int64, groups ...group) []event.Event {
	var out []event.Event
	var total uint64
	for _, g := range groups {
		out = append(out, event.Event{Kind: event.KindMemory, Time: t, Container: testContainer, PID: g.pid,
			Args: [6]uint64{event.MemOpGroupUsage, g.bytes}})
		total += g.bytes
	}
	return append(out, event.Event{Kind: event.KindMemory, Time: t, Container: testContainer,
		Args: [6]uint64{event.MemOpContainerUsage, total}})
}

// wx is a request of task tid for a writable and executable mapping.
func wx(t int64, pid, tid int32, sysno uint32, addr, length, prot, flags uint64) event.Event {
	return event.Event{Kind: event.KindMemory, Time: t, Container: testContainer, PID: pid, TID: tid,
		Sysno: sysno, Args: [6]uint64{event.MemOpWX, addr, length, prot, flags}}
}

// feed hands evs to a and returns the decisions.
func feed(a *Agent, evs []event.Event) []agent.Decision {
	var out []agent.Decision
	for i := range evs {
		out = a.Handle(&evs[i], out)
	}
	return out
}

// newAgent returns an agent watching testContainer with cc.
func newAgent(t interface{ Fatal(...any) }, cfg Config, cc ContainerConfig) *Agent {
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddContainer(testContainer, cc); err != nil {
		t.Fatal(err)
	}
	return a
}

func withMode(m Mode) ContainerConfig { return ContainerConfig{Mode: m} }
