package policy

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// networkFull sets every key of the network section.
const networkFull = `version: 1
mode: enforce
default: allow
network:
  mode: observe
  egress:
    default: deny
    rules:
      - {name: dns, action: allow, protocol: udp, to: ['*:53']}
      - {action: deny, to: ['10.0.0.0/8:*', '[fd00::/8]:*']}
      - {action: allow, protocol: tcp, to: ['*:80', '*:443', '192.0.2.7:8000-8100']}
      - {action: allow, protocol: icmp, to: ['*']}
  scan: {ports: 30, hosts: 25, window: 10s}
  burst: {floor: 200, factor: 2.5}
  limits: {new_flows: 1000, hold: 2s}
  block_hold: 1m
`

func eps(t *testing.T, s ...string) []Endpoint {
	t.Helper()
	var out []Endpoint
	for _, e := range s {
		ep, err := ParseEndpoint(e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ep)
	}
	return out
}

func TestNetworkParse(t *testing.T) {
	const head = "version: 1\ndefault: allow\n"
	for _, tc := range []struct {
		name, src string
		want      Network
	}{
		{"absent", "", Network{}},
		{"empty", "network: {}\n", Network{}},
		{"empty parts", "network: {egress: {}, scan: {}, burst: {}, limits: {}}\n", Network{}},
		{"no rules", "network: {egress: {default: allow, rules: []}}\n", Network{}},
		{"full", strings.TrimPrefix(networkFull, "version: 1\nmode: enforce\ndefault: allow\n"), Network{
			Mode: AgentObserve,
			Egress: Egress{DefaultDeny: true, Rules: []EgressRule{
				{Name: "dns", Allow: true, Protocol: IPProtoUDP, To: eps(t, "*:53")},
				{To: eps(t, "10.0.0.0/8:*", "[fd00::/8]:*")},
				{Allow: true, Protocol: IPProtoTCP, To: eps(t, "*:80", "*:443", "192.0.2.7:8000-8100")},
				{Allow: true, Protocol: IPProtoICMP, To: eps(t, "*")},
			}},
			Scan:      NetworkScan{Ports: 30, Hosts: 25, Window: 10 * time.Second},
			Burst:     NetworkBurst{Floor: 200, Factor: 2.5},
			Limits:    NetworkLimits{NewFlows: 1000, Hold: 2 * time.Second},
			BlockHold: time.Minute,
		}},
		{"off", "network: {mode: off}\n", Network{Mode: AgentOff}},
		{"block rules", "network:\n  egress:\n    rules:\n      - action: deny\n        to:\n          - '*:25'\n        protocol: tcp\n",
			Network{Egress: Egress{Rules: []EgressRule{{Protocol: IPProtoTCP, To: eps(t, "*:25")}}}}},
		{"any protocol", "network: {egress: {rules: [{action: deny, protocol: any, to: ['*:25']}]}}\n",
			Network{Egress: Egress{Rules: []EgressRule{{To: eps(t, "*:25")}}}}},
		// A narrower rule before a wider one is fine; so is the same
		// endpoint for another protocol.
		{"narrow first", "network:\n  egress:\n    rules:\n      - {action: allow, to: ['10.1.0.0/16:*']}\n      - {action: deny, to: ['10.0.0.0/8:*']}\n      - {action: allow, protocol: tcp, to: ['*:53']}\n      - {action: allow, protocol: udp, to: ['*:53']}\n",
			Network{Egress: Egress{Rules: []EgressRule{{Allow: true, To: eps(t, "10.1.0.0/16:*")}, {To: eps(t, "10.0.0.0/8:*")},
				{Allow: true, Protocol: IPProtoTCP, To: eps(t, "*:53")}, {Allow: true, Protocol: IPProtoUDP, To: eps(t, "*:53")}}}}},
		{"no limit", "network: {limits: {new_flows: 0, hold: 1s}}\n", Network{Limits: NetworkLimits{Hold: time.Second}}},
		{"max", "network: {scan: {ports: 1024, hosts: 2, window: 10m}, burst: {floor: 4294967295, factor: 1000}, limits: {hold: 1h}, block_hold: 24h}\n",
			Network{Scan: NetworkScan{Ports: 1024, Hosts: 2, Window: 10 * time.Minute}, Burst: NetworkBurst{Floor: 1<<32 - 1, Factor: 1000},
				Limits: NetworkLimits{Hold: time.Hour}, BlockHold: 24 * time.Hour}},
	} {
		p, err := Parse("x.yaml", []byte(head+tc.src))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(p.Network, tc.want) {
			t.Errorf("%s: network = %+v\nwant %+v", tc.name, p.Network, tc.want)
		}
		if p.Network.IsZero() != reflect.DeepEqual(tc.want, Network{}) {
			t.Errorf("%s: IsZero = %v", tc.name, p.Network.IsZero())
		}
		// Marshal round-trips, and leaves an all-default section out.
		out, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse("x2.yaml", out)
		if err != nil {
			t.Errorf("%s: reparse: %v\n%s", tc.name, err, out)
			continue
		}
		if !p.Equal(q) || !reflect.DeepEqual(p.Network, q.Network) {
			t.Errorf("%s: round trip differs:\n%s", tc.name, out)
		}
		if has := strings.Contains(string(out), "network:"); has == p.Network.IsZero() {
			t.Errorf("%s: marshalled network section present = %v:\n%s", tc.name, has, out)
		}
	}
}

func TestNetworkMarshal(t *testing.T) {
	p, err := Parse("f.yaml", []byte(networkFull))
	if err != nil {
		t.Fatal(err)
	}
	if p.Lines.Network != 5 { // the section's first line
		t.Errorf("network at line %d", p.Lines.Network)
	}
	out, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	// The written section is the input's.
	if string(out) != networkFull {
		t.Errorf("marshal:\n%s\nwant:\n%s", out, networkFull)
	}
}

func TestNetworkEqual(t *testing.T) {
	parse := func(src string) *Policy {
		p, err := Parse("x.yaml", []byte("version: 1\ndefault: allow\n"+src))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := parse("")
	for _, src := range []string{
		"network: {mode: auto, block_hold: 30s}\n", // set to the default is not unset
		"network: {egress: {default: deny}}\n",
		"network: {egress: {rules: [{action: deny, to: ['*:25']}]}}\n",
		"network: {egress: {rules: [{action: deny, to: ['*:25'], name: smtp}]}}\n",
		"network: {limits: {new_flows: 5}}\n",
	} {
		if p := parse(src); p.Equal(base) || !p.Equal(parse(src)) {
			t.Errorf("%q: Equal wrong", src)
		}
	}
	a := parse("network: {egress: {rules: [{action: deny, to: ['*:25', '*:26']}]}}\n")
	b := parse("network: {egress: {rules: [{action: deny, to: ['*:26', '*:25']}]}}\n")
	if a.Equal(b) {
		t.Error("endpoint order is kept, so it counts")
	}
	c := a.Network.clone()
	c.Egress.Rules[0].To[0] = c.Egress.Rules[0].To[1]
	c.Egress.Rules = append(c.Egress.Rules, EgressRule{})
	if a.Network.Egress.Rules[0].To[0].String() != "*:25" || len(a.Network.Egress.Rules) != 1 {
		t.Error("clone aliases the rules")
	}
}

func TestNetworkErrors(t *testing.T) {
	const head = "version: 1\ndefault: allow\n"
	for _, tc := range []struct{ name, src, want string }{
		{"not a mapping", "network: on\n", `x.yaml:3: network must be a mapping`},
		{"unknown key", "network:\n  firewall: {}\n", `x.yaml:4: network: unknown key "firewall" (want one of mode, filter, egress, scan, burst, limits, block_hold)`},
		{"dup key", "network:\n  scan: {}\n  scan: {}\n", `x.yaml:5: network: duplicate key "scan" (first at line 4)`},
		{"bad mode", "network: {mode: strict}\n", `x.yaml:3: network.mode: unknown mode "strict" (want auto, off, learn, observe, enforce)`},

		{"egress list", "network:\n  egress: [a]\n", `x.yaml:4: network.egress must be a mapping`},
		{"egress key", "network:\n  egress: {rule: []}\n", `network.egress: unknown key "rule" (want one of default, rules)`},
		{"egress default", "network:\n  egress:\n    default: errno(EPERM)\n", `x.yaml:5: network.egress.default: unknown "errno(EPERM)" (want allow or deny)`},
		{"rules mapping", "network:\n  egress:\n    rules: {action: deny}\n", `x.yaml:5: network.egress.rules must be a list of {action, to, protocol}`},
		{"rule scalar", "network:\n  egress:\n    rules: [deny]\n", `x.yaml:5: network.egress.rules must be a mapping`},
		{"rule key", "network:\n  egress:\n    rules:\n      - {action: deny, to: ['*:1'], op: connect}\n", `x.yaml:6: network.egress.rules: unknown key "op" (want one of name, action, protocol, to)`},
		{"no action", "network:\n  egress:\n    rules:\n      - {to: ['*:1']}\n", `x.yaml:6: network.egress.rules: rule has no action (allow or deny)`},
		{"bad action", "network:\n  egress:\n    rules:\n      - {action: kill, to: ['*:1']}\n", `x.yaml:6: network.egress.rules.action: unknown "kill" (want allow or deny)`},
		{"no to", "network:\n  egress:\n    rules:\n      - {action: deny}\n", `x.yaml:6: network.egress.rules: rule has no to`},
		{"empty to", "network:\n  egress:\n    rules:\n      - {action: deny, to: []}\n", `x.yaml:6: network.egress.rules.to: empty list matches nothing`},
		{"to scalar", "network:\n  egress:\n    rules:\n      - {action: deny, to: '*:1'}\n", `network.egress.rules.to must be a list, as in [a, b]`},
		{"bad protocol", "network:\n  egress:\n    rules:\n      - {action: deny, to: ['*:1'], protocol: sctp}\n", `network.egress.rules.protocol: unknown "sctp" (want tcp, udp, icmp or any)`},
		{"bad endpoint", "network:\n  egress:\n    rules:\n      - action: deny\n        to:\n          - '*:1'\n          - 10.0.0.1\n", `x.yaml:9: network.egress.rules.to: "10.0.0.1": missing :PORT (use :* for any port)`},
		{"host bits", "network:\n  egress:\n    rules:\n      - {action: deny, to: ['10.0.0.1/8:*']}\n", `network.egress.rules.to: "10.0.0.1/8:*": prefix 10.0.0.1/8 has host bits set (did you mean 10.0.0.0/8?)`},
		{"unix", "network:\n  egress:\n    rules:\n      - {action: deny, to: ['unix:/run/x.sock']}\n", `x.yaml:6: network.egress.rules.to: "unix:/run/x.sock": egress rules name IP endpoints (HOST:PORTS, [IPv6]:PORTS, *:PORTS or *), not unix sockets`},
		{"abstract", "network:\n  egress:\n    rules:\n      - {action: deny, to: ['unix:@x']}\n", `not unix sockets`},
		{"port 0", "network:\n  egress:\n    rules:\n      - {action: deny, to: ['10.0.0.1:0']}\n", `x.yaml:6: network.egress.rules.to: "10.0.0.1:0": no flow goes to port 0 (use :* for every port)`},
		{"twice", "network:\n  egress:\n    rules:\n      - {action: deny, to: ['*:1', '*:2', '*:1']}\n", `x.yaml:6: network.egress.rules.to: "*:1" listed twice`},
		{"icmp port", "network:\n  egress:\n    rules:\n      - {action: deny, protocol: icmp, to: ['[2001:db8::1]:7']}\n", `x.yaml:6: network.egress.rules: "[2001:db8::1]:7": icmp has no ports; write [2001:db8::1]:*`},
		{"duplicate", "network:\n  egress:\n    rules:\n      - {action: deny, to: ['*:25']}\n      - {action: allow, to: ['*:25']}\n", `x.yaml:7: network.egress.rules: rule is unreachable: the rule at line 6 matches every flow it matches`},
		{"after catch-all", "network:\n  egress:\n    rules:\n      - {action: deny, to: ['*']}\n      - {action: allow, protocol: udp, to: ['*:53']}\n", `x.yaml:7: network.egress.rules: rule is unreachable: the rule at line 6`},
		{"covered by two", "network:\n  egress:\n    rules:\n      - {action: deny, to: ['10.0.0.0/8:*']}\n      - {action: deny, protocol: tcp, to: ['*:25']}\n      - {action: allow, protocol: tcp, to: ['10.1.2.3:80', '192.0.2.1:25']}\n", `x.yaml:8: network.egress.rules: rule is unreachable: the rules at lines 6, 7 match every flow it matches`},

		{"scan key", "network:\n  scan: {port: 3}\n", `network.scan: unknown key "port" (want one of ports, hosts, window)`},
		{"ports low", "network:\n  scan: {ports: 1}\n", `x.yaml:4: network.scan.ports: 1 not in [2, 1024]`},
		{"hosts high", "network:\n  scan: {hosts: 1025}\n", `network.scan.hosts: 1025 not in [2, 1024]`},
		{"window zero", "network:\n  scan: {window: 0s}\n", `network.scan.window: 0s is not positive`},
		{"window high", "network:\n  scan: {window: 11m}\n", `network.scan.window: 11m above 10m`},
		{"floor zero", "network:\n  burst: {floor: 0}\n", `network.burst.floor: 0 not in [1, 4294967295]`},
		{"factor low", "network:\n  burst: {factor: 0.5}\n", `network.burst.factor: 0.5 not in [1, 1000]`},
		{"burst key", "network:\n  burst: {peak: 5}\n", `network.burst: unknown key "peak" (want one of floor, factor)`},
		{"new_flows negative", "network:\n  limits: {new_flows: -1}\n", `network.limits.new_flows: want a non-negative integer, got "-1"`},
		{"hold word", "network:\n  limits: {hold: long}\n", `network.limits.hold: want a duration such as 10us, 250ms or 10s, got "long"`},
		{"hold high", "network:\n  limits: {hold: 2h}\n", `network.limits.hold: 2h above 1h`},
		{"block_hold high", "network:\n  block_hold: 25h\n", `x.yaml:4: network.block_hold: 25h above 24h`},
		{"block_hold list", "network:\n  block_hold: [1s]\n", `network.block_hold must be a single value`},
	} {
		_, err := Parse("x.yaml", []byte(head+tc.src))
		var perr *Error
		if err == nil || !errors.Is(err, ErrInvalid) || !errors.As(err, &perr) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want %q", tc.name, err, tc.want)
		}
	}
}

func TestEgressDecide(t *testing.T) {
	p, err := Parse("f.yaml", []byte(networkFull))
	if err != nil {
		t.Fatal(err)
	}
	e := &p.Network.Egress
	for _, tc := range []struct {
		proto uint8
		addr  string
		port  uint16
		allow bool
		rule  int
	}{
		{IPProtoUDP, "8.8.8.8", 53, true, 0},
		{IPProtoTCP, "8.8.8.8", 53, false, EgressDefault},
		{IPProtoUDP, "10.1.1.1", 53, true, 0},
		{IPProtoTCP, "10.1.1.1", 443, false, 1},
		{IPProtoTCP, "::ffff:10.1.1.1", 443, false, 1}, // mapped: as IPv4
		{IPProtoTCP, "fd12::1", 80, false, 1},
		{IPProtoTCP, "2001:db8::1", 443, true, 2},
		{IPProtoTCP, "192.0.2.7", 8050, true, 2},
		{IPProtoTCP, "192.0.2.7", 8101, false, EgressDefault},
		{IPProtoUDP, "192.0.2.7", 443, false, EgressDefault},
		// ICMP has no port: it matches ":*" endpoints only.
		{IPProtoICMP, "10.0.0.1", 0, false, 1},
		{IPProtoICMP, "192.0.2.1", 0, true, 3},
		{IPProtoICMPv6, "2001:db8::1", 0, true, 3},
		{132, "192.0.2.1", 0, false, EgressDefault}, // SCTP: no rule names it
		{IPProtoTCP, "127.0.0.1", 25, true, EgressLoopback},
		{IPProtoTCP, "::1", 25, true, EgressLoopback},
		{IPProtoTCP, "::ffff:127.0.0.2", 25, true, EgressLoopback},
	} {
		allow, rule := e.Decide(tc.proto, netip.MustParseAddr(tc.addr), tc.port)
		if allow != tc.allow || rule != tc.rule {
			t.Errorf("Decide(%d, %s, %d) = %v, %d; want %v, %d", tc.proto, tc.addr, tc.port, allow, rule, tc.allow, tc.rule)
		}
	}
	if allow, rule := (&Egress{}).Decide(IPProtoTCP, netip.MustParseAddr("1.1.1.1"), 1); !allow || rule != EgressDefault {
		t.Error("the zero Egress allows")
	}
	// What a packet filter gets.
	want := [][]IPEndpoint{
		{{Any: true, PortLo: 53, PortHi: 53}},
		{{Prefix: netip.MustParsePrefix("10.0.0.0/8"), PortHi: 65535}, {Prefix: netip.MustParsePrefix("fd00::/8"), PortHi: 65535}},
		{{Any: true, PortLo: 80, PortHi: 80}, {Any: true, PortLo: 443, PortHi: 443}, {Prefix: netip.MustParsePrefix("192.0.2.7/32"), PortLo: 8000, PortHi: 8100}},
		{{Any: true, PortHi: 65535}},
	}
	for i := range e.Rules {
		if got := e.Rules[i].Endpoints(); !reflect.DeepEqual(got, want[i]) {
			t.Errorf("rule %d: endpoints %+v, want %+v", i, got, want[i])
		}
	}
	if !want[3][0].AllPorts() || want[0][0].AllPorts() {
		t.Error("AllPorts")
	}
	if s := e.Rules[0].String(); s != `"dns": allow udp to *:53` {
		t.Errorf("String = %q", s)
	}
	if s := e.Rules[1].String(); s != `deny any to 10.0.0.0/8:*, [fd00::/8]:*` {
		t.Errorf("String = %q", s)
	}
	if _, ok := eps(t, "unix:/x")[0].IP(); ok {
		t.Error("a unix endpoint has no IP form")
	}
	if _, ok := (Endpoint{}).IP(); ok {
		t.Error("the zero endpoint has no IP form")
	}
	if EgressProtocolName(IPProtoICMPv6) != "" || EgressProtocolName(IPProtoICMP) != "icmp" {
		t.Error("EgressProtocolName")
	}
}

// FuzzNetwork is FuzzParse seeded with network sections: whatever Parse
// accepts marshals back to an equal policy.
func FuzzNetwork(f *testing.F) {
	f.Add([]byte(networkFull))
	f.Add([]byte("version: 1\ndefault: allow\nnetwork: {mode: off, egress: {rules: [{action: deny, protocol: icmp, to: ['[::1/128]:*']}]}}\n"))
	f.Add([]byte("version: 1\ndefault: allow\nnetwork: {limits: {hold: 1s}, scan: {window: 1.5s}, burst: {factor: 1.25}}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz", data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not match ErrInvalid: %v", err)
			}
			return
		}
		out, err := Marshal(p)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		q, err := Parse("fuzz2", out)
		if err != nil {
			t.Fatalf("reparse: %v\n%s", err, out)
		}
		if !p.Equal(q) || !reflect.DeepEqual(p.Network, q.Network) {
			t.Fatalf("round trip differs:\n%s", out)
		}
	})
}

func TestNetworkFilterOff(t *testing.T) {
	p, err := Parse("x.yaml", []byte("version: 1\nmode: enforce\ndefault: allow\nnetwork:\n  filter: off\n"))
	if err != nil || !p.Network.FilterOff || p.Network.IsZero() {
		t.Fatalf("filter: off: %v, %+v", err, p.Network)
	}
	out, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse("y.yaml", out)
	if err != nil || !q.Equal(p) {
		t.Errorf("round trip of %s: %v", out, err)
	}
	for _, bad := range []string{
		"network:\n  filter: maybe\n",
		"network:\n  filter: off\n  egress: {default: deny}\n",
	} {
		if _, err := Parse("x.yaml", []byte("version: 1\nmode: enforce\ndefault: allow\n"+bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
