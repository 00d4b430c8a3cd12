// Package netguard is the swarm's network agent: it reads the flow events
// of the sandbox's packet filter (event.KindPacket), keeps per-container
// flow accounting for "swarm status", and votes to block remotes that a
// container scans, floods or was refused by its egress policy.
//
// The packet filter (net/) decides each packet on its own: egress rules
// and the blocks the swarm asked for. This agent sees what the filter
// reports about flows and answers with decisions about the container as a
// whole (PID 0, TID 0): agent.ActDeny with Decision.Remote naming what to
// block, which the sentry turns into a block in the filter for Hold(d)
// once the quorum carries it.
//
// # Decisions
//
// Decision.Remote is one of
//
//	Family+IP, Port 0      every port of a host ("10.0.0.5:*")
//	Family+IP, Port        one port of a host ("tcp 10.0.0.5:22")
//	Family 0, Port         a port on every host ("tcp *:22")
//	Family 0, Port 0       every remote ("*")
//
// and Remote.Protocol, when not 0, narrows it to that socket type's flows
// (SOCK_STREAM for TCP, SOCK_DGRAM for UDP, SOCK_RAW for the rest, as in
// the events). FormatRemote writes it as shown. A block stops new outbound
// flows only; flows already open, inbound flows and loopback are not its
// business.
//
// The agent's detectors decide under names of their own, so that the
// quorum (package quorum) counts each as a voter:
//
//   - egress: every outbound FlowRefused votes to block the refused
//     host:port. The filter has already refused the flow; the vote is
//     evidence that the container keeps trying what its policy forbids.
//     Evidence names the rule that refused it, from the copy of the
//     egress rules in Config.Egress ("egress rule 2: deny tcp to
//     10.0.0.0/8:*", "egress default: deny").
//   - scan: failed outbound probes to ScanPorts distinct ports of one
//     host within ScanWindow (a vertical scan) vote to block the host;
//     to one port on ScanHosts distinct hosts (a horizontal scan, a
//     worm) to block that port on every host. Evidence lists the ports
//     or hosts seen (at most 16, then "+N more").
//   - burst: new outbound flows (FlowNew, FlowRefused, FlowBlocked of a
//     first packet) per second per container above
//     max(ceil(peak*BurstFactor), BurstFloor) vote to block every new
//     outbound flow. Learn mode learns the peak: the most new outbound
//     flows the container opened within one second (Peak, SetPeak for
//     the host's long memory). The decision asks for no delay: the
//     network agent's decisions are about the container, and a delay
//     holds tasks.
//   - netlimit: new outbound flows per second above the operator's
//     Config.Limit block every new outbound flow for LimitHold. Such a
//     decision has Limit set: the quorum carries it without votes.
//
// A probe is failed when the filter refused its first packet
// (FlowRefused: the egress policy; FlowBlocked: a swarm block; not the
// FlowBlocked of an open flow a new block cuts, which has an age or
// answers), or when it ended unanswered: a TCP
// flow whose SYN got no SYN-ACK (reset by the remote, or expired idle
// with only TCPSynOut), a UDP flow that got no packet back. Only failed
// probes count, not every new flow: a crawler, a service mesh or a client
// of many backends legitimately opens flows to dozens of hosts on one
// port, or to many ports of one host, within seconds, but those flows are
// answered; a scanner's are mostly not (closed ports reset, filtered ones
// and absent hosts stay silent). The cost is latency: a probe counts when
// the filter ends its flow, which with net/filter's defaults is 10s after
// a reset (ClosedIdle) and 60s after the last SYN retransmission of an
// unanswered opening (Idle). The probes keep their spacing, so a scan is
// still seen, late; a shorter Idle for unanswered TCP openings would make
// it prompt. Refusals count at once. Counts are of distinct
// ports and hosts, so the same probe reported twice (a refusal and then
// its end) counts once. ICMP is not counted: a ping sweep is recon, but a
// block of ICMP on every host cannot be told from "every remote" by a
// filter that ignores Remote.Protocol.
//
// Inbound flows (FlagInbound: a client of a server in the container)
// never count towards a scan, a burst or a limit: a server under load
// opens thousands a second, and they are not the container's doing.
// Loopback flows (127.0.0.0/8, ::1) do not either: they stay inside the
// sandbox, a local service without connection pooling sees thousands a
// second, and the egress rules never apply to them. Both are accounted.
//
// Modes (per container, Config.Mode, SetMode): learn learns the burst
// peak and decides nothing; observe appends ActRecord decisions whose
// Reason says what enforce would do ("observe: would block 10.0.0.5:*
// for 30s: vertical scan: ..."); enforce appends the votes. The scan and
// egress detectors have nothing to learn: they judge from the start.
//
// Folding: the same decision (detector, container, Remote, action) is made
// at most once a second, so a long scan or a steady refusal is voted on
// once a second, which keeps its block alive; and a container gets at most
// FoldRoom (64) decisions a second, so a flood of refusals to distinct
// remotes costs the swarm 64 decisions a second, not one per flow.
// Stats.Folded and Stats.Capped count what was left out.
//
// # Accounting
//
// Per container: totals (Stats: new flows each way, refused, blocked,
// ended, packets and bytes each way of ended flows, failed probes,
// decisions); the TopRoom (32) remotes with the most bytes, kept with the
// space-saving algorithm so that any remote with more than a 32nd of the
// bytes is in the table however many remotes there are (TopRemotes; Err
// bounds each count's error); and the RecentRoom (64) last ended flows
// with their counters and duration (Recent). A flow's counters are added
// when it ends: FlowUpdate events are counted, not added, so nothing is
// counted twice, and a long-lived flow shows at its end.
//
// # Defaults and why
//
//   - ScanPorts = ScanHosts = 20 within ScanWindow = 5s: nmap's default
//     scan probes 1000 ports in seconds, a worm hundreds of hosts; a
//     benign program rarely has 20 distinct ports of one host, or one
//     port on 20 hosts, fail within 5 seconds (a service restarting
//     fails one port, a DNS outage one port on a few servers).
//   - BurstFloor = 100 new outbound flows a second, BurstFactor = 4: a
//     client with connection pooling opens a few flows a second, one
//     without opens one per request; a flood or a scan opens thousands.
//     The floor applies before anything is learnt (auto mode enforces
//     from the start); a proxy without pooling should learn its peak or
//     raise the floor. The factor gives a learning run's peak, rarely
//     the true one, four times headroom, as the rate detector does.
//   - BlockHold = 30s: long enough to stop a scan or a flood (which the
//     detectors renew once a second while it lasts), short enough that
//     a false block heals by itself.
//   - LimitHold = 1s: a limit is a rate; a one-second block after the
//     second in which the limit was passed enforces it without locking
//     the container out.
//
// New and AddContainer fill every zero Config field with its default.
//
// # Memory
//
// Bounded per container, whatever the flood: the container's fixed
// tables (totals, top remotes, recent flows, the fold table) are 10,528
// bytes; while failed probes are in the scan window, a probe ring of
// ProbeRoom = max(256, 2*max(ScanPorts, ScanHosts)) probes of 32 bytes
// and three fixed hash tables (pairs, distinct ports per host, distinct
// hosts per port) of 2*ProbeRoom rounded up to a power of two slots of
// 10 bytes each, which never grow (no Go maps: their deleted slots can
// make them grow under churn). Tick frees the ring and tables once the
// window has no probe. Measured (runtime.MemStats, HeapAlloc after GC, 64
// containers): 34.4 KB per container under a flood of 50,000 or 400,000
// distinct remotes, the same as after 5,000 (TestMemoryFlood enforces a
// 40 KB budget and that the flood's size does not matter); 10.3 KB for a
// quiet one. At the largest thresholds (1024, so a ring of 2048) a flooded
// container takes 197 KB. MaxContainers (256) bounds the containers.
//
// Speed: Handle costs about 70 ns for a flow event of a busy server
// (accounting) and 120 ns for a failed probe through a full ring, and
// allocates nothing unless it decides (tested with testing.AllocsPerRun);
// a decision allocates its Reason and Evidence.
//
// An Agent is a deterministic state machine, not safe for concurrent use:
// one driver goroutine feeds it (see package agent). Snapshot and Restore
// deep-copy its state for the supervisor.
//
// Imports: the standard library and swarm/agent, swarm/event and
// swarm/policy (for the egress rules and ConfigFrom).
package netguard
