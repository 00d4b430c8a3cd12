package policy

import (
	"errors"
	"net/netip"
	"testing"
)

// Byte fixtures of struct sockaddr_* as a Linux x86-64 caller lays them
// out: family little-endian, port in network order.
var (
	// sockaddr_in{AF_INET, htons(443), 10.1.2.3, zero[8]}
	sinFixture = []byte{0x02, 0x00, 0x01, 0xbb, 10, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0}
	// sockaddr_in6{AF_INET6, htons(8080), flowinfo 0, 2001:db8::1, scope 0}
	sin6Fixture = []byte{0x0a, 0x00, 0x1f, 0x90, 0, 0, 0, 0,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0, 0, 0, 0}
	// sockaddr_in6{AF_INET6, htons(53), 0, ::ffff:192.168.0.1, 0}
	sin6MappedFixture = []byte{0x0a, 0x00, 0x00, 0x35, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 0, 1,
		0, 0, 0, 0}
)

func unixFixture(path string, nul bool) []byte {
	b := append([]byte{0x01, 0x00}, path...)
	if nul {
		b = append(b, 0)
	}
	return b
}

func TestParseSockaddr(t *testing.T) {
	long := make([]byte, 111)
	long[0] = 1
	withPad := append(unixFixture("/run/x.sock", true), 'j', 'u', 'n', 'k')
	for _, tc := range []struct {
		name string
		b    []byte
		want Addr
		err  bool
	}{
		{name: "inet", b: sinFixture, want: Addr{Family: 2, IP: netip.MustParseAddr("10.1.2.3"), Port: 443}},
		{name: "inet short", b: sinFixture[:15], err: true},
		{name: "inet6", b: sin6Fixture, want: Addr{Family: 10, IP: netip.MustParseAddr("2001:db8::1"), Port: 8080}},
		{name: "inet6 without scope id", b: sin6Fixture[:24], want: Addr{Family: 10, IP: netip.MustParseAddr("2001:db8::1"), Port: 8080}},
		{name: "inet6 short", b: sin6Fixture[:23], err: true},
		{name: "inet6 mapped", b: sin6MappedFixture, want: Addr{Family: 10, IP: netip.MustParseAddr("192.168.0.1"), Port: 53}},
		{name: "unix path", b: unixFixture("/run/x.sock", true), want: Addr{Family: 1, Unix: "/run/x.sock"}},
		{name: "unix path without NUL", b: unixFixture("/run/x.sock", false), want: Addr{Family: 1, Unix: "/run/x.sock"}},
		{name: "unix path with bytes after the NUL", b: withPad, want: Addr{Family: 1, Unix: "/run/x.sock"}},
		{name: "unix relative", b: unixFixture("sock", true), want: Addr{Family: 1, Unix: "sock"}},
		{name: "unix abstract", b: unixFixture("\x00name", false), want: Addr{Family: 1, Unix: "name", Abstract: true}},
		{name: "unix abstract with NULs", b: unixFixture("\x00a\x00b", false), want: Addr{Family: 1, Unix: "a\x00b", Abstract: true}},
		{name: "unix abstract empty", b: unixFixture("\x00", false), want: Addr{Family: 1, Abstract: true}},
		{name: "unix unnamed", b: []byte{1, 0}, want: Addr{Family: 1}},
		{name: "unix too long", b: long, err: true},
		{name: "netlink", b: []byte{0x10, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, want: Addr{Family: 16}},
		{name: "unspec", b: []byte{0, 0}, want: Addr{}},
		{name: "empty", b: nil, err: true},
		{name: "one byte", b: []byte{2}, err: true},
	} {
		got, err := ParseSockaddr(tc.b)
		if tc.err {
			if err == nil || !errors.Is(err, ErrSockaddr) {
				t.Errorf("%s: err = %v; want an ErrSockaddr", tc.name, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: ParseSockaddr = %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
}

func TestParseSockaddrEndpoint(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want string
	}{
		{sinFixture, "10.1.2.3:443"},
		{sin6Fixture, "[2001:db8::1]:8080"},
		{sin6MappedFixture, "192.168.0.1:53"},
		{unixFixture("/run/x.sock", true), "unix:/run/x.sock"},
		{unixFixture("\x00name", false), "unix:@name"},
	} {
		a, err := ParseSockaddr(tc.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.Endpoint(); got != tc.want {
			t.Errorf("Endpoint() = %q; want %q", got, tc.want)
		}
		e, err := ParseEndpoint(tc.want)
		if err != nil || !e.Match(a) {
			t.Errorf("%q does not match its own address: %v", tc.want, err)
		}
	}
}

func FuzzParseSockaddr(f *testing.F) {
	f.Add(sinFixture)
	f.Add(sin6Fixture)
	f.Add(unixFixture("\x00name", false))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseSockaddr(b)
		if err != nil {
			if !errors.Is(err, ErrSockaddr) {
				t.Fatalf("error %v is not ErrSockaddr", err)
			}
			return
		}
		if ep := a.Endpoint(); ep != "" {
			if e, err := ParseEndpoint(ep); err == nil && !e.Match(a) {
				t.Fatalf("%q does not match %+v", ep, a)
			}
		}
	})
}
