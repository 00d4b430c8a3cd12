package filter

import (
	"sync/atomic"
)

// probe is how many consecutive slots a flow may live in, from the one its
// hash picks. Lookups read all of them (a freed slot leaves a hole, not a
// tombstone), so a miss costs at most probe slot reads; a flow whose
// window is full is a table miss.
const probe = 8

// Slot states, in the low two bits of slot.state; the bits above are a
// version that grows each time the slot is freed, so that a reader who saw
// the same state word before and after reading the key knows the key
// belongs to that flow and not to one that reused the slot meanwhile.
const (
	stEmpty = 0
	stBusy  = 1 // being filled by an inserter, or emptied by Sweep
	stLive  = 2
)

// Flow verdicts and flags, in slot.meta's low 32 bits; the policy
// generation the verdict was last checked against is in the high 32.
const (
	vAccept  = 0
	vRefused = 1 // the egress rules refused its opening packet
	vBlocked = 2 // a block refused it (new), or cut it (existing)
	vMask    = 3

	mInbound = 1 << 2 // the remote opened the flow
	mLoop    = 1 << 3 // both ends in the sandbox: never judged
	mLive    = 1 << 4 // it was accepted once: FlowNew went out, FlowEnd will
	mPickup  = 1 << 5 // first seen mid-stream (TCP without SYN): direction guessed
)

// slot is one flow. Every field is atomic: the packet path reads and bumps
// them from any goroutine while Sweep reads them from its own.
type slot struct {
	state atomic.Uint64
	hash  atomic.Uint64
	key   [5]atomic.Uint64 // local[0], local[1], remote[0], remote[1], ports
	meta  atomic.Uint64
	flags atomic.Uint32 // event TCP* bits and finOut/finIn
	_     uint32
	start atomic.Int64 // creation time, ns since the epoch

	// Sweep's own bookkeeping: the packet count it saw last, when it last
	// saw it change (the flow's last activity, to the sweep period), and
	// when it last sent a FlowUpdate.
	seen     atomic.Uint64
	active   atomic.Int64
	reported atomic.Int64

	pktsOut, bytesOut, pktsIn, bytesIn atomic.Uint64
}

func (s *slot) keyIs(k *flowKey) bool {
	return s.key[4].Load() == k.ports &&
		s.key[3].Load() == k.remote[1] && s.key[1].Load() == k.local[1] &&
		s.key[2].Load() == k.remote[0] && s.key[0].Load() == k.local[0]
}

func (s *slot) loadKey(k *flowKey) {
	k.local = [2]uint64{s.key[0].Load(), s.key[1].Load()}
	k.remote = [2]uint64{s.key[2].Load(), s.key[3].Load()}
	k.ports = s.key[4].Load()
}

func (s *slot) storeKey(k *flowKey) {
	s.key[0].Store(k.local[0])
	s.key[1].Store(k.local[1])
	s.key[2].Store(k.remote[0])
	s.key[3].Store(k.remote[1])
	s.key[4].Store(k.ports)
}

// table is a fixed-size open-addressing hash table of flows, written
// without locks: slots are claimed by compare-and-swap on their state and
// published by a store; Sweep (one goroutine) frees them. Nothing here
// allocates after newTable.
type table struct {
	slots []slot
	mask  uint64
}

func newTable(n int) *table {
	size := 64
	for size < n {
		size <<= 1
	}
	return &table{slots: make([]slot, size), mask: uint64(size - 1)}
}

// find returns the live slot of key k (hash h), or nil.
func (t *table) find(h uint64, k *flowKey) *slot {
	for i := uint64(0); i < probe; i++ {
		s := &t.slots[(h+i)&t.mask]
		st := s.state.Load()
		if st&3 == stLive && s.hash.Load() == h && s.keyIs(k) && s.state.Load() == st {
			return s
		}
	}
	return nil
}

// spin bounds how long claim waits for a slot another goroutine is
// filling (a dozen stores): if that goroutine was preempted, claim moves
// on rather than wait for it.
const spin = 64

// claim returns the slot of key k: the live one when another packet of
// the flow created it first (found), or a free slot now busy, which the
// caller fills and publishes with publish. It returns nil when the probe
// window is full.
//
// Two first packets of one flow racing each other meet on the same first
// free slot, so the flow gets one entry. The exception is a Sweep freeing
// an earlier slot of the window between their scans: the flow then gets
// two entries, each accounted and ended on its own.
func (t *table) claim(h uint64, k *flowKey) (s *slot, found bool) {
	for try := 0; try < 4; try++ {
		var free *slot
		var freeSt uint64
		for i := uint64(0); i < probe; i++ {
			s := &t.slots[(h+i)&t.mask]
			st := s.state.Load()
			for n := 0; st&3 == stBusy && n < spin; n++ {
				st = s.state.Load()
			}
			switch st & 3 {
			case stEmpty:
				if free == nil {
					free, freeSt = s, st
				}
			case stLive:
				if s.hash.Load() == h && s.keyIs(k) && s.state.Load() == st {
					return s, true
				}
			}
		}
		if free == nil {
			return nil, false
		}
		if free.state.CompareAndSwap(freeSt, freeSt|stBusy) {
			return free, false
		}
		// Another flow took the slot: scan again (the flow may be ours).
	}
	return nil, false
}

// publish makes a slot claim returned live.
func (s *slot) publish() {
	s.state.Store(s.state.Load()&^3 | stLive)
}

// release frees a live slot whose state word was st, zeroing its counters
// for the next flow. It reports false if the slot changed meanwhile.
//
// A packet that found the flow just before and bumps a counter after the
// zeroing adds one packet to whichever flow takes the slot next: the flow
// was idle for its whole timeout, so this is rare and small.
func (s *slot) release(st uint64) bool {
	if !s.state.CompareAndSwap(st, st&^3|stBusy) {
		return false
	}
	s.pktsOut.Store(0)
	s.bytesOut.Store(0)
	s.pktsIn.Store(0)
	s.bytesIn.Store(0)
	s.flags.Store(0)
	s.seen.Store(0)
	s.state.Store((st>>2 + 1) << 2) // empty, next version
	return true
}
