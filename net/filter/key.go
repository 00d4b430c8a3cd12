package filter

import (
	"encoding/binary"
	"math/bits"
	"net/netip"

	"github.com/athenaos/athena/swarm/event"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// IP protocol numbers the filter tells apart.
const (
	protoICMP   = 1
	protoIGMP   = 2
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
)

// v4Mapped is the upper half of the low word of an IPv4 address stored as
// ::ffff:a.b.c.d, so that both families share one 16-byte key layout.
const v4Mapped = 0xffff << 32

// flowKey names a flow from the container's side: local is the
// container's address and port, remote the other end's. A packet the
// container sends (OUTPUT) has local = source, one it receives (INPUT)
// local = destination, so both directions of a flow find the same key
// without sorting the two ends. (A loopback connection has both ends in
// the container: the client's flow and the server's are two keys, each
// accounted from its own socket's side.)
type flowKey struct {
	// local and remote are 16-byte addresses as big-endian halves.
	local, remote [2]uint64
	// ports packs the local port (or ICMP echo identifier) <<32, the
	// remote port <<16, the IP protocol <<8 and 1 for IPv6.
	ports uint64
}

func (k *flowKey) lport() uint16 { return uint16(k.ports >> 32) }
func (k *flowKey) rport() uint16 { return uint16(k.ports >> 16) }
func (k *flowKey) proto() uint8  { return uint8(k.ports >> 8) }
func (k *flowKey) v6() bool      { return k.ports&1 != 0 }

// ported reports whether the flow's protocol has ports (egress rules and
// blocks with ports match only these).
func (k *flowKey) ported() bool { p := k.proto(); return p == protoTCP || p == protoUDP }

// loop reports whether both ends are in the sandbox: a loopback remote
// (127.0.0.0/8, ::1), or the container talking to its own address (which
// is also how the rejections of Tables come back to it). Such flows are
// never refused.
func (k *flowKey) loop() bool {
	if k.local == k.remote {
		return true
	}
	if k.v6() {
		return k.remote == [2]uint64{0, 1}
	}
	return k.remote[1]>>24&0xff == 127
}

// remoteAddr returns the remote address as netip (IPv4 unmapped).
func (k *flowKey) remoteAddr() netip.Addr {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], k.remote[0])
	binary.BigEndian.PutUint64(b[8:], k.remote[1])
	a := netip.AddrFrom16(b)
	if !k.v6() {
		a = a.Unmap()
	}
	return a
}

// hash mixes the key with the filter's random seed (so that a remote
// cannot aim many flows at one probe window of the table).
func (k *flowKey) hash(seed uint64) uint64 {
	const m = 0x9e3779b97f4a7c15
	h := seed
	h = bits.RotateLeft64((h^k.local[0])*m, 29)
	h = bits.RotateLeft64((h^k.local[1])*m, 29)
	h = bits.RotateLeft64((h^k.remote[0])*m, 29)
	h = bits.RotateLeft64((h^k.remote[1])*m, 29)
	h = (h ^ k.ports) * m
	// fmix64 (MurmurHash3's finalizer): every input bit reaches the low
	// bits that pick the slot.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// TCP header flag bits.
const (
	tcpFin = 0x01
	tcpSyn = 0x02
	tcpRst = 0x04
	tcpAck = 0x10
)

// Private flow bits, above the event's TCP* bits (event.Ops carries only
// the low 8 bits of a flow's flag word).
const (
	finOut = 1 << 8 // the container sent a FIN
	finIn  = 1 << 9 // the remote sent a FIN
)

// pktInfo is what Match needs of a packet beyond its flow key.
type pktInfo struct {
	// payload is the transport payload length: what the application
	// wrote or will read (ICMP: the body after the 8-byte header; other
	// protocols: the whole IP payload).
	payload uint64
	// flags are the event TCP* bits (and finOut/finIn) this packet sets
	// on its flow, direction applied.
	flags uint32
	// opens: the packet can open a flow (TCP SYN without ACK, an ICMP
	// echo request, any UDP or other packet). Egress rules judge only
	// such packets: a TCP segment without SYN belongs to a connection
	// that was judged when it opened (or that a remote opened).
	opens bool
	// answers: the packet is the responder's (TCP SYN-ACK, ICMP echo
	// reply), so its sender did not open the flow.
	answers bool
}

// parse fills k and pi from pkt, seen in the direction out (true: the
// container sends it). It returns false for a packet that makes no flow
// of its own: ICMP errors (they belong to the flow they quote, and carry
// the rejections of Tables back to the socket), ICMP and ICMPv6 control
// messages (neighbour discovery, MLD, router messages), IGMP, IPv4
// fragments after the first (no transport header) and IPv6 packets with
// extension headers gVisor left unparsed. Such packets are accepted and
// counted, never judged: the first fragment of a datagram carries its
// verdict, and raw sockets, the only way to send them at will, need
// CAP_NET_RAW, which runsc drops unless --net-raw.
//
// It does not allocate (the headers are in the packet's first view).
func parse(pkt *stack.PacketBuffer, out bool, k *flowKey, pi *pktInfo) bool {
	nh := pkt.NetworkHeader().Slice()
	var proto uint8
	var src, dst [2]uint64
	v6 := uint64(0)
	switch pkt.NetworkProtocolNumber {
	case header.IPv4ProtocolNumber:
		if len(nh) < header.IPv4MinimumSize || binary.BigEndian.Uint16(nh[6:])&0x1fff != 0 {
			return false
		}
		proto = nh[9]
		src[1] = v4Mapped | uint64(binary.BigEndian.Uint32(nh[12:]))
		dst[1] = v4Mapped | uint64(binary.BigEndian.Uint32(nh[16:]))
	case header.IPv6ProtocolNumber:
		if len(nh) < header.IPv6MinimumSize {
			return false
		}
		// gVisor sets TransportProtocolNumber past the extension headers
		// (inbound) and for every packet its transports send.
		proto = nh[6]
		if p := pkt.TransportProtocolNumber; p != 0 {
			proto = uint8(p)
		}
		src = [2]uint64{binary.BigEndian.Uint64(nh[8:]), binary.BigEndian.Uint64(nh[16:])}
		dst = [2]uint64{binary.BigEndian.Uint64(nh[24:]), binary.BigEndian.Uint64(nh[32:])}
		v6 = 1
	default:
		return false
	}
	if proto == protoIGMP {
		return false
	}

	th := pkt.TransportHeader().Slice()
	payload := pkt.Data().Size()
	if len(th) == 0 {
		// Not parsed: an IPv4 first fragment coming in, or a protocol
		// gVisor does not parse. The transport header, if any, starts the
		// payload unless IPv6 extension headers sit in between.
		need := 0
		switch proto {
		case protoTCP:
			need = header.TCPMinimumSize
		case protoUDP, protoICMP, protoICMPv6:
			need = 8
		}
		if need > 0 {
			if v6 == 1 && len(nh) > header.IPv6MinimumSize {
				return false
			}
			var ok bool
			if th, ok = pkt.Data().PullUp(need); !ok {
				return false
			}
			if proto == protoTCP {
				need = int(header.TCP(th).DataOffset())
			}
			payload -= need
		}
	}

	var sport, dport uint16
	pi.flags, pi.opens, pi.answers = 0, true, false
	switch proto {
	case protoTCP:
		if len(th) < header.TCPMinimumSize {
			return false
		}
		sport, dport = binary.BigEndian.Uint16(th), binary.BigEndian.Uint16(th[2:])
		pi.flags = tcpFlags(th[13], out)
		syn, ack := th[13]&tcpSyn != 0, th[13]&tcpAck != 0
		pi.opens = syn && !ack
		pi.answers = syn && ack
	case protoUDP:
		if len(th) < header.UDPMinimumSize {
			return false
		}
		sport, dport = binary.BigEndian.Uint16(th), binary.BigEndian.Uint16(th[2:])
	case protoICMP, protoICMPv6:
		if len(th) < 8 {
			return false
		}
		var req, rep uint8 = 8, 0 // ICMPv4 echo request, reply
		if proto == protoICMPv6 {
			req, rep = 128, 129
		}
		switch th[0] {
		case req:
		case rep:
			pi.opens, pi.answers = false, true
		default:
			return false // errors and control: see above
		}
		// The echo identifier stands for the local port, both ways.
		id := binary.BigEndian.Uint16(th[4:])
		sport, dport = id, 0
		if !out {
			sport, dport = 0, id
		}
	}
	if payload < 0 {
		payload = 0
	}
	pi.payload = uint64(payload)

	lport, rport := sport, dport
	k.local, k.remote = src, dst
	if !out {
		lport, rport = dport, sport
		k.local, k.remote = dst, src
	}
	k.ports = uint64(lport)<<32 | uint64(rport)<<16 | uint64(proto)<<8 | v6
	return true
}

// tcpFlags maps a TCP header's flags byte to the flow bits it sets, seen
// in direction out.
func tcpFlags(f uint8, out bool) uint32 {
	var b uint32
	syn, ack := f&tcpSyn != 0, f&tcpAck != 0
	if out {
		switch {
		case syn && ack:
			b |= event.TCPSynAckOut
		case syn:
			b |= event.TCPSynOut
		}
		if f&tcpRst != 0 {
			b |= event.TCPRstOut
		}
		if f&tcpFin != 0 {
			b |= event.TCPFin | finOut
		}
		return b
	}
	switch {
	case syn && ack:
		b |= event.TCPSynAckIn
	case syn:
		b |= event.TCPSynIn
	}
	if f&tcpRst != 0 {
		b |= event.TCPRstIn
	}
	if f&tcpFin != 0 {
		b |= event.TCPFin | finIn
	}
	return b
}
