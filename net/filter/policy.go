package filter

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"
)

// Rule is one egress rule: outbound flows of Proto to an address in Prefix
// (or any address, Any) and a remote port in PortLo..PortHi are allowed
// (Allow) or refused. Rules are tried in order and the first that matches
// decides, as in policy.Egress.
type Rule struct {
	Allow bool
	// Proto is 0 (any), 6 (TCP), 17 (UDP) or 1 (ICMP, and ICMPv6; 58
	// means the same).
	Proto uint8
	// Prefix is the remote's prefix (an IPv4-mapped IPv6 prefix matches
	// as IPv4); ignored when Any.
	Prefix netip.Prefix
	// Any matches every IPv4 and IPv6 address.
	Any bool
	// PortLo..PortHi is the remote port range, both included; 0..65535
	// (and 0..0) is every port. Only TCP and UDP have ports: a rule with
	// a narrower range never matches ICMP or other protocols.
	PortLo, PortHi uint16
}

// Block is a carried network decision of the swarm: new outbound flows to
// IP (every host when invalid) on Port (every port when 0) of Family
// (AF_INET or AF_INET6; 0 for both) are refused until Until (never
// expires when zero), and existing outbound flows that match are cut. A
// block applies to flows the container opens, not to inbound ones.
type Block struct {
	Family, Port uint16
	IP           netip.Addr
	Until        time.Time
}

// Linux address families, as Block and event.NetAddr carry them.
const (
	afInet  = 2
	afInet6 = 10
)

// ErrRule is wrapped by SetEgress's errors.
var ErrRule = errors.New("invalid egress rule")

// rule is a compiled Rule: the address as a 16-byte value and mask.
type rule struct {
	allow    bool
	any      bool
	v6       bool
	allPorts bool
	proto    uint8
	lo, hi   uint16
	addr     [2]uint64
	mask     [2]uint64
}

// block is a compiled Block.
type block struct {
	src   Block
	anyIP bool
	v6    bool
	fam   uint16
	port  uint16
	addr  [2]uint64
	until int64 // ns since the epoch; 0: never
}

// policy is the immutable verdict state the packet path reads through one
// atomic load: the egress rules, the blocks, and a generation that every
// change bumps, so that a flow decided under an older one is checked again
// (a newly blocked host's existing flows are cut, a refused flow that a
// new rule allows can open).
type policy struct {
	gen          uint32
	defaultAllow bool
	rules        []rule
	blocks       []block
}

// egress reports whether the rules let a new outbound flow k out.
func (p *policy) egress(k *flowKey) bool {
	for i := range p.rules {
		if r := &p.rules[i]; r.matches(k) {
			return r.allow
		}
	}
	return p.defaultAllow
}

// blocked reports whether a block refuses outbound flow k.
func (p *policy) blocked(k *flowKey) bool {
	for i := range p.blocks {
		if p.blocks[i].matches(k) {
			return true
		}
	}
	return false
}

// decide is the verdict for a packet of outbound flow k that the
// container sends: blocks first (they are the swarm's later word), then,
// if the packet opens the flow, the egress rules.
func (p *policy) decide(k *flowKey, opens bool) uint64 {
	switch {
	case p.blocked(k):
		return vBlocked
	case opens && !p.egress(k):
		return vRefused
	}
	return vAccept
}

func (r *rule) matches(k *flowKey) bool {
	switch p := k.proto(); r.proto {
	case 0:
	case protoICMP:
		if p != protoICMP && p != protoICMPv6 {
			return false
		}
	default:
		if p != r.proto {
			return false
		}
	}
	if k.ported() {
		if port := k.rport(); port < r.lo || port > r.hi {
			return false
		}
	} else if !r.allPorts {
		return false
	}
	if r.any {
		return true
	}
	return r.v6 == k.v6() && k.remote[0]&r.mask[0] == r.addr[0] && k.remote[1]&r.mask[1] == r.addr[1]
}

func (b *block) matches(k *flowKey) bool {
	switch {
	case b.fam == afInet && k.v6(), b.fam == afInet6 && !k.v6():
		return false
	case b.port != 0 && (!k.ported() || k.rport() != b.port):
		return false
	case b.anyIP:
		return true
	}
	return b.v6 == k.v6() && k.remote == b.addr
}

// addrWords returns a as the key's two words, IPv4 mapped, and whether it
// is IPv6 (IPv4-mapped IPv6 counts as IPv4, as on the wire).
func addrWords(a netip.Addr) (w [2]uint64, v6 bool) {
	a = a.WithZone("")
	v6 = a.Is6() && !a.Is4In6()
	b := a.As16()
	if !v6 {
		b = netip.AddrFrom4(a.Unmap().As4()).As16()
	}
	return [2]uint64{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}, v6
}

func compileRule(r Rule) (rule, error) {
	c := rule{allow: r.Allow, any: r.Any, proto: r.Proto, lo: r.PortLo, hi: r.PortHi}
	switch r.Proto {
	case 0, protoTCP, protoUDP, protoICMP:
	case protoICMPv6:
		c.proto = protoICMP
	default:
		return rule{}, fmt.Errorf("%w: protocol %d (want 0, 1, 6 or 17)", ErrRule, r.Proto)
	}
	switch {
	case r.PortLo == 0 && (r.PortHi == 0 || r.PortHi == math.MaxUint16):
		c.lo, c.hi, c.allPorts = 0, math.MaxUint16, true
	case r.PortHi < r.PortLo:
		return rule{}, fmt.Errorf("%w: port range %d-%d", ErrRule, r.PortLo, r.PortHi)
	}
	if r.Any {
		return c, nil
	}
	if !r.Prefix.IsValid() {
		return rule{}, fmt.Errorf("%w: neither Any nor a valid Prefix", ErrRule)
	}
	pfx := r.Prefix.Masked()
	bitsLen := pfx.Bits()
	addr := pfx.Addr()
	if addr.Is4In6() {
		bitsLen -= 96
		if bitsLen < 0 {
			bitsLen = 0
		}
		addr = addr.Unmap()
	}
	c.addr, c.v6 = addrWords(addr)
	if !c.v6 {
		bitsLen += 96 // the mapped prefix ::ffff:0:0/96 is part of every IPv4 key
	}
	c.mask = prefixMask(bitsLen)
	return c, nil
}

// prefixMask returns the 128-bit mask of n leading ones as two words.
func prefixMask(n int) [2]uint64 {
	switch {
	case n <= 0:
		return [2]uint64{}
	case n <= 64:
		return [2]uint64{^uint64(0) << (64 - n), 0}
	case n < 128:
		return [2]uint64{^uint64(0), ^uint64(0) << (128 - n)}
	}
	return [2]uint64{^uint64(0), ^uint64(0)}
}

func compileBlock(b Block) block {
	c := block{src: b, fam: b.Family, port: b.Port, anyIP: !b.IP.IsValid()}
	if !b.Until.IsZero() {
		c.until = b.Until.UnixNano()
	}
	if !c.anyIP {
		c.addr, c.v6 = addrWords(b.IP)
	}
	return c
}

// sameTarget reports whether two blocks refuse the same flows (whatever
// their expiry).
func sameTarget(a, b *block) bool {
	return a.fam == b.fam && a.port == b.port && a.anyIP == b.anyIP && a.v6 == b.v6 && a.addr == b.addr
}
