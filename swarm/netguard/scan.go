package netguard

import (
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/athenaos/athena/swarm/event"
)

// hostKey is a remote host: family and address.
type hostKey struct {
	fam uint16
	ip  [16]byte
}

func hostOf(a *event.NetAddr) hostKey { return hostKey{a.Family, a.IP} }

func (h hostKey) addr() netip.Addr {
	return addrOf(&event.NetAddr{Family: h.fam, IP: h.ip})
}

// svcKey is a remote port and its socket type (SOCK_STREAM for TCP,
// SOCK_DGRAM for UDP): type<<16 | port.
type svcKey uint32

func svcOf(ev *event.Event) svcKey {
	t := uint32(sockStream)
	if ev.Sysno == 17 {
		t = sockDgram
	}
	return svcKey(t<<16 | uint32(ev.Net.Port))
}

// probe is one failed outbound probe: 32 bytes.
type probe struct {
	t    int64
	host hostKey
	svc  svcKey
}

// scanState is a container's scan detector: a ring of the failed probes
// within the window (at most ProbeRoom of them; a full ring drops its
// oldest), and the distinct counts they give, kept as probes come and go
// so that a probe costs a few table operations, not a pass over the ring.
// Every table key stands for at least one probe in the ring, so the
// tables, made at the ring's room, never fill.
type scanState struct {
	ring    []probe // nil until the first probe
	head, n int
	// pairs counts the ring's probes per host and port; hostSvcs the
	// distinct ports per host; svcHosts the distinct hosts per port.
	pairs, hostSvcs, svcHosts counter
}

// add puts p in the ring, after dropping the probes at or before cutoff
// (and the oldest, when the ring is full), and returns the distinct ports
// of p's host and the distinct hosts on p's port now in the ring.
func (s *scanState) add(p probe, cutoff int64, room int) (ports, hosts int) {
	if s.ring == nil {
		s.ring = make([]probe, room)
		s.pairs, s.hostSvcs, s.svcHosts = newCounter(room), newCounter(room), newCounter(room)
	}
	s.expire(cutoff)
	if s.n == len(s.ring) {
		s.drop()
	}
	s.ring[(s.head+s.n)%len(s.ring)] = p
	s.n++
	h := p.host.hash()
	if s.pairs.inc(pairHash(h, p.svc)) == 1 {
		s.hostSvcs.inc(h)
		s.svcHosts.inc(uint64(p.svc))
	}
	return int(s.hostSvcs.get(h)), int(s.svcHosts.get(uint64(p.svc)))
}

// expire drops the probes at or before cutoff from the ring's head (probes
// arrive in time order, give or take the driver's reordering).
func (s *scanState) expire(cutoff int64) {
	for s.n > 0 && s.ring[s.head].t <= cutoff {
		s.drop()
	}
}

// drop removes the oldest probe.
func (s *scanState) drop() {
	p := s.ring[s.head]
	s.head = (s.head + 1) % len(s.ring)
	s.n--
	h := p.host.hash()
	if s.pairs.dec(pairHash(h, p.svc)) == 0 {
		s.hostSvcs.dec(h)
		s.svcHosts.dec(uint64(p.svc))
	}
}

// evidenceRoom bounds the items an evidence list names.
const evidenceRoom = 16

// ports lists the distinct ports of host in the ring, for evidence:
// "21, 22, 23/udp, ... (+5 more)".
func (s *scanState) ports(host hostKey) string {
	seen := map[svcKey]bool{}
	for i := range s.n {
		if p := &s.ring[(s.head+i)%len(s.ring)]; p.host == host {
			seen[p.svc] = true
		}
	}
	svcs := slices.Sorted(maps.Keys(seen))
	items := make([]string, 0, min(len(svcs), evidenceRoom))
	for _, v := range svcs[:min(len(svcs), evidenceRoom)] {
		it := strconv.Itoa(int(uint16(v)))
		if v>>16 == sockDgram {
			it += "/udp"
		}
		items = append(items, it)
	}
	return list(items, len(svcs))
}

// hosts lists the distinct hosts probed on svc in the ring, for evidence.
func (s *scanState) hosts(svc svcKey) string {
	seen := map[netip.Addr]bool{}
	for i := range s.n {
		if p := &s.ring[(s.head+i)%len(s.ring)]; p.svc == svc {
			seen[p.host.addr()] = true
		}
	}
	hosts := slices.SortedFunc(maps.Keys(seen), netip.Addr.Compare)
	items := make([]string, 0, min(len(hosts), evidenceRoom))
	for _, a := range hosts[:min(len(hosts), evidenceRoom)] {
		items = append(items, a.String())
	}
	return list(items, len(hosts))
}

func list(items []string, total int) string {
	s := strings.Join(items, ", ")
	if total > len(items) {
		s += " (+" + strconv.Itoa(total-len(items)) + " more)"
	}
	return s
}

// clone returns a deep copy.
func (s *scanState) clone() scanState {
	c := *s
	if s.ring != nil {
		c.ring = slices.Clone(s.ring)
		c.pairs, c.hostSvcs, c.svcHosts = s.pairs.clone(), s.hostSvcs.clone(), s.svcHosts.clone()
	}
	return c
}
