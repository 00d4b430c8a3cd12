// Package filter is the per-packet fast path of the sandbox's netstack: a
// stack.Matcher that gVisor's iptables run on every packet the container
// sends or receives, a lock-free flow table that accounts each flow, the
// egress rules and swarm blocks that decide new outbound flows, and the
// flow events (event.KindPacket: FlowNew, FlowRefused, FlowBlocked,
// FlowUpdate, FlowEnd) it pushes into a swarm ring. gVisor is not changed:
// sentry/ installs the tables Filter.Tables builds with
// s.IPTables().ReplaceTable(stack.FilterID, table, ipv6).
//
// # Paths
//
// Fast path (Match, on the netstack's goroutines): parse the 5-tuple,
// hash it, probe a fixed-size open-addressing table (atomics only), and
// for a known accepted flow bump its counters; a new flow is decided by
// the immutable policy (egress rules and blocks behind one atomic.Pointer),
// inserted and reported. No allocation, lock, map or logging; a full ring
// drops the event and counts it. Slow path (the swarm driver's
// goroutine): SetEgress and Block/Unblock publish a new policy by atomic
// swap; Sweep ends idle flows and reports long ones; Stats; Allows gives
// the syscall layer the verdict a connect() would get.
//
// # What is judged
//
// Egress rules judge a flow's opening packet when the container opens it
// (TCP SYN, the first UDP datagram, an ICMP echo request, the first
// packet of another protocol). Flows a remote opens (clients of a server
// in the container, a Docker-published port) are accepted, as are their
// replies; loopback flows (127.0.0.0/8, ::1, and the container's own
// addresses) are never refused; all are accounted. A block refuses new
// outbound flows and cuts existing ones to its target on their next
// packet. ICMP errors, neighbour discovery and other control messages,
// later IPv4 fragments and IGMP are accepted without a flow.
//
// A flow's key is seen from the container (local, remote), so both
// directions find it; bytes are transport payload bytes (what the
// application wrote or reads, retransmissions included), packets are as
// the stack sees them (a GSO segment counts once). Each packet is counted
// once per direction: the tables run the matcher at OUTPUT and INPUT
// only, which every packet of the container's sockets passes exactly once
// (a loopback packet passes both: once sent, once received).
//
// When the table has no room for a flow, its packets pass unaccounted
// (Stats.Misses) but are still judged: an outbound opening packet still
// meets the egress rules. UDP replies of an unaccounted inbound flow are
// then judged as openings too.
//
// # Known limits
//
//   - Packets that skip OUTPUT are not judged: raw sockets with
//     IP_HDRINCL (gVisor sends them from POSTROUTING) and AF_PACKET. Both
//     need CAP_NET_RAW, which runsc removes unless --net-raw.
//   - With CAP_NET_ADMIN and raw sockets (--net-raw), an application's
//     iptables (IPT_SO_SET_REPLACE) replaces these tables, and reading
//     them (IPT_SO_GET_ENTRIES, "iptables -L") panics the sentry: its
//     netfilter package can marshal only its own matcher and target
//     types. The syscall gate must refuse those socket options.
//   - The tables cannot be saved: gVisor's state package knows neither
//     Filter nor the refuse target, so a checkpoint fails while they are
//     installed. sentry/ must put the stack's previous filter tables back
//     before a checkpoint and install Tables again after it (and after a
//     restore).
//   - Installing any table turns on gVisor's connection tracking for every
//     packet; BenchmarkTCPThroughput measures it apart from the matcher.
//   - Egress changes apply to new flows (a connection is judged when it
//     opens), blocks to existing ones too. A TCP connection idle past
//     Options.TCPIdle is picked up again on its next packet without being
//     judged, its direction guessed from the ports.
//
// Imports: gVisor's pkg/tcpip (stack, header), pkg/state (state.go) and
// swarm/ (event, ring);
// never pkg/sentry, syscalls/, fs/ or sentry/ (scripts/check-imports.sh).
package filter
