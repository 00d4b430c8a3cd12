package filter

import (
	"slices"
	"time"

	"github.com/athenaos/athena/swarm/event"
)

// Sweep is the flow table's clock, called every second or so by the slow
// path with the current time. It lifts the blocks whose Until has passed,
// ends the flows idle past their timeout (Options: Idle, TCPIdle,
// ClosedIdle) with a FlowEnd carrying their totals (flows that were never
// accepted end silently), and sends a FlowUpdate with the running totals
// of each live flow not reported for Options.Update.
//
// Idleness is measured in sweeps: a flow whose packet count changed since
// the previous Sweep was active at this one. So timeouts are as precise as
// the sweep period, and the packet path never reads the clock for a known
// flow.
func (f *Filter) Sweep(now time.Time) {
	n := now.UnixNano()
	f.expire(n)
	idle, tcpIdle, closed := int64(f.opts.Idle), int64(f.opts.TCPIdle), int64(f.opts.ClosedIdle)
	update := int64(f.opts.Update)
	var k flowKey
	for i := range f.tab.slots {
		s := &f.tab.slots[i]
		st := s.state.Load()
		if st&3 != stLive {
			continue
		}
		if total := s.pktsOut.Load() + s.pktsIn.Load(); total != s.seen.Load() {
			s.seen.Store(total)
			s.active.Store(n)
		}
		m := s.meta.Load()
		s.loadKey(&k)
		if s.state.Load() != st {
			continue
		}
		timeout := idle
		if m&vMask == vAccept && k.proto() == protoTCP {
			fl := s.flags.Load()
			switch {
			case fl&(event.TCPRstIn|event.TCPRstOut) != 0, fl&(finIn|finOut) == finIn|finOut:
				timeout = closed
			case fl&(event.TCPSynAckIn|event.TCPSynAckOut) != 0, m&mPickup != 0:
				timeout = tcpIdle
			}
		}
		if n-s.active.Load() >= timeout {
			f.end(s, st, &k, m, n)
			continue
		}
		if update > 0 && m&vMask == vAccept && m&mLive != 0 && n-s.reported.Load() >= update {
			s.reported.Store(n)
			f.emitSlot(event.FlowUpdate, s, &k, n)
		}
	}
}

// end frees slot s (state st) with a FlowEnd if the flow was ever live.
func (f *Filter) end(s *slot, st uint64, k *flowKey, m uint64, now int64) {
	pkts := s.pktsOut.Load() + s.pktsIn.Load()
	if m&mLive != 0 {
		// The event reads the counters before release zeroes them; a
		// packet landing in between is lost with the flow (see release).
		f.emitSlot(event.FlowEnd, s, k, now)
	}
	if s.release(st) {
		f.live.Add(-1)
		f.endedPkts.Add(pkts)
	}
}

// expire lifts the blocks whose Until is not after now.
func (f *Filter) expire(now int64) {
	p := f.pol.Load()
	if !slices.ContainsFunc(p.blocks, func(b block) bool { return b.until != 0 && b.until <= now }) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.pol.Load()
	f.publish(old, slices.DeleteFunc(slices.Clone(old.blocks), func(b block) bool { return b.until != 0 && b.until <= now }))
}

// Stats is a snapshot of a Filter's counters.
type Stats struct {
	// Live is the number of flows in the table (refused and blocked ones
	// included, until they idle out).
	Live uint64
	// New counts flows accepted (FlowNew), Refused flows the egress rules
	// refused (FlowRefused), Blocked flows a block refused or cut
	// (FlowBlocked).
	New, Refused, Blocked uint64
	// Misses counts packets of flows that found no room in the table.
	// Such a flow never gets an entry, so each of its packets is a miss:
	// accepted unaccounted, or refused by the rules all the same (and
	// then counted in Refused or Blocked, with an event, per packet).
	Misses uint64
	// RingDrops counts flow events lost because the ring was full.
	RingDrops uint64
	// Packets counts the packets the filter saw (each once per
	// direction), Dropped those it refused.
	Packets, Dropped uint64
}

// Stats returns the filter's counters. It walks the flow table (for the
// packets of live flows), so it belongs to the slow path.
func (f *Filter) Stats() Stats {
	st := Stats{
		Live:      uint64(max(f.live.Load(), 0)),
		New:       f.created.Load(),
		Refused:   f.refused.Load(),
		Blocked:   f.blockedN.Load(),
		Misses:    f.misses.Load(),
		RingDrops: f.ringDrops.Load(),
		Dropped:   f.dropped.Load(),
	}
	st.Packets = f.endedPkts.Load() + f.unflowed.Load() + st.Dropped
	for i := range f.tab.slots {
		s := &f.tab.slots[i]
		if s.state.Load()&3 == stLive {
			st.Packets += s.pktsOut.Load() + s.pktsIn.Load()
		}
	}
	return st
}
