package policy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// Sizes of the Linux x86-64 socket address structures.
const (
	sockaddrFamilyLen = 2   // sa_family_t
	sockaddrInLen     = 16  // struct sockaddr_in
	sockaddrIn6Len    = 24  // struct sockaddr_in6 without sin6_scope_id (SIN6_LEN_RFC2133), as Linux accepts
	sockaddrUnLen     = 110 // struct sockaddr_un
)

// ErrSockaddr is matched (errors.Is) by every error of ParseSockaddr.
var ErrSockaddr = errors.New("bad socket address")

// ParseSockaddr decodes a Linux x86-64 socket address as connect, bind and
// sendto receive it (the bytes the caller's addrlen covers):
//
//   - sockaddr_in: family (little-endian), port (network order), address;
//     at least 16 bytes, as Linux requires.
//   - sockaddr_in6: family, port, flowinfo, address, scope id (ignored); at
//     least 24 bytes. IPv4-mapped addresses (::ffff:a.b.c.d) are unmapped
//     to IPv4; Family stays AF_INET6.
//   - sockaddr_un: at most 110 bytes. Only the family: unnamed (Unix
//     empty). A leading NUL: abstract, the name is every byte after it
//     (addrlen decides where it ends, NULs included). Otherwise the path
//     up to the first NUL or the end.
//   - any other family: an Addr with only Family set.
//
// Input shorter than its family needs (or than the family itself) and an
// over-long sockaddr_un are errors matching ErrSockaddr; the kernel fails
// such a call with EINVAL.
func ParseSockaddr(b []byte) (Addr, error) {
	if len(b) < sockaddrFamilyLen {
		return Addr{}, fmt.Errorf("%w: %d bytes, too short for the family", ErrSockaddr, len(b))
	}
	a := Addr{Family: binary.LittleEndian.Uint16(b)}
	switch a.Family {
	case afInet:
		if len(b) < sockaddrInLen {
			return Addr{}, fmt.Errorf("%w: AF_INET address of %d bytes (want %d)", ErrSockaddr, len(b), sockaddrInLen)
		}
		a.Port = binary.BigEndian.Uint16(b[2:])
		a.IP = netip.AddrFrom4([4]byte(b[4:8]))
	case afInet6:
		if len(b) < sockaddrIn6Len {
			return Addr{}, fmt.Errorf("%w: AF_INET6 address of %d bytes (want %d)", ErrSockaddr, len(b), sockaddrIn6Len)
		}
		a.Port = binary.BigEndian.Uint16(b[2:])
		a.IP = netip.AddrFrom16([16]byte(b[8:24])).Unmap()
	case afUnix:
		if len(b) > sockaddrUnLen {
			return Addr{}, fmt.Errorf("%w: AF_UNIX address of %d bytes (at most %d)", ErrSockaddr, len(b), sockaddrUnLen)
		}
		p := b[sockaddrFamilyLen:]
		switch {
		case len(p) == 0:
			// Unnamed: bind autobinds, connect fails.
		case p[0] == 0:
			a.Abstract, a.Unix = true, string(p[1:])
		default:
			for i, c := range p {
				if c == 0 {
					p = p[:i]
					break
				}
			}
			a.Unix = string(p)
		}
	}
	return a, nil
}
