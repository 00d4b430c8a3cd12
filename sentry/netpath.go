package sentry

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/log"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
	"gvisor.dev/gvisor/pkg/sentry/socket/hostinet"
	"gvisor.dev/gvisor/pkg/sentry/socket/netstack"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/athenaos/athena/net/filter"
	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/netguard"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/ring"
)

// closedIdle is how long a reset or closed flow stays in the flow table.
const closedIdle = 2 * time.Second

// PacketRingSize bounds the flow events waiting for the drainer (512
// bytes each): new flows, refusals and ends, never one per packet.
const PacketRingSize = 2048

// netPath is the sandbox's packet path: the filter installed into the
// root network namespace's netstack, and what the status says about it.
// Only the sandbox's root network namespace is filtered: the containers
// of a pod share it; a namespace an app creates itself (unshare) is not.
type netPath struct {
	events *ring.Ring[event.Event]
	filter atomic.Pointer[filter.Filter]
	// state is the status's view, set once at install.
	state atomic.Pointer[NetworkStatus]
	// done guards install against a second caller.
	done atomic.Bool
	// policy is the root container's policy, whose egress rules the
	// filter applies.
	policy atomic.Pointer[policy.Policy]
	// why keeps the reason of each block (blockKey) for the status.
	why sync.Map
}

// EnablePacketPath makes the sandbox's network stack pass every packet
// through the athena filter, pushing flow events into r. The filter is
// installed before the root container's table is published (so before
// the app's first system call, and so its first packet) when the
// sandbox runs on an athena platform, which reports the kernel at the
// first task's creation; under another platform, at the first system
// call (see docs/faults-and-packets.md). Preconditions: called once,
// after InstallSyscallGate, before the kernel starts.
func (g *SyscallGate) EnablePacketPath(r *ring.Ring[event.Event]) {
	np := &netPath{events: r}
	np.state.Store(&NetworkStatus{Stack: "unknown", Why: "not installed yet"})
	g.net = np
}

// install puts the filter into k's root network stack, with the egress
// rules of p (the root container's policy).
func (np *netPath) install(k *kernel.Kernel, p *policy.Policy) {
	if ns, ok := k.RootNetworkNamespace().Stack().(*netstack.Stack); ok && (ns.Stack == nil || ns.Stack.IPTables() == nil) {
		// A restore: the kernel's first task exists before its network
		// stack is loaded. The drainer installs the filter on its next
		// tick (installLate), within swarmTick of the restore.
		return
	}
	if !np.done.CompareAndSwap(false, true) {
		return
	}
	st := &NetworkStatus{}
	defer np.state.Store(st)
	var s *stack.Stack
	switch ns := k.RootNetworkNamespace().Stack().(type) {
	case *netstack.Stack:
		st.Stack, s = "netstack", ns.Stack
	case *hostinet.Stack:
		st.Stack = "host"
		st.Why = "--network=host: gVisor hands sockets to the host kernel, so no packet passes the sandbox's own stack; egress rules, flow accounting, scan and burst detection are off"
		log.Warningf("athena: network: %s", st.Why)
		return
	case nil:
		st.Stack, st.Why = "none", "the sandbox has no network stack"
		return
	default:
		st.Stack, st.Why = fmt.Sprintf("%T", ns), "not gVisor's netstack: no packet path"
		return
	}
	if p.Network.FilterOff {
		st.Why = "network.filter: off in the policy: no egress rules, flow accounting, scan or burst detection"
		return
	}
	// A reset or closed flow ends 2 s after its last packet (the
	// filter's default is 10 s): a scan's refused probes then reach the
	// scan detector within the quorum window of the burst they make.
	f := filter.New(np.events, 0, filter.Options{Stack: s, ClosedIdle: closedIdle})
	rules, defaultAllow := egressRules(p)
	if err := f.SetEgress(rules, defaultAllow); err != nil {
		// Parse checked the rules; a rule the filter cannot compile is
		// a programming error, and the container must not run without
		// the egress policy it asked for.
		panic(fmt.Sprintf("athena: network: egress rules: %v", err))
	}
	v4, v6 := f.Tables()
	s.IPTables().ReplaceTable(stack.FilterID, v4, false)
	s.IPTables().ReplaceTable(stack.FilterID, v6, true)
	np.filter.Store(f)
	st.Filter, st.Egress = true, egressSummary(p)
}

// egressRules converts a policy's egress section into the filter's rules.
// Egress rules refuse only under an enforcing policy, as syscall rules do.
func egressRules(p *policy.Policy) (rules []filter.Rule, defaultAllow bool) {
	if p.Mode != policy.ModeEnforce {
		return nil, true
	}
	eg := &p.Network.Egress
	for i := range eg.Rules {
		r := &eg.Rules[i]
		for _, ep := range r.Endpoints() {
			rules = append(rules, filter.Rule{Allow: r.Allow, Proto: r.Protocol, Any: ep.Any, Prefix: ep.Prefix, PortLo: ep.PortLo, PortHi: ep.PortHi})
		}
	}
	return rules, !eg.DefaultDeny
}

func egressSummary(p *policy.Policy) string {
	eg := &p.Network.Egress
	dflt := "allow"
	if eg.DefaultDeny {
		dflt = "deny"
	}
	s := fmt.Sprintf("default %s, %d rules", dflt, len(eg.Rules))
	if p.Mode != policy.ModeEnforce && (eg.DefaultDeny || len(eg.Rules) > 0) {
		s += fmt.Sprintf(" (not applied: the policy is in %s mode)", p.Mode)
	}
	return s
}

// block carries out a network decision: the filter refuses new flows to
// its remote until the hold ends.
func (np *netPath) block(d *agent.Decision, hold time.Duration) bool {
	f := np.filter.Load()
	if f == nil {
		return false
	}
	b := filter.Block{Family: d.Remote.Family, Port: d.Remote.Port, Until: time.Now().Add(hold)}
	switch d.Remote.Family {
	case afInet:
		b.IP = netip.AddrFrom4([4]byte(d.Remote.IP[:4]))
	case afInet6:
		b.IP = netip.AddrFrom16(d.Remote.IP)
	}
	for _, o := range f.Blocks() {
		if covers(o, b) {
			// The quorum counts votes per container, not per remote:
			// once a host is blocked, the egress votes about its ports
			// that follow carry too. They add nothing.
			return true
		}
	}
	f.Block(b)
	np.why.Store(blockKey(b), d.Reason)
	return true
}

// covers reports whether block o refuses at least what b does, as long.
func covers(o, b filter.Block) bool {
	if o.Until.Before(b.Until.Add(-time.Second)) {
		return false
	}
	portOK := o.Port == 0 || o.Port == b.Port
	switch {
	case o.Family == 0:
		return portOK
	case o.IP.IsValid() && o.IP == b.IP:
		return portOK
	}
	return false
}

func blockKey(b filter.Block) string { return fmt.Sprintf("%d %v %d", b.Family, b.IP, b.Port) }

// Linux address families (event.NetAddr.Family).
const (
	afInet  = 2
	afInet6 = 10
)

// status fills the network section of the status.
func (np *netPath) status(ng *netguard.Agent) *NetworkStatus {
	st := *np.state.Load()
	f := np.filter.Load()
	if f == nil {
		return &st
	}
	fs := f.Stats()
	st.Flows, st.LiveFlows, st.Refused, st.Blocked, st.Packets = fs.New, fs.Live, fs.Refused, fs.Blocked, fs.Packets
	st.TableMiss, st.RingDrops = fs.Misses, fs.RingDrops
	for _, b := range f.Blocks() {
		r := "*"
		if b.IP.IsValid() {
			r = b.IP.String()
		}
		if b.Port != 0 {
			r = fmt.Sprintf("%s:%d", r, b.Port)
		}
		why, _ := np.why.Load(blockKey(b))
		w, _ := why.(string)
		st.Blocks = append(st.Blocks, BlockStatus{Remote: r, Until: b.Until.UTC().Format(time.RFC3339), Why: w})
	}
	if ng != nil {
		if gs, ok := ng.Stats(0); ok {
			st.BytesOut, st.BytesIn, st.Failed = gs.BytesOut, gs.BytesIn, gs.Failed
		}
		for _, r := range ng.TopRemotes(0, 5) {
			st.TopRemotes = append(st.TopRemotes, RemoteStatus{Remote: r.Addr.String(), Flows: r.Flows, BytesOut: r.BytesOut, BytesIn: r.BytesIn})
		}
	}
	return &st
}

// PreparePacketPath installs the packet filter with the egress rules of p
// (the root container's policy) before the caller publishes the policy:
// under an athena platform it waits until the first task exists, which
// comes before any system call of the app; under another platform the
// drainer installs it once the first call has shown it the kernel.
func (g *SyscallGate) PreparePacketPath(p *policy.Policy) {
	np := g.net
	if np == nil {
		return
	}
	np.policy.Store(p)
	if !IsAthenaPlatform(activePlatform.Load().(string)) {
		return
	}
	<-kernelKnown
	np.install(sandboxKernel.Load(), p)
}

// installLate installs the filter from the drainer when the platform gave
// no early chance (see PreparePacketPath).
func (np *netPath) installLate(k *kernel.Kernel) {
	if np.done.Load() || k == nil {
		return
	}
	if p := np.policy.Load(); p != nil {
		np.install(k, p)
	}
}
