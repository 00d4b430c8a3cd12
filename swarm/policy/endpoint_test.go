package policy

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// legacyCheckEndpoint is CheckEndpoint as it was before ParseEndpoint
// existed: ParseEndpoint must accept and refuse exactly what it did, with
// the same messages.
func legacyCheckEndpoint(s string) error {
	if s == "*" {
		return nil
	}
	if rest, ok := strings.CutPrefix(s, "unix:"); ok {
		switch {
		case strings.HasPrefix(rest, "@") && len(rest) > 1:
			return nil
		case strings.HasPrefix(rest, "/"):
			return CheckGlob(rest)
		}
		return fmt.Errorf("%q: a unix endpoint is unix:/path or unix:@abstract", s)
	}
	var host, ports string
	if strings.HasPrefix(s, "[") {
		i := strings.Index(s, "]:")
		if i < 0 {
			return fmt.Errorf("%q: want [IPv6]:PORT", s)
		}
		host, ports = s[1:i], s[i+2:]
		if !strings.Contains(host, ":") {
			return fmt.Errorf("%q: brackets are for IPv6 addresses", s)
		}
	} else {
		i := strings.LastIndex(s, ":")
		if i < 0 {
			return fmt.Errorf("%q: missing :PORT (use :* for any port)", s)
		}
		host, ports = s[:i], s[i+1:]
		if strings.Contains(host, ":") {
			return fmt.Errorf("%q: write IPv6 addresses in brackets, as in [::1]:80", s)
		}
	}
	if host != "*" {
		if strings.Contains(host, "/") {
			pfx, err := netip.ParsePrefix(host)
			if err != nil {
				return fmt.Errorf("%q: bad address prefix %q", s, host)
			}
			if pfx.Masked() != pfx {
				return fmt.Errorf("%q: prefix %s has host bits set (did you mean %s?)", s, host, pfx.Masked())
			}
		} else if a, err := netip.ParseAddr(host); err != nil || a.Zone() != "" {
			return fmt.Errorf("%q: bad address %q", s, host)
		}
	}
	if ports == "*" {
		return nil
	}
	lo, hi, isRange := strings.Cut(ports, "-")
	l, err1 := strconv.ParseUint(lo, 10, 16)
	h := l
	var err2 error
	if isRange {
		h, err2 = strconv.ParseUint(hi, 10, 16)
	}
	if err1 != nil || err2 != nil || h < l {
		return fmt.Errorf("%q: bad port %q (want *, N or N-M with N <= M <= 65535)", s, ports)
	}
	return nil
}

var endpointCorpus = []string{
	"*", "*:*", "*:53", "*:80-90", "10.0.0.0/8:443", "10.0.0.1/8:443", "127.0.0.1:*", "0.0.0.0:80",
	"[::1]:80-90", "[fd00::/8]:*", "[::]:80-443", "[::ffff:10.0.0.0/104]:*", "[fe80::1%eth0]:80",
	"[10.0.0.1]:80", "::1:80", "[::1]80", "10.0.0.1", "10.0.0.1:", "10.0.0.1:x", "10.0.0.1:90-80",
	"10.0.0.1:65536", "10.0.0.1:-1", "10.0.0.300:80", "10.0.0.0/33:1", "host:80", "unix:/run/x.sock",
	"unix:/run/*.sock", "unix:/run/**", "unix:@name", "unix:@", "unix:", "unix:run/x", "unix:/a/../b",
	"unix:/a/b**", "unix:/a?", "", ":", ":80", "*:", "[]:80", "[::1]:",
}

func TestParseEndpointErrors(t *testing.T) {
	for _, s := range endpointCorpus {
		_, err := ParseEndpoint(s)
		want := legacyCheckEndpoint(s)
		if fmt.Sprint(err) != fmt.Sprint(want) {
			t.Errorf("ParseEndpoint(%q) error = %v; CheckEndpoint said %v", s, err, want)
		}
		if err == nil && fmt.Sprint(CheckEndpoint(s)) != "<nil>" {
			t.Errorf("CheckEndpoint(%q) differs from ParseEndpoint", s)
		}
	}
}

func FuzzParseEndpoint(f *testing.F) {
	for _, s := range endpointCorpus {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEndpoint(s)
		if want := legacyCheckEndpoint(s); fmt.Sprint(err) != fmt.Sprint(want) {
			t.Fatalf("ParseEndpoint(%q) error = %v; want %v", s, err, want)
		}
		if err == nil && e.String() != s {
			t.Fatalf("String() = %q; want %q", e.String(), s)
		}
	})
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestEndpointMatch(t *testing.T) {
	v4 := func(s string, port uint16) Addr { return Addr{Family: afInet, IP: ip(s), Port: port} }
	v6 := func(s string, port uint16) Addr { return Addr{Family: afInet6, IP: ip(s), Port: port} }
	path := func(p string) Addr { return Addr{Family: afUnix, Unix: p} }
	abstract := func(n string) Addr { return Addr{Family: afUnix, Unix: n, Abstract: true} }
	mapped := v6("::ffff:10.1.2.3", 443)
	mapped.IP = ip("::ffff:10.1.2.3") // not unmapped: Match unmaps
	for _, tc := range []struct {
		ep   string
		addr Addr
		want bool
	}{
		{"*", v4("1.2.3.4", 1), true},
		{"*", v6("::1", 1), true},
		{"*", path("/run/x.sock"), true},
		{"*", abstract("x"), true},
		{"*", Addr{Family: afUnix}, true},     // unnamed
		{"*", Addr{Family: 16}, true},         // AF_NETLINK
		{"*", Addr{}, false},                  // no address at all
		{"*:*", Addr{}, false},                // no address at all
		{"*:53", v4("8.8.8.8", 53), true},     // any IPv4
		{"*:53", v6("2001:db8::1", 53), true}, // any IPv6
		{"*:53", v4("8.8.8.8", 54), false},
		{"*:53", path("/run/x.sock"), false},
		{"*:*", Addr{Family: afInet}, false}, // no IP
		{"*:80-90", v4("1.1.1.1", 80), true},
		{"*:80-90", v4("1.1.1.1", 90), true},
		{"*:80-90", v4("1.1.1.1", 91), false},
		{"*:80-90", v4("1.1.1.1", 79), false},
		{"10.0.0.0/8:443", v4("10.1.2.3", 443), true},
		{"10.0.0.0/8:443", v4("11.1.2.3", 443), false},
		{"10.0.0.0/8:443", v4("10.1.2.3", 80), false},
		{"10.0.0.0/8:443", mapped, true}, // IPv4-mapped on an AF_INET6 socket
		{"10.0.0.0/8:443", v6("2001:db8::1", 443), false},
		{"127.0.0.1:*", v4("127.0.0.1", 65535), true},
		{"127.0.0.1:*", v4("127.0.0.2", 1), false},
		{"0.0.0.0:80", v4("0.0.0.0", 80), true},
		{"0.0.0.0:80", v4("1.2.3.4", 80), false},
		{"[::1]:80-90", v6("::1", 85), true},
		{"[::1]:80-90", v4("127.0.0.1", 85), false},
		{"[fd00::/8]:*", v6("fd12::5", 1), true},
		{"[fd00::/8]:*", v6("fe80::5", 1), false},
		{"[fd00::/8]:*", Addr{Family: afInet6, IP: ip("fd12::5%eth0"), Port: 1}, true}, // zone ignored
		{"[::ffff:10.0.0.0/104]:*", v4("10.9.9.9", 7), true},
		{"[::ffff:10.0.0.1]:7", v4("10.0.0.1", 7), true},
		{"[::]:80-443", v6("::", 443), true},
		{"unix:/run/x.sock", path("/run/x.sock"), true},
		{"unix:/run/x.sock", path("/run/y.sock"), false},
		{"unix:/run/x.sock", abstract("/run/x.sock"), false},
		{"unix:/run/*.sock", path("/run/y.sock"), true},
		{"unix:/run/**", path("/run/a/b"), true},
		{"unix:/run/**", path("run/a"), false}, // relative: not resolved here
		{"unix:/run/**", v4("1.2.3.4", 1), false},
		{"unix:@name", abstract("name"), true},
		{"unix:@name", abstract("name2"), false},
		{"unix:@name", path("name"), false},
		{"unix:@name", Addr{Family: afUnix}, false},
	} {
		e, err := ParseEndpoint(tc.ep)
		if err != nil {
			t.Fatalf("ParseEndpoint(%q): %v", tc.ep, err)
		}
		if got := e.Match(tc.addr); got != tc.want {
			t.Errorf("%q.Match(%+v) = %v; want %v", tc.ep, tc.addr, got, tc.want)
		}
	}
	if (Endpoint{}).Match(Addr{Family: afInet, IP: ip("1.2.3.4")}) {
		t.Error("the zero Endpoint matches")
	}
}

func TestAddrEndpoint(t *testing.T) {
	for _, tc := range []struct {
		addr Addr
		want string
	}{
		{Addr{Family: afInet, IP: ip("10.0.0.1"), Port: 80}, "10.0.0.1:80"},
		{Addr{Family: afInet6, IP: ip("::1"), Port: 443}, "[::1]:443"},
		{Addr{Family: afInet6, IP: ip("::ffff:10.0.0.1"), Port: 443}, "10.0.0.1:443"},
		{Addr{Family: afInet6, IP: ip("fe80::1%eth0"), Port: 22}, "[fe80::1]:22"},
		{Addr{Family: afInet, IP: ip("0.0.0.0"), Port: 0}, "0.0.0.0:0"},
		{Addr{Family: afUnix, Unix: "/run/x.sock"}, "unix:/run/x.sock"},
		{Addr{Family: afUnix, Unix: "name", Abstract: true}, "unix:@name"},
		{Addr{Family: afUnix}, ""},
		{Addr{Family: afUnix, Unix: "@x"}, ""}, // relative, not abstract
		{Addr{Family: afUnix, Abstract: true}, ""},
		{Addr{Family: afInet, Port: 80}, ""},
		{Addr{Family: 16}, ""},
		{Addr{}, ""},
	} {
		got := tc.addr.Endpoint()
		if got != tc.want {
			t.Errorf("%+v.Endpoint() = %q; want %q", tc.addr, got, tc.want)
			continue
		}
		if got == "" {
			continue
		}
		e, err := ParseEndpoint(got)
		if err != nil || !e.Match(tc.addr) {
			t.Errorf("%q does not round-trip: err %v, match %v", got, err, err == nil && e.Match(tc.addr))
		}
	}
}

func TestEndpointMatchAllocs(t *testing.T) {
	eps := []string{"*", "*:53", "10.0.0.0/8:443", "[fd00::/8]:*", "unix:/run/**", "unix:@name"}
	var compiled []Endpoint
	for _, s := range eps {
		e, _ := ParseEndpoint(s)
		compiled = append(compiled, e)
	}
	addrs := []Addr{{Family: afInet, IP: ip("10.1.1.1"), Port: 443}, {Family: afInet6, IP: ip("fd00::1"), Port: 1},
		{Family: afUnix, Unix: "/run/a/b"}, {Family: afUnix, Unix: "name", Abstract: true}}
	n := testing.AllocsPerRun(100, func() {
		for _, e := range compiled {
			for _, a := range addrs {
				e.Match(a)
			}
		}
	})
	if n != 0 {
		t.Fatalf("Endpoint.Match allocates: %v", n)
	}
}

func TestCompiledGlob(t *testing.T) {
	globs := []string{"/", "/**", "/*", "/etc/shadow", "/etc/*", "/etc/**", "/root/**", "/home/*/.ssh/**",
		"/**/*.so", "/usr/bin/*", "/a/**/b", "/a/**/**/b", "/a/*/c/**", "/tmp/**", "/x*y/z"}
	names := []string{"/", "/etc", "/etc/", "/etc/shadow", "/etc/shadow/x", "/etc/passwd", "/etc/ssl/certs",
		"/root", "/root/a/b/c", "/home/u/.ssh", "/home/u/.ssh/id_rsa", "/home/u/x/.ssh/id_rsa",
		"/usr/lib/libc.so", "/libc.so", "/usr/bin/../../etc/x", "/usr/bin/ls", "/a/b", "/a/x/b", "/a/x/y/b",
		"/a/b/c", "/a/q/c", "/a/q/c/d", "/tmp", "/tmp/x/y", "/xay/z", "/xy/z", "relative", "", "//etc//shadow"}
	for _, g := range globs {
		c, err := CompileGlob(g)
		if err != nil {
			t.Fatalf("CompileGlob(%q): %v", g, err)
		}
		for _, n := range names {
			if got, want := c.Match(n), MatchGlob(g, n); got != want {
				t.Errorf("Glob(%q).Match(%q) = %v; MatchGlob says %v", g, n, got, want)
			}
		}
	}
	if _, err := CompileGlob("etc/x"); err == nil {
		t.Error("CompileGlob accepts a relative glob")
	}
	if (Glob{}).Match("/") {
		t.Error("the zero Glob matches")
	}
}

func FuzzCompiledGlob(f *testing.F) {
	f.Add("/a/**/b", "/a/x/b")
	f.Add("/**", "/")
	f.Add("/*", "/x/")
	f.Fuzz(func(t *testing.T, g, name string) {
		c, err := CompileGlob(g)
		if err != nil {
			return
		}
		if got, want := c.Match(name), MatchGlob(g, name); got != want {
			t.Fatalf("Glob(%q).Match(%q) = %v; MatchGlob says %v", g, name, got, want)
		}
	})
}

func TestLiteralPrefixAndAncestors(t *testing.T) {
	for g, want := range map[string]string{"/etc/shadow": "/etc/shadow", "/etc/ssh/**": "/etc/ssh",
		"/home/*/.ssh/**": "/home", "/**": "/", "/": "/", "/var/*.log": "/var"} {
		c, _ := CompileGlob(g)
		if got := c.LiteralPrefix(); got != want {
			t.Errorf("LiteralPrefix(%q) = %q; want %q", g, got, want)
		}
	}
	for _, tc := range []struct {
		dir, p string
		want   bool
	}{
		{"/", "/etc", true}, {"/", "/", true}, {"/etc", "/etc/shadow", true}, {"/etc", "/etc", true},
		{"/etc", "/etcd/x", false}, {"/etc/ssh", "/etc", false}, {"/etc", "etc/x", false},
	} {
		if got := IsAncestorOrSelf(tc.dir, tc.p); got != tc.want {
			t.Errorf("IsAncestorOrSelf(%q, %q) = %v", tc.dir, tc.p, got)
		}
	}
}

func TestErrnoName(t *testing.T) {
	for n, want := range map[uint16]string{1: "EPERM", 2: "ENOENT", 11: "EAGAIN", 13: "EACCES", 35: "EDEADLK", 95: "EOPNOTSUPP", 111: "ECONNREFUSED"} {
		if got, ok := ErrnoName(n); !ok || got != want {
			t.Errorf("ErrnoName(%d) = %q, %v; want %q", n, got, ok, want)
		}
	}
	if _, ok := ErrnoName(0); ok {
		t.Error("ErrnoName(0) has a name")
	}
	for name, n := range errnoTable {
		got, _ := ErrnoName(n)
		if back, _ := ErrnoNumber(got); back != n {
			t.Errorf("ErrnoName(%d) = %q (of %s) does not map back", n, got, name)
		}
	}
}
