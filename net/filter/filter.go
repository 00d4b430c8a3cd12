package filter

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/ring"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Options configures a Filter. The zero value is usable.
type Options struct {
	// Slots is the flow table's capacity in flows, rounded up to a power
	// of two (0: 8192). A slot takes 136 bytes; pages of the table are
	// touched only as flows land in them, and by Sweep.
	Slots int
	// Idle ends a UDP, ICMP or other flow, an unanswered TCP opening, and
	// a refused or blocked flow after this long without packets (0: 60s).
	Idle time.Duration
	// TCPIdle ends an open TCP connection after this long without
	// packets (0: 30m). Its next packet, if any, starts a new flow that
	// egress rules do not judge (it has no SYN).
	TCPIdle time.Duration
	// ClosedIdle ends a TCP flow that was reset, or closed both ways,
	// after this long without packets (0: 10s; the delay lets the last
	// ACKs and retransmitted FINs find their flow).
	ClosedIdle time.Duration
	// Update is how often Sweep sends a FlowUpdate for a live flow (0:
	// 60s; negative: never).
	Update time.Duration
	// Stack, when set, makes refused outbound packets fail fast: Tables'
	// target answers a refused TCP segment with a reset from the remote
	// and a refused UDP datagram with an ICMP port unreachable, through
	// Stack's IPv4 and IPv6 protocols, so that connect() fails at once
	// with ECONNREFUSED instead of retrying its SYN for two minutes (and
	// a connected UDP socket's next call fails the same way). Nil, and
	// for other protocols: refused packets are dropped silently.
	Stack *stack.Stack
	// Clock stamps flow events and flow starts (nil: the system clock).
	// Sweep gets its time as an argument.
	Clock tcpip.Clock
}

func (o Options) withDefaults() Options {
	if o.Slots <= 0 {
		o.Slots = 8192
	}
	if o.Idle <= 0 {
		o.Idle = 60 * time.Second
	}
	if o.TCPIdle <= 0 {
		o.TCPIdle = 30 * time.Minute
	}
	if o.ClosedIdle <= 0 {
		o.ClosedIdle = 10 * time.Second
	}
	if o.Update == 0 {
		o.Update = 60 * time.Second
	}
	if o.Clock == nil {
		o.Clock = tcpip.NewStdClock()
	}
	return o
}

// Filter is the packet path of one netstack: a stack.Matcher that Tables'
// rules run on every packet at INPUT and OUTPUT, its flow table, and the
// egress policy and blocks it applies. Match may be called from any
// number of goroutines at once. The slow path's SetEgress, Block, Unblock,
// Blocks, Allows and Stats may be called from any goroutine (the writers
// take a mutex the packet path never takes); Sweep from one goroutine at
// a time.
type Filter struct {
	pol       atomic.Pointer[policy]
	tab       *table
	seed      uint64
	events    *ring.Ring[event.Event]
	container uint32
	opts      Options
	clock     tcpip.Clock

	// Counters of the packet path (each is bumped only on a path that
	// already does more than a flow lookup).
	created   atomic.Uint64 // flows accepted (FlowNew)
	refused   atomic.Uint64 // flows refused by the egress rules
	blockedN  atomic.Uint64 // flows refused or cut by a block
	misses    atomic.Uint64 // packets whose flow found no room
	ringDrops atomic.Uint64 // events the full ring refused
	dropped   atomic.Uint64 // packets refused
	unflowed  atomic.Uint64 // packets accepted without a flow
	live      atomic.Int64  // flows in the table

	// Totals of ended flows' packets (Sweep), for Stats.
	endedPkts atomic.Uint64

	// mu orders the slow path's writers of pol (SetEgress, Block,
	// Unblock, Sweep's expiry).
	mu sync.Mutex
}

// New returns a Filter that pushes its flow events (event.KindPacket, see
// swarm/event) into events (nil: no events) on behalf of container (the
// Event.Container it stamps). It allows all egress until SetEgress says
// otherwise.
func New(events *ring.Ring[event.Event], container uint32, opts Options) *Filter {
	opts = opts.withDefaults()
	f := &Filter{
		tab:       newTable(opts.Slots),
		seed:      rand.Uint64(),
		events:    events,
		container: container,
		opts:      opts,
		clock:     opts.Clock,
	}
	f.pol.Store(&policy{defaultAllow: true})
	return f
}

var _ stack.Matcher = (*Filter)(nil)

// Name returns the matcher's name, "athena".
func (*Filter) Name() string { return "athena" }

// Match implements stack.Matcher.Match. matches is true for a packet the
// filter refuses; hotdrop is always false. It is the per-packet fast
// path: a header parse, a hash, a probe of the flow table and two counter
// bumps for a packet of a known flow; no allocation, no lock, no map, no
// logging on any path (a new flow also reads the clock and pushes one
// event into the ring, or drops it when the ring is full).
//
// Hooks: OUTPUT sees every packet the container's sockets send (loopback
// included) and INPUT every packet delivered to them, each exactly once,
// so each packet is counted once per direction. Other hooks are not
// judged (Tables does not run the matcher there).
func (f *Filter) Match(hook stack.Hook, pkt *stack.PacketBuffer, _, _ string) (matches bool, hotdrop bool) {
	if f.tab == nil {
		return false, false // a placeholder restored from a checkpoint (state.go)
	}
	var out bool
	switch hook {
	case stack.Output:
		out = true
	case stack.Input:
	default:
		return false, false
	}
	var k flowKey
	var pi pktInfo
	if !parse(pkt, out, &k, &pi) {
		f.unflowed.Add(1)
		return false, false
	}
	h := k.hash(f.seed)
	p := f.pol.Load()
	if s := f.tab.find(h, &k); s != nil {
		return f.known(s, &k, p, out, &pi), false
	}
	return f.fresh(h, &k, p, out, &pi), false
}

// known handles a packet of a flow in the table and reports whether to
// refuse it.
func (f *Filter) known(s *slot, k *flowKey, p *policy, out bool, pi *pktInfo) bool {
	m := s.meta.Load()
	if uint32(m>>32) != p.gen {
		m = f.recheck(s, k, m, p)
	}
	if m&vMask != vAccept {
		// A refused or blocked flow. Let resets in: the reset Tables'
		// target sends on the remote's behalf is what tells the socket.
		if out || pi.flags&event.TCPRstIn == 0 {
			f.dropped.Add(1)
			return true
		}
	}
	bump(s, out, pi)
	return false
}

// bump counts a packet on its flow.
func bump(s *slot, out bool, pi *pktInfo) {
	if out {
		s.pktsOut.Add(1)
		s.bytesOut.Add(pi.payload)
	} else {
		s.pktsIn.Add(1)
		s.bytesIn.Add(pi.payload)
	}
	// Set new TCP bits only: most packets add none, and a plain load keeps
	// the cache line shared between the two directions' goroutines.
	if b := pi.flags; b != 0 && s.flags.Load()&b != b {
		s.flags.Or(b)
	}
}

// recheck brings a flow's verdict up to policy p: a flow the container
// opened is checked against p's blocks (an accepted one may be cut), and a
// refused or blocked one is decided again (a new rule may allow it, its
// block may have expired). Inbound and loopback flows are never judged.
// It returns the flow's meta word.
func (f *Filter) recheck(s *slot, k *flowKey, m uint64, p *policy) uint64 {
	was := m & vMask
	v := was
	if m&(mInbound|mLoop) == 0 {
		if was == vAccept {
			if p.blocked(k) {
				v = vBlocked
			}
		} else {
			v = p.decide(k, true)
		}
	}
	nm := m&0xffffffff&^vMask | v | uint64(p.gen)<<32
	if v == vAccept {
		nm |= mLive // a refused flow that opens now becomes one the swarm knows
	}
	if !s.meta.CompareAndSwap(m, nm) {
		return s.meta.Load() // another packet rechecked it first
	}
	if v != was {
		op := uint64(event.FlowNew)
		switch v {
		case vAccept:
			f.created.Add(1)
		case vBlocked:
			f.blockedN.Add(1)
			op = event.FlowBlocked
		case vRefused:
			f.refused.Add(1)
			op = event.FlowRefused
		}
		f.emitSlot(op, s, k, f.clock.Now().UnixNano())
	}
	return nm
}

// fresh handles the first packet of a flow the table does not know, and
// reports whether to refuse it.
func (f *Filter) fresh(h uint64, k *flowKey, p *policy, out bool, pi *pktInfo) bool {
	// Who opened the flow: the sender of an opening packet (TCP SYN, a
	// first UDP datagram, an echo request), the other end of an answer
	// (SYN-ACK, echo reply). A TCP segment without SYN is a connection
	// already under way (opened before the table saw it, or whose entry
	// Sweep ended while idle): the side with the lower port is taken for
	// the server.
	var inbound bool
	var meta uint64
	switch {
	case pi.opens:
		inbound = !out
	case pi.answers:
		inbound = out
	default:
		inbound = k.lport() < k.rport()
		meta |= mPickup
	}
	if inbound {
		meta |= mInbound
	}
	v := uint64(vAccept)
	switch {
	case k.loop():
		meta |= mLoop
	case out && !inbound:
		v = p.decide(k, pi.opens)
	}

	s, found := f.tab.claim(h, k)
	if found {
		return f.known(s, k, p, out, pi)
	}
	now := f.clock.Now().UnixNano()
	if s == nil {
		// No room: the flow goes unaccounted, but the verdict stands.
		f.misses.Add(1)
		if v == vAccept {
			f.unflowed.Add(1)
			return false
		}
		f.refuse(v, k, pi, now)
		return true
	}
	meta |= v | uint64(p.gen)<<32
	if v == vAccept {
		meta |= mLive
	}
	s.hash.Store(h)
	s.storeKey(k)
	s.meta.Store(meta)
	s.start.Store(now)
	s.active.Store(now)
	s.reported.Store(now)
	if v != vAccept {
		s.flags.Store(pi.flags)
		s.publish()
		f.live.Add(1)
		f.refuse(v, k, pi, now)
		return true
	}
	bump(s, out, pi)
	s.publish()
	f.live.Add(1)
	f.created.Add(1)
	f.emitSlot(event.FlowNew, s, k, now)
	return false
}

// refuse counts a refused first packet and reports it.
func (f *Filter) refuse(v uint64, k *flowKey, pi *pktInfo, now int64) {
	f.dropped.Add(1)
	op := uint64(event.FlowRefused)
	if v == vBlocked {
		op = event.FlowBlocked
		f.blockedN.Add(1)
	} else {
		f.refused.Add(1)
	}
	if f.events == nil {
		return
	}
	var ev event.Event
	fill(&ev, op, k, 0, uint16(pi.flags), now, 0)
	f.push(&ev)
}

// emitSlot pushes a flow event with s's counters.
func (f *Filter) emitSlot(op uint64, s *slot, k *flowKey, now int64) {
	if f.events == nil {
		return
	}
	var ev event.Event
	m := s.meta.Load()
	fill(&ev, op, k, m, uint16(s.flags.Load()), now, now-s.start.Load())
	ev.Args[2], ev.Args[3] = s.pktsOut.Load(), s.bytesOut.Load()
	ev.Args[4], ev.Args[5] = s.pktsIn.Load(), s.bytesIn.Load()
	f.push(&ev)
}

func (f *Filter) push(ev *event.Event) {
	ev.Container = f.container
	if !f.events.TryPush(ev) {
		f.ringDrops.Add(1)
	}
}

// Socket types, as event.NetAddr carries them.
const (
	sockStream = 1
	sockDgram  = 2
	sockRaw    = 3
)

// fill writes the KindPacket fields of a flow event (see swarm/event):
// everything but the counters and Container.
func fill(ev *event.Event, op uint64, k *flowKey, meta uint64, ops uint16, now, age int64) {
	ev.Kind = event.KindPacket
	ev.Time = now
	ev.Sysno = uint32(k.proto())
	ev.Flags = event.FlagNet
	if meta&mInbound != 0 {
		ev.Flags |= event.FlagInbound
	}
	ev.Ops = ops & 0xff
	ev.Args[0] = uint64(k.lport())
	ev.Args[1] = op
	ev.Ret = age
	ev.Net.Port = k.rport()
	switch k.proto() {
	case protoTCP:
		ev.Net.Protocol = sockStream
	case protoUDP:
		ev.Net.Protocol = sockDgram
	default:
		ev.Net.Protocol = sockRaw
	}
	if k.v6() {
		ev.Net.Family = afInet6
		putWords(ev.Net.IP[:], k.remote)
	} else {
		ev.Net.Family = afInet
		w := uint32(k.remote[1])
		ev.Net.IP[0], ev.Net.IP[1], ev.Net.IP[2], ev.Net.IP[3] = byte(w>>24), byte(w>>16), byte(w>>8), byte(w)
	}
}

func putWords(b []byte, w [2]uint64) {
	for i := 0; i < 8; i++ {
		b[i] = byte(w[0] >> (56 - 8*i))
		b[8+i] = byte(w[1] >> (56 - 8*i))
	}
}

// SetEgress replaces the egress rules (first match wins; defaultAllow
// decides a flow no rule matches) and publishes them to the packet path
// at once. New outbound flows are judged by them; flows already accepted
// keep going (a connection is judged when it opens), and flows they
// refused before are judged again on their next packet. Loopback flows
// are never judged. It fails, changing nothing, on a rule with neither
// Any nor a valid Prefix, an unknown protocol, or PortHi < PortLo.
func (f *Filter) SetEgress(rules []Rule, defaultAllow bool) error {
	compiled := make([]rule, 0, len(rules))
	for i, r := range rules {
		c, err := compileRule(r)
		if err != nil {
			return fmt.Errorf("egress rule %d: %w", i, err)
		}
		compiled = append(compiled, c)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.pol.Load()
	f.pol.Store(&policy{gen: old.gen + 1, defaultAllow: defaultAllow, rules: compiled, blocks: old.blocks})
	return nil
}

// Block adds a block (or, for one that refuses the same flows, replaces
// its expiry) and publishes it at once: new outbound flows that match are
// refused (FlowBlocked), and each existing outbound flow that matches is
// cut on its next packet (FlowBlocked, then its packets are refused:
// with Options.Stack its socket gets a reset). Sweep lifts it at Until.
func (f *Filter) Block(b Block) {
	c := compileBlock(b)
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.pol.Load()
	blocks := slices.Clone(old.blocks)
	if i := slices.IndexFunc(blocks, func(x block) bool { return sameTarget(&x, &c) }); i >= 0 {
		blocks[i] = c
	} else {
		blocks = append(blocks, c)
	}
	f.publish(old, blocks)
}

// Unblock lifts the block that refuses the same flows as b (whatever its
// Until) and reports whether there was one.
func (f *Filter) Unblock(b Block) bool {
	c := compileBlock(b)
	f.mu.Lock()
	defer f.mu.Unlock()
	old := f.pol.Load()
	blocks := slices.DeleteFunc(slices.Clone(old.blocks), func(x block) bool { return sameTarget(&x, &c) })
	if len(blocks) == len(old.blocks) {
		return false
	}
	f.publish(old, blocks)
	return true
}

// Blocks returns the blocks in force.
func (f *Filter) Blocks() []Block {
	p := f.pol.Load()
	out := make([]Block, len(p.blocks))
	for i := range p.blocks {
		out[i] = p.blocks[i].src
	}
	return out
}

// publish stores a policy like old with blocks, next generation.
//
// Preconditions: f.mu is held.
func (f *Filter) publish(old *policy, blocks []block) {
	if len(blocks) == 0 {
		blocks = nil
	}
	f.pol.Store(&policy{gen: old.gen + 1, defaultAllow: old.defaultAllow, rules: old.rules, blocks: blocks})
}

// Allows reports the verdict a new outbound flow of IP protocol proto
// (6, 17, 1 or 58, or another) to remote would get now: the blocks and
// egress rules of the packet path, for the syscall layer to fail a
// connect() or sendto() with a clear error before any packet leaves.
// Loopback remotes are always allowed.
func (f *Filter) Allows(remote netip.AddrPort, proto uint8) bool {
	if !remote.Addr().IsValid() {
		return false
	}
	if a := remote.Addr().Unmap(); a.IsLoopback() || a.IsUnspecified() {
		return true // connect() to 0.0.0.0 or :: reaches the host itself
	}
	w, v6 := addrWords(remote.Addr())
	k := flowKey{remote: w, ports: uint64(remote.Port())<<16 | uint64(proto)<<8}
	if v6 {
		k.ports |= 1
	}
	return f.pol.Load().decide(&k, true) == vAccept
}
