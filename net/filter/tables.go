package filter

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Tables returns the IPv4 and IPv6 filter tables that run the filter, for
// IPTables().ReplaceTable(stack.FilterID, table, ipv6). Each builtin chain
// of the filter table is laid out as gVisor's own default is (rules,
// entry points, underflows, a final error rule), with:
//
//	INPUT:   [Filter → refuse] [accept]   packets delivered to the container
//	FORWARD: [accept]                      routed through it (runsc leaves forwarding off)
//	OUTPUT:  [Filter → refuse] [accept]   packets its sockets send, loopback included
//
// The filter table has no PREROUTING or POSTROUTING chain in gVisor (its
// CheckPrerouting and CheckPostrouting consult only the raw, mangle and
// NAT tables), and need not: every packet the container sends passes
// OUTPUT and every packet it receives passes INPUT, once each, which is
// what per-direction accounting wants. Judging at OUTPUT is also what lets
// a refusal fail fast: gVisor's reject targets panic at PREROUTING and
// POSTROUTING.
//
// The refuse target drops the packet; at OUTPUT, with Options.Stack, it
// first answers it as the remote would (see Options.Stack).
//
// Installing tables turns on gVisor's connection tracking for every
// packet of the stack, whatever the rules (a cost measured in the
// package's benchmarks).
func (f *Filter) Tables() (v4, v6 stack.Table) {
	var r4 stack.RejectIPv4WithHandler
	var r6 stack.RejectIPv6WithHandler
	if s := f.opts.Stack; s != nil {
		r4, _ = s.NetworkProtocolInstance(header.IPv4ProtocolNumber).(stack.RejectIPv4WithHandler)
		r6, _ = s.NetworkProtocolInstance(header.IPv6ProtocolNumber).(stack.RejectIPv6WithHandler)
	}
	target := &refuse{v4: r4, v6: r6}
	return f.table(stack.EmptyFilter4(), header.IPv4ProtocolNumber, target),
		f.table(stack.EmptyFilter6(), header.IPv6ProtocolNumber, target)
}

func (f *Filter) table(all stack.IPHeaderFilter, np tcpip.NetworkProtocolNumber, target stack.Target) stack.Table {
	ours := stack.Rule{Filter: all, Matchers: []stack.Matcher{f}, Target: target}
	accept := stack.Rule{Filter: all, Target: &stack.AcceptTarget{NetworkProtocol: np}}
	return stack.Table{
		Rules: []stack.Rule{
			ours,   // 0: INPUT
			accept, // 1: INPUT underflow
			accept, // 2: FORWARD and its underflow
			ours,   // 3: OUTPUT
			accept, // 4: OUTPUT underflow
			{Filter: all, Target: &stack.ErrorTarget{NetworkProtocol: np}},
		},
		BuiltinChains: [stack.NumHooks]int{
			stack.Prerouting:  stack.HookUnset,
			stack.Input:       0,
			stack.Forward:     2,
			stack.Output:      3,
			stack.Postrouting: stack.HookUnset,
		},
		Underflows: [stack.NumHooks]int{
			stack.Prerouting:  stack.HookUnset,
			stack.Input:       1,
			stack.Forward:     2,
			stack.Output:      4,
			stack.Postrouting: stack.HookUnset,
		},
	}
}

// refuse is the target of the filter's rules: it drops the packets Match
// refuses, answering those the container sends so that its socket learns
// at once. One target for every protocol keeps Match to one call per
// packet (a rule per reject kind would run it again for each).
//
// TCP gets a reset from the remote: connect() fails with ECONNREFUSED,
// an established connection that a block cuts with ECONNRESET. UDP gets
// an ICMP port unreachable: the connected socket's next call fails with
// ECONNREFUSED. Never ICMP for TCP: the error comes back to the stack
// synchronously (loopback delivery is inline), and gVisor's TCP handles
// it under the endpoint lock that the connect sending the SYN still
// holds, so the task deadlocks; a reset is queued to the endpoint's
// processor instead. (UDP's write path releases its lock before sending
// for this very reason.) ICMP echo and other protocols are just dropped:
// gVisor's ICMP sockets ignore errors.
type refuse struct {
	v4 stack.RejectIPv4WithHandler
	v6 stack.RejectIPv6WithHandler
}

// Action implements stack.Target.Action.
func (r *refuse) Action(pkt *stack.PacketBuffer, hook stack.Hook, _ *stack.Route, _ stack.AddressableEndpoint) (stack.RuleVerdict, int) {
	if hook != stack.Output {
		return stack.RuleDrop, 0
	}
	var how4 stack.RejectIPv4WithICMPType
	var how6 stack.RejectIPv6WithICMPType
	switch pkt.TransportProtocolNumber {
	case header.TCPProtocolNumber:
		how4, how6 = stack.RejectIPv4WithTCPReset, stack.RejectIPv6WithTCPReset
		// The reset is built from the packet's header, and gVisor skips it
		// for a packet whose checksum it cannot vouch for. One our own
		// stack just built is good (its checksum may be left to the NIC),
		// and it is dropped right after.
		pkt.RXChecksumValidated = true
	case header.UDPProtocolNumber:
		how4, how6 = stack.RejectIPv4WithICMPPortUnreachable, stack.RejectIPv6WithICMPPortUnreachable
	default:
		return stack.RuleDrop, 0
	}
	switch pkt.NetworkProtocolNumber {
	case header.IPv4ProtocolNumber:
		if r.v4 != nil {
			_ = r.v4.SendRejectionError(pkt, how4, false /* inputHook */)
		}
	case header.IPv6ProtocolNumber:
		if r.v6 != nil {
			_ = r.v6.SendRejectionError(pkt, how6, false /* inputHook */)
		}
	}
	return stack.RuleDrop, 0
}
