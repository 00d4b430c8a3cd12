package policy

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Network is a policy's "network:" section (docs/policy.md, "The network
// section"): the egress rules the packet filter applies to the
// container's outbound flows, and the settings of the network agent
// (swarm/netguard). The zero value of every field means the default (no
// egress rule, every agent value at its default); Parse has checked every
// range against the agent's limits. netguard.ConfigFrom turns a section
// into the agent's configuration.
type Network struct {
	// Mode is the network agent's mode. It has no stability rule, so
	// auto follows the policy's mode (AgentMode.Resolve with stable
	// true); off does not run the agent (the egress rules still apply:
	// they are the packet filter's).
	Mode   AgentMode
	Egress Egress
	Scan   NetworkScan
	Burst  NetworkBurst
	Limits NetworkLimits
	// BlockHold is how long a carried block lasts after the last
	// decision that asked for it, positive, at most NetBlockHoldMax (0: 30s).
	BlockHold time.Duration
	// FilterOff ("filter: off") leaves the packet filter out of the
	// sandbox's network stack: no egress rules, no flow accounting, no
	// scan or burst detection, and none of the cost of gVisor's
	// connection tracking, which any filter table turns on. For
	// workloads that measure their loopback throughput and need no
	// packet path.
	FilterOff bool
}

// Egress is "network.egress": which outbound flows the packet filter lets
// out. Loopback flows (127.0.0.0/8, ::1) are never subject to it.
type Egress struct {
	// DefaultDeny refuses an outbound flow that no rule matches (the
	// default, false, lets it out).
	DefaultDeny bool
	// Rules are tried in order; the first that matches decides.
	Rules []EgressRule
}

// EgressRule is one egress rule: a flow of Protocol to one of the
// endpoints in To is allowed (Allow) or refused.
type EgressRule struct {
	// Name is optional, for people and evidence.
	Name  string
	Allow bool
	// Protocol is IPProtoAny, IPProtoTCP, IPProtoUDP or IPProtoICMP
	// (which also matches ICMPv6).
	Protocol uint8
	// To are IP endpoints (ParseEndpoint's IP forms and "*"), never unix
	// ones.
	To []Endpoint
}

// IP protocol numbers of egress rules and flows.
const (
	IPProtoAny    = 0 // an egress rule's "any"
	IPProtoICMP   = 1 // in an egress rule: ICMP and ICMPv6
	IPProtoTCP    = 6
	IPProtoUDP    = 17
	IPProtoICMPv6 = 58 // a flow's; rules say IPProtoICMP
)

// Results of Egress.Decide other than a rule's index.
const (
	// EgressDefault: no rule matched; the default decided.
	EgressDefault = -1
	// EgressLoopback: a loopback flow, never subject to the rules.
	EgressLoopback = -2
)

// The network agent's limits, copied from swarm/netguard (which imports
// this package, so this one cannot import it; a netguard test checks that
// both agree).
const (
	NetScanMax       = 1024             // netguard.MaxScanThreshold
	NetScanWindowMax = 10 * time.Minute // netguard.MaxScanWindow
	NetFactorMax     = 1000             // netguard.MaxBurstFactor
	NetBlockHoldMax  = 24 * time.Hour   // netguard.MaxBlockHold
	NetLimitHoldMax  = time.Hour        // netguard.MaxLimitHold
	netScanMin       = 2                // one port or host is no scan
	egressProtoAny   = "any"
)

var (
	networkKeys    = []string{"mode", "filter", "egress", "scan", "burst", "limits", "block_hold"}
	egressKeys     = []string{"default", "rules"}
	egressRuleKeys = []string{"name", "action", "protocol", "to"}
	netScanKeys    = []string{"ports", "hosts", "window"}
	netLimitsKeys  = []string{"new_flows", "hold"}
	// egressProtocols are the names of "protocol:", by number.
	egressProtocols = map[string]uint8{egressProtoAny: IPProtoAny, "tcp": IPProtoTCP, "udp": IPProtoUDP, "icmp": IPProtoICMP}
)

// NetworkScan configures the port-scan detector: ports distinct ports of
// one host, or hosts distinct hosts on one port, failing within window.
type NetworkScan struct {
	// Ports and Hosts are 2..NetScanMax (0: 20).
	Ports, Hosts int
	// Window is positive, at most NetScanWindowMax (0: 5s).
	Window time.Duration
}

// NetworkBurst configures the burst detector: new outbound flows per
// second per container above max(learnt peak * Factor, Floor).
type NetworkBurst struct {
	// Floor is at least 1 (0: 100).
	Floor uint32
	// Factor is 1..NetFactorMax (0: 4).
	Factor float64
}

// NetworkLimits is the operator's limit on new outbound flows, carried
// out without a quorum.
type NetworkLimits struct {
	// NewFlows is the most new outbound flows per second (0: no limit).
	NewFlows uint32
	// Hold is how long the block lasts, positive, at most NetLimitHoldMax
	// (0: 1s).
	Hold time.Duration
}

// IsZero reports whether the section says nothing. Marshal leaves such a
// section out.
func (n *Network) IsZero() bool {
	return n.Mode == AgentAuto && !n.Egress.DefaultDeny && len(n.Egress.Rules) == 0 &&
		n.Scan == (NetworkScan{}) && n.Burst == (NetworkBurst{}) && n.Limits == (NetworkLimits{}) &&
		n.BlockHold == 0 && !n.FilterOff
}

// clone returns a deep copy of n.
func (n *Network) clone() Network {
	c := *n
	c.Egress = n.Egress.Clone()
	return c
}

// Clone returns a deep copy of e (its rules and their endpoint lists).
func (e *Egress) Clone() Egress {
	c := Egress{DefaultDeny: e.DefaultDeny}
	for _, r := range e.Rules {
		r.To = slices.Clone(r.To)
		c.Rules = append(c.Rules, r)
	}
	return c
}

// IPEndpoint is an egress endpoint as a packet filter matches it: an
// address prefix (or any address of either family) and a port range.
type IPEndpoint struct {
	// Any is every IPv4 and IPv6 address; Prefix is then invalid.
	Any    bool
	Prefix netip.Prefix
	// PortLo..PortHi is the port range, both included; 0..65535 is "*".
	PortLo, PortHi uint16
}

// AllPorts reports whether the endpoint's ports are "*".
func (e IPEndpoint) AllPorts() bool { return e.PortLo == 0 && e.PortHi == math.MaxUint16 }

// IP returns the endpoint as an IPEndpoint; false for unix endpoints and
// the zero Endpoint. "*" is any address and port.
func (e Endpoint) IP() (IPEndpoint, bool) {
	switch {
	case e.text == "" || e.kind == epUnixPath || e.kind == epUnixName:
		return IPEndpoint{}, false
	case e.kind == epAny:
		return IPEndpoint{Any: true, PortHi: math.MaxUint16}, true
	}
	return IPEndpoint{Any: e.anyIP, Prefix: e.pfx, PortLo: e.lo, PortHi: e.hi}, true
}

// covers reports whether e matches every address and port f does.
func (e IPEndpoint) covers(f IPEndpoint) bool {
	if e.PortLo > f.PortLo || e.PortHi < f.PortHi {
		return false
	}
	switch {
	case e.Any:
		return true
	case f.Any:
		return false
	}
	return e.Prefix.Bits() <= f.Prefix.Bits() && e.Prefix.Contains(f.Prefix.Addr())
}

// Endpoints returns the rule's endpoints for a packet filter (unix ones,
// which Parse refuses, are left out).
func (r *EgressRule) Endpoints() []IPEndpoint {
	out := make([]IPEndpoint, 0, len(r.To))
	for _, e := range r.To {
		if ip, ok := e.IP(); ok {
			out = append(out, ip)
		}
	}
	return out
}

// Match reports whether a flow of IP protocol proto to addr:port matches
// the rule. Only TCP and UDP have ports: a flow of another protocol
// (ICMP) matches only endpoints whose ports are "*". IPv4-mapped IPv6
// addresses match as IPv4. It does not allocate.
func (r *EgressRule) Match(proto uint8, addr netip.Addr, port uint16) bool {
	switch r.Protocol {
	case IPProtoAny:
	case IPProtoICMP:
		if proto != IPProtoICMP && proto != IPProtoICMPv6 {
			return false
		}
	default:
		if proto != r.Protocol {
			return false
		}
	}
	ported := proto == IPProtoTCP || proto == IPProtoUDP
	addr = addr.Unmap().WithZone("")
	for _, e := range r.To {
		ip, ok := e.IP()
		switch {
		case !ok:
		case ported && (port < ip.PortLo || port > ip.PortHi):
		case !ported && !ip.AllPorts():
		case ip.Any || ip.Prefix.Contains(addr):
			return true
		}
	}
	return false
}

// String writes the rule for evidence: `deny tcp to 10.0.0.0/8:*, *:25`,
// with its name first when it has one.
func (r *EgressRule) String() string {
	var b strings.Builder
	if r.Name != "" {
		b.WriteString(strconv.Quote(r.Name) + ": ")
	}
	if r.Allow {
		b.WriteString("allow ")
	} else {
		b.WriteString("deny ")
	}
	b.WriteString(EgressProtocolName(r.Protocol) + " to ")
	for i, e := range r.To {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(e.String())
	}
	return b.String()
}

// EgressProtocolName returns a rule protocol's name: "any", "tcp", "udp"
// or "icmp" ("" for other numbers).
func EgressProtocolName(p uint8) string {
	switch p {
	case IPProtoAny:
		return egressProtoAny
	case IPProtoTCP:
		return "tcp"
	case IPProtoUDP:
		return "udp"
	case IPProtoICMP:
		return "icmp"
	}
	return ""
}

// Decide returns what the egress policy does with a flow of IP protocol
// proto to addr:port, and why: the index of the rule that matched,
// EgressDefault or EgressLoopback.
func (e *Egress) Decide(proto uint8, addr netip.Addr, port uint16) (allow bool, rule int) {
	if addr.Unmap().IsLoopback() {
		return true, EgressLoopback
	}
	for i := range e.Rules {
		if e.Rules[i].Match(proto, addr, port) {
			return e.Rules[i].Allow, i
		}
	}
	return !e.DefaultDeny, EgressDefault
}

func (p *parser) network(v *yaml.Node) (Network, error) {
	var n Network
	err := p.fields(v, "network", networkKeys, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "mode":
			n.Mode, err = p.agentMode(v, "network.mode")
		case "filter":
			var s string
			if s, err = p.scalar(v, "network.filter"); err == nil {
				switch s {
				case "on":
				case "off":
					n.FilterOff = true
				default:
					err = p.errf(v, "network.filter: unknown %q (want on or off)", s)
				}
			}
		case "egress":
			n.Egress, err = p.egress(v)
		case "scan":
			err = p.netScan(v, &n.Scan)
		case "burst":
			err = p.netBurst(v, &n.Burst)
		case "limits":
			err = p.netLimits(v, &n.Limits)
		case "block_hold":
			n.BlockHold, err = p.durationMax(v, "network.block_hold", NetBlockHoldMax)
		}
		return err
	})
	if err == nil && n.FilterOff && (n.Egress.DefaultDeny || len(n.Egress.Rules) > 0) {
		err = p.errf(v, "network.filter: off leaves no packet filter to apply network.egress; remove one of them")
	}
	return n, err
}

// durationMax is duration with an upper bound.
func (p *parser) durationMax(v *yaml.Node, what string, hi time.Duration) (time.Duration, error) {
	d, err := p.duration(v, what)
	if err == nil && d > hi {
		err = p.errf(v, "%s: %s above %s", what, v.Value, formatDuration(hi))
	}
	return d, err
}

func (p *parser) egress(v *yaml.Node) (Egress, error) {
	var e Egress
	err := p.fields(v, "network.egress", egressKeys, func(key string, k, v *yaml.Node) error {
		switch key {
		case "default":
			s, err := p.scalar(v, "network.egress.default")
			if err != nil {
				return err
			}
			if s != "allow" && s != "deny" {
				return p.errf(v, "network.egress.default: unknown %q (want allow or deny)", s)
			}
			e.DefaultDeny = s == "deny"
		case "rules":
			if v.Kind != yaml.SequenceNode {
				return p.errf(v, "network.egress.rules must be a list of {action, to, protocol}")
			}
			var lines []int
			for _, rn := range v.Content {
				r, err := p.egressRule(rn)
				if err != nil {
					return err
				}
				if err := p.reachable(rn, r, e.Rules, lines); err != nil {
					return err
				}
				e.Rules, lines = append(e.Rules, r), append(lines, rn.Line)
			}
		}
		return nil
	})
	return e, err
}

func (p *parser) egressRule(n *yaml.Node) (EgressRule, error) {
	const what = "network.egress.rules"
	var r EgressRule
	var haveAction bool
	err := p.fields(n, what, egressRuleKeys, func(key string, k, v *yaml.Node) error {
		w := what + "." + key
		if key == "to" {
			return p.egressTo(v, w, &r)
		}
		s, err := p.scalar(v, w)
		if err != nil {
			return err
		}
		switch key {
		case "name":
			r.Name = s
		case "action":
			if s != "allow" && s != "deny" {
				return p.errf(v, "%s: unknown %q (want allow or deny)", w, s)
			}
			r.Allow, haveAction = s == "allow", true
		case "protocol":
			proto, ok := egressProtocols[s]
			if !ok {
				return p.errf(v, "%s: unknown %q (want tcp, udp, icmp or any)", w, s)
			}
			r.Protocol = proto
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	switch {
	case !haveAction:
		return r, p.errf(n, "%s: rule has no action (allow or deny)", what)
	case len(r.To) == 0:
		return r, p.errf(n, "%s: rule has no to", what)
	}
	if r.Protocol == IPProtoICMP {
		for _, e := range r.To {
			if ip, _ := e.IP(); !ip.AllPorts() {
				i := strings.LastIndex(e.text, ":")
				return r, p.errf(n, "%s: %q: icmp has no ports; write %s:*", what, e.text, e.text[:i])
			}
		}
	}
	return r, nil
}

// egressTo decodes a rule's "to": IP endpoints without repeats.
func (p *parser) egressTo(v *yaml.Node, what string, r *EgressRule) error {
	vals, lines, err := p.list(v, what)
	if err != nil {
		return err
	}
	if len(vals) == 0 {
		return p.errf(v, "%s: empty list matches nothing", what)
	}
	for i, s := range vals {
		e, err := ParseEndpoint(s)
		if err != nil {
			return Errorf(p.file, lines[i], "%s: %v", what, err)
		}
		ip, ok := e.IP()
		if !ok {
			return Errorf(p.file, lines[i], "%s: %q: egress rules name IP endpoints (HOST:PORTS, [IPv6]:PORTS, *:PORTS or *), not unix sockets", what, s)
		}
		if ip.PortHi == 0 {
			// No flow goes to port 0; filters that read 0..0 as
			// "every port" would disagree with this one.
			return Errorf(p.file, lines[i], "%s: %q: no flow goes to port 0 (use :* for every port)", what, s)
		}
		if slices.Contains(vals[:i], s) {
			return Errorf(p.file, lines[i], "%s: %q listed twice", what, s)
		}
		r.To = append(r.To, e)
	}
	return nil
}

// reachable refuses a rule that the rules before it (at lines) always
// decide first: each of its endpoints is covered by an endpoint of an
// earlier rule whose protocol covers its own. (An endpoint covered only
// by several earlier endpoints together is not noticed.)
func (p *parser) reachable(n *yaml.Node, r EgressRule, before []EgressRule, lines []int) error {
	var by []string // the lines of the earlier rules that cover it
	for _, e := range r.To {
		ip, _ := e.IP()
		i := slices.IndexFunc(before, func(b EgressRule) bool {
			return (b.Protocol == IPProtoAny || b.Protocol == r.Protocol) &&
				slices.ContainsFunc(b.Endpoints(), func(o IPEndpoint) bool { return o.covers(ip) })
		})
		if i < 0 {
			return nil
		}
		if l := strconv.Itoa(lines[i]); !slices.Contains(by, l) {
			by = append(by, l)
		}
	}
	if len(by) == 1 {
		return p.errf(n, "network.egress.rules: rule is unreachable: the rule at line %s matches every flow it matches", by[0])
	}
	return p.errf(n, "network.egress.rules: rule is unreachable: the rules at lines %s match every flow it matches", strings.Join(by, ", "))
}

func (p *parser) netScan(n *yaml.Node, s *NetworkScan) error {
	const what = "network.scan"
	return p.fields(n, what, netScanKeys, func(key string, k, v *yaml.Node) error {
		w := what + "." + key
		var err error
		var i int64
		switch key {
		case "ports":
			i, err = p.intIn(v, w, netScanMin, NetScanMax)
			s.Ports = int(i)
		case "hosts":
			i, err = p.intIn(v, w, netScanMin, NetScanMax)
			s.Hosts = int(i)
		case "window":
			s.Window, err = p.durationMax(v, w, NetScanWindowMax)
		}
		return err
	})
}

func (p *parser) netBurst(n *yaml.Node, b *NetworkBurst) error {
	return p.floorFactor(n, "network.burst", &b.Floor, &b.Factor, NetFactorMax)
}

func (p *parser) netLimits(n *yaml.Node, l *NetworkLimits) error {
	const what = "network.limits"
	return p.fields(n, what, netLimitsKeys, func(key string, k, v *yaml.Node) error {
		w := what + "." + key
		var err error
		switch key {
		case "new_flows":
			var u uint64
			u, err = p.uintIn(v, w, 0, math.MaxUint32)
			l.NewFlows = uint32(u)
		case "hold":
			l.Hold, err = p.durationMax(v, w, NetLimitHoldMax)
		}
		return err
	})
}

// marshalNetwork writes the section's non-default values; nil when there
// are none.
func marshalNetwork(n *Network) *yaml.Node {
	if n.IsZero() {
		return nil
	}
	root := mapping(false)
	addMode(root, n.Mode)
	if n.FilterOff {
		add(root, "filter", scalar("off"))
	}
	if e := &n.Egress; e.DefaultDeny || len(e.Rules) > 0 {
		m := mapping(false)
		if e.DefaultDeny {
			add(m, "default", scalar("deny"))
		}
		if len(e.Rules) > 0 {
			rules := &yaml.Node{Kind: yaml.SequenceNode}
			for i := range e.Rules {
				rules.Content = append(rules.Content, marshalEgressRule(&e.Rules[i]))
			}
			add(m, "rules", rules)
		}
		add(root, "egress", m)
	}
	if s := &n.Scan; *s != (NetworkScan{}) {
		m := mapping(true)
		addInt(m, "ports", int64(s.Ports))
		addInt(m, "hosts", int64(s.Hosts))
		addDuration(m, "window", s.Window)
		add(root, "scan", m)
	}
	if b := &n.Burst; *b != (NetworkBurst{}) {
		add(root, "burst", marshalFloorFactor(b.Floor, b.Factor))
	}
	if l := &n.Limits; *l != (NetworkLimits{}) {
		m := mapping(true)
		addInt(m, "new_flows", int64(l.NewFlows))
		addDuration(m, "hold", l.Hold)
		add(root, "limits", m)
	}
	addDuration(root, "block_hold", n.BlockHold)
	return root
}

func marshalEgressRule(r *EgressRule) *yaml.Node {
	m := mapping(true)
	if r.Name != "" {
		add(m, "name", scalar(r.Name))
	}
	if r.Allow {
		add(m, "action", scalar("allow"))
	} else {
		add(m, "action", scalar("deny"))
	}
	if r.Protocol != IPProtoAny {
		add(m, "protocol", scalar(EgressProtocolName(r.Protocol)))
	}
	to := make([]string, len(r.To))
	for i, e := range r.To {
		to[i] = e.text
	}
	add(m, "to", flowList(to))
	return m
}
