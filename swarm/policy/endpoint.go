package policy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Address families of Addr (Linux values).
const (
	afUnix  = 1
	afInet  = 2
	afInet6 = 10
)

type endpointKind uint8

const (
	epAny      endpointKind = iota // "*"
	epIP                           // "HOST:PORTS", "[HOST]:PORTS", "*:PORTS"
	epUnixPath                     // "unix:/glob"
	epUnixName                     // "unix:@name"
)

// Endpoint is a net rule endpoint (see NetRule) compiled for matching:
// addresses and prefixes parsed, port ranges resolved, unix globs compiled.
// Build it with ParseEndpoint.
type Endpoint struct {
	text   string
	kind   endpointKind
	anyIP  bool         // epIP with host "*"
	pfx    netip.Prefix // epIP otherwise; a single address is a full-length prefix
	lo, hi uint16       // epIP: port range
	glob   Glob         // epUnixPath
	name   string       // epUnixName
}

// String returns the endpoint as written.
func (e Endpoint) String() string { return e.text }

// ParseEndpoint parses and compiles a net rule endpoint, one of
//
//	IPv4[/BITS]:PORTS     an IPv4 address or prefix
//	[IPv6[/BITS]]:PORTS   an IPv6 address or prefix
//	"*":PORTS             any IPv4 or IPv6 address
//	unix:/GLOB            an AF_UNIX path (a path glob)
//	unix:@NAME            an abstract AF_UNIX name, exactly
//	"*"                   any address
//
// (the quotes only for this comment) where PORTS is "*", "N" or "N-M". Its
// errors are those CheckEndpoint reports.
func ParseEndpoint(s string) (Endpoint, error) {
	e := Endpoint{text: s}
	if s == "*" {
		return e, nil
	}
	if rest, ok := strings.CutPrefix(s, "unix:"); ok {
		switch {
		case strings.HasPrefix(rest, "@") && len(rest) > 1:
			e.kind, e.name = epUnixName, rest[1:] // abstract socket name
			return e, nil
		case strings.HasPrefix(rest, "/"):
			g, err := CompileGlob(rest)
			if err != nil {
				return Endpoint{}, err
			}
			e.kind, e.glob = epUnixPath, g
			return e, nil
		}
		return Endpoint{}, fmt.Errorf("%q: a unix endpoint is unix:/path or unix:@abstract", s)
	}
	e.kind = epIP
	var host, ports string
	if strings.HasPrefix(s, "[") {
		i := strings.Index(s, "]:")
		if i < 0 {
			return Endpoint{}, fmt.Errorf("%q: want [IPv6]:PORT", s)
		}
		host, ports = s[1:i], s[i+2:]
		if !strings.Contains(host, ":") {
			return Endpoint{}, fmt.Errorf("%q: brackets are for IPv6 addresses", s)
		}
	} else {
		i := strings.LastIndex(s, ":")
		if i < 0 {
			return Endpoint{}, fmt.Errorf("%q: missing :PORT (use :* for any port)", s)
		}
		host, ports = s[:i], s[i+1:]
		if strings.Contains(host, ":") {
			return Endpoint{}, fmt.Errorf("%q: write IPv6 addresses in brackets, as in [::1]:80", s)
		}
	}
	if host == "*" {
		e.anyIP = true
	} else if strings.Contains(host, "/") {
		pfx, err := netip.ParsePrefix(host)
		if err != nil {
			return Endpoint{}, fmt.Errorf("%q: bad address prefix %q", s, host)
		}
		if pfx.Masked() != pfx {
			return Endpoint{}, fmt.Errorf("%q: prefix %s has host bits set (did you mean %s?)", s, host, pfx.Masked())
		}
		e.pfx = unmapPrefix(pfx)
	} else {
		a, err := netip.ParseAddr(host)
		if err != nil || a.Zone() != "" {
			return Endpoint{}, fmt.Errorf("%q: bad address %q", s, host)
		}
		e.pfx = unmapPrefix(netip.PrefixFrom(a, a.BitLen()))
	}
	if ports == "*" {
		e.lo, e.hi = 0, 65535
		return e, nil
	}
	lo, hi, isRange := strings.Cut(ports, "-")
	l, err1 := strconv.ParseUint(lo, 10, 16)
	h := l
	var err2 error
	if isRange {
		h, err2 = strconv.ParseUint(hi, 10, 16)
	}
	if err1 != nil || err2 != nil || h < l {
		return Endpoint{}, fmt.Errorf("%q: bad port %q (want *, N or N-M with N <= M <= 65535)", s, ports)
	}
	e.lo, e.hi = uint16(l), uint16(h)
	return e, nil
}

// unmapPrefix turns an IPv4-mapped IPv6 prefix (::ffff:10.0.0.0/104) into
// the IPv4 prefix it covers, since addresses are matched unmapped.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// Match reports whether the endpoint matches the address a. An Addr
// without a family (a call that names no address) matches nothing, not
// even "*". "*" matches every other address, of any family. IP endpoints
// match AF_INET and AF_INET6 addresses (IPv4-mapped IPv6 addresses as
// IPv4); unix:/GLOB matches AF_UNIX path addresses (absolute paths only:
// the caller resolves relative ones), unix:@NAME the abstract address of
// exactly that name. It does not allocate.
func (e Endpoint) Match(a Addr) bool {
	if a.Family == 0 || e.text == "" {
		return false
	}
	switch e.kind {
	case epAny:
		return true
	case epIP:
		if (a.Family != afInet && a.Family != afInet6) || !a.IP.IsValid() || a.Port < e.lo || a.Port > e.hi {
			return false
		}
		return e.anyIP || e.pfx.Contains(a.IP.Unmap().WithZone(""))
	case epUnixPath:
		return a.Family == afUnix && !a.Abstract && a.Unix != "" && e.glob.Match(a.Unix)
	case epUnixName:
		return a.Family == afUnix && a.Abstract && a.Unix == e.name
	}
	return false
}

// Endpoint writes the address in endpoint syntax: "10.0.0.1:80",
// "[::1]:443", "unix:/run/x.sock", "unix:@name". IPv4-mapped IPv6
// addresses are written as IPv4, zones are dropped. The result parses with
// ParseEndpoint and matches a (for a unix path, when the path is a valid
// glob: clean, without ?, [ and the like). It returns "" when there is
// nothing to write: no family, an unnamed unix address, a relative unix
// path (the caller resolves it against the working directory first),
// another family, or an IP family without an address.
func (a Addr) Endpoint() string {
	switch a.Family {
	case afInet, afInet6:
		if !a.IP.IsValid() {
			return ""
		}
		return netip.AddrPortFrom(a.IP.Unmap().WithZone(""), a.Port).String()
	case afUnix:
		switch {
		case a.Unix == "":
			return ""
		case a.Abstract:
			return "unix:@" + a.Unix
		case !strings.HasPrefix(a.Unix, "/"):
			return "" // relative: resolve it first; "unix:@x" would read as abstract
		}
		return "unix:" + a.Unix
	}
	return ""
}
