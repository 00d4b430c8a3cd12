package sentry

import (
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/log"
	"gvisor.dev/gvisor/pkg/sentry/kernel"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/heal"
	"github.com/athenaos/athena/swarm/memguard"
	"github.com/athenaos/athena/swarm/netguard"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/rate"
	"github.com/athenaos/athena/swarm/record"
	"github.com/athenaos/athena/swarm/ring"
	"github.com/athenaos/athena/swarm/sched"
	"github.com/athenaos/athena/swarm/security"
	"github.com/athenaos/athena/swarm/selfmodel"
	"github.com/athenaos/athena/swarm/supervisor"
	"github.com/athenaos/athena/syscalls"
)

// The swarm driver ticks the security swarm about every swarmTick while
// calls flow, and saves a changed model at most every modelSaveInterval
// (and when the container's init exits).
const (
	swarmTick         = 100 * time.Millisecond
	modelSaveInterval = 5 * time.Second
	// callBatch is how many calls the driver takes from the ring at once.
	callBatch = 1024
	// maxSlots bounds the container slots that get a detector.
	maxSlots = 64
)

// SwarmConfig says how a sandbox's swarm starts.
type SwarmConfig struct {
	// Security configures the quorum, the supervisor and the holds.
	Security security.Config
	// SelfModel configures the root container's detector (Mode is
	// resolved by ResolveSelfModelMode); Model is its starting model
	// (nil: empty), Why why its mode is what it is.
	SelfModel    selfmodel.Config
	Model        *selfmodel.Model
	Why          string
	SelfModelOff bool
	// Rate configures the rate detector (nil: off).
	Rate *rate.Config
	// ModelFile is the descriptor of the model file (-1: none).
	ModelFile int
	// Memory configures the memory agent for the root container
	// (MemoryOn false: off for it); Network the network agent.
	Memory    memguard.ContainerConfig
	MemoryOn  bool
	Network   netguard.Config
	NetworkOn bool
	// Sched configures the scheduler for the root container (SchedOn
	// false: not scheduled); SchedFrom says where its weight and quota
	// came from.
	Sched     sched.ContainerConfig
	SchedOn   bool
	SchedFrom string
	// SchedAgent configures the scheduler agent (zero: its defaults,
	// on the CPUs the sandbox process may use).
	SchedAgent sched.Config
}

// swarmDriver is the slow-path half of the swarm: it drains the call
// feed into the security swarm, votes the gate's refusals, carries out
// the outcomes (through the call feed's task table), records them, saves
// the model and reports status. All of it runs on the recorder's drainer
// goroutine.
type swarmDriver struct {
	id    string
	rec   *Recorder
	sec   *security.Swarm
	feed  *callFeed
	calls *ring.Ring[event.Call]
	cfg   SwarmConfig

	batch []event.Call
	ev    event.Event
	// oev carries the events of the other paths (faults, memory
	// samples, flows): ev keeps the fields only calls set.
	oev event.Event
	// mem drains the memory feed (nil: no fault path); memAgent is the
	// memory agent (supervised, fail-open).
	mem      *memDriver
	memAgent *memguard.Agent
	// net is the packet path (nil: none); netAgent the network agent
	// (supervised, fail-open); packets a batch of its flow events.
	net          *netPath
	netAgent     *netguard.Agent
	packets      []event.Event
	lastNetSweep time.Time
	// schedAgent is the scheduler agent (supervised, fail-open: without
	// it holds lapse within a period); schedLoop its kernel side;
	// schedFrom where each container's weight and quota came from.
	schedAgent *sched.Agent
	schedLoop  *schedLoop
	schedFrom  map[uint32]string
	// healAgent is the healer agent (supervised, fail-open);
	// healFollows marks the slots it was given a configuration for.
	healAgent   *heal.Agent
	healFollows [maxSlots]bool
	// lines and count collect the records of observe.
	lines   []byte
	count   int
	out     []security.Outcome
	drained uint64
	// observed counts the other paths' events (faults, samples, flows).
	observed uint64
	recorded uint64
	hasSlot  [maxSlots]bool
	// published is, per container slot, 1 + the pairs and syscalls of
	// the model last given to the prefilter (0: none).
	published [maxSlots]uint64
	lastSweep time.Time
	lastTick  time.Time
	// saved is what the model file holds: the model's windows and pairs
	// when last written.
	savedWindows uint64
	savedPairs   int
	lastSave     time.Time
	closed       bool
	actions      [4]uint64
	// cmds are commands for the drainer (tolerize), from the control
	// loop.
	cmds chan func()
}

func newSwarmDriver(id string, rec *Recorder, feed *callFeed, cfg SwarmConfig) (*swarmDriver, error) {
	sec, err := security.New(cfg.Security)
	if err != nil {
		return nil, err
	}
	if !cfg.SelfModelOff {
		if err := sec.AddContainer(0, cfg.SelfModel, cfg.Model, cfg.Why); err != nil {
			return nil, err
		}
	}
	if cfg.Rate != nil {
		rd, err := rate.New(*cfg.Rate)
		if err != nil {
			return nil, err
		}
		// Advisory: if it cannot be kept running, the app runs on.
		if err := sec.AddAgent(supervisor.Spec{Agent: rd, Policy: supervisor.FailOpen}); err != nil {
			return nil, err
		}
	}
	d := &swarmDriver{id: id, rec: rec, sec: sec, feed: feed, calls: feed.calls, cfg: cfg,
		batch: make([]event.Call, callBatch), cmds: make(chan func(), 16), lastSave: time.Now()}
	d.hasSlot[0] = true
	if f := rec.gate.mem; f != nil {
		d.mem = newMemDriver(f)
		mg, err := memguard.New(memguard.DefaultConfig())
		if err != nil {
			return nil, err
		}
		// Advisory like the rate detector: without it the app runs on
		// (its budget then goes unenforced, and the status says so).
		if err := sec.AddAgent(supervisor.Spec{Agent: mg, Policy: supervisor.FailOpen}); err != nil {
			return nil, err
		}
		d.memAgent = mg
		if cfg.MemoryOn {
			if err := mg.AddContainer(0, cfg.Memory); err != nil {
				return nil, err
			}
		}
	}
	if np := rec.gate.net; np != nil {
		ng, err := netguard.New(netguard.DefaultConfig())
		if err != nil {
			return nil, err
		}
		// Advisory: without it, flows are still filtered by the egress
		// rules and the blocks in force (which then expire); only new
		// detections stop.
		if err := sec.AddAgent(supervisor.Spec{Agent: ng, Policy: supervisor.FailOpen}); err != nil {
			return nil, err
		}
		d.net, d.netAgent, d.packets = np, ng, make([]event.Event, 64)
		if cfg.NetworkOn {
			if err := ng.AddContainer(0, cfg.Network); err != nil {
				return nil, err
			}
		}
	}
	if err := d.startSched(); err != nil {
		return nil, err
	}
	if err := d.startHeal(); err != nil {
		return nil, err
	}
	if cfg.Model != nil {
		d.savedWindows, d.savedPairs = cfg.Model.Windows(), cfg.Model.Pairs()
	}
	feed.seqOff.Store(cfg.SelfModelOff)
	d.publishModels()
	return d, nil
}

// publishModels gives the gate's prefilter a copy of every container's
// model that changed since it was last published (new pairs: learning,
// tolerize). A detector keyed by thread group gets none: the prefilter's
// history is per thread, so all its calls pass.
func (d *swarmDriver) publishModels() {
	for _, m := range d.sec.Models() {
		if m.Container >= maxSlots || d.sec.PerProcess(m.Container) {
			continue
		}
		key := uint64(m.Model.Pairs())<<32 | uint64(m.Model.Syscalls())
		if d.published[m.Container] == key+1 {
			continue
		}
		hot := 0
		if m.Mode != selfmodel.ModeLearn {
			cfg := d.cfg.SelfModel
			hot = cfg.Frame + cfg.K
		}
		d.feed.publish(m.Container, m.Model.Clone(), hot)
		d.published[m.Container] = key + 1
	}
}

// drain feeds the calls waiting in the ring to the swarm and returns how
// many there were.
func (d *swarmDriver) drain(now time.Time) int {
	n := d.calls.Drain(d.batch)
	if n == 0 {
		return d.drainOthers()
	}
	d.drained += uint64(n)
	ns := now.UnixNano()
	var lines []byte
	count := 0
	for i := range d.batch[:n] {
		c := &d.batch[i]
		if c.Container >= maxSlots {
			continue
		}
		if !d.hasSlot[c.Container] {
			d.addContainer(uint32(c.Container))
		}
		// Only these fields are ever set: rewriting them, not the
		// whole 512-byte event, is a good part of the cost per call.
		if c.Skipped > 0 || c.HistN > 0 {
			r := selfmodel.Ring{Calls: c.Hist, Head: c.HistHead, N: c.HistN}
			d.sec.Resync(uint32(c.Container), c.TID, c.PID, &r, uint64(c.Skipped))
		}
		d.ev.Kind, d.ev.Time, d.ev.Container, d.ev.PID, d.ev.TID, d.ev.Sysno = event.KindSyscall, ns, uint32(c.Container), c.PID, c.TID, uint32(c.Sysno)
		d.out = d.sec.Call(&d.ev, d.out[:0])
		for j := range d.out {
			lines, count = d.apply(&d.out[j], c.Task, lines, count)
		}
	}
	d.rec.write(lines, count)
	return n + d.drainOthers()
}

// waiting returns how many items wait in the swarm's rings.
func (d *swarmDriver) waiting() int {
	n := d.calls.Len()
	if d.mem != nil {
		n += d.mem.feed.ring.Len()
	}
	if d.net != nil {
		n += d.net.events.Len()
	}
	if d.schedLoop != nil {
		n += len(d.schedLoop.samples)
	}
	if w := d.rec.gate.reaps; w != nil {
		n += len(w.reaps)
	}
	return n
}

// drainOthers feeds the other paths' waiting events to the swarm.
func (d *swarmDriver) drainOthers() int {
	n := 0
	if d.mem != nil {
		n += d.mem.drain(&d.oev, d.observe)
	}
	if d.net != nil {
		for {
			k := d.net.events.Drain(d.packets)
			for i := range d.packets[:k] {
				d.observe(&d.packets[i])
			}
			n += k
			if k < len(d.packets) {
				break
			}
		}
	}
	n += d.drainSched()
	n += d.drainHeal()
	d.flushObserved()
	return n
}

// observe feeds one event of another path than the call feed to the
// swarm and carries out what follows; flushObserved writes the records.
func (d *swarmDriver) observe(e *event.Event) {
	d.observed++
	if e.Container >= maxSlots {
		return
	}
	if !d.hasSlot[e.Container] {
		d.addContainer(e.Container)
	}
	d.out = d.sec.Call(e, d.out[:0])
	for j := range d.out {
		d.lines, d.count = d.apply(&d.out[j], 0, d.lines, d.count)
	}
}

func (d *swarmDriver) flushObserved() {
	if d.count > 0 {
		d.rec.write(d.lines, d.count)
	}
	d.lines, d.count = d.lines[:0], 0
}

// addContainer gives a pod's container a detector of its own, which
// learns from scratch (the host's long memory is the sandbox's).
func (d *swarmDriver) addContainer(slot uint32) {
	d.hasSlot[slot] = true
	table, _ := d.rec.gate.TableOf(slot)
	if d.memAgent != nil {
		if mc, on := memguard.ConfigFrom(&table.Policy().Memory, table.Policy().Mode); on {
			if err := d.memAgent.AddContainer(slot, mc); err != nil {
				log.Warningf("athena: swarm: container slot %d gets no memory agent: %v", slot, err)
			}
		}
	}
	d.addSchedContainer(slot, table.Policy())
	if d.cfg.SelfModelOff {
		return
	}
	cfg := d.cfg.SelfModel
	cfg.Mode, _ = resolveSelfModel(table.Policy().Swarm.SelfModel.Mode, table.Policy().Mode, nil, cfg.StableAfter)
	if err := d.sec.AddContainer(slot, cfg, nil, "a pod container's detector starts empty: learning"); err != nil {
		log.Warningf("athena: swarm: container slot %d gets no sense-of-self detector: %v", slot, err)
		return
	}
	d.publishModels()
}

// vote hands a refusal of the gate (an enforced errno or kill) to the
// swarm as the rule engine's vote.
func (d *swarmDriver) vote(e *event.Event, table *syscalls.Table, container string) {
	v := syscalls.Verdict(e.Verdict)
	if v.Action() == syscalls.Allow || table.Policy().Mode != policy.ModeEnforce {
		return
	}
	if v.Action() == syscalls.Errno && v.Errno() == uint16(unix.ENOSYS) {
		// "Not implemented" is compatibility (clone3, so that libc
		// falls back to clone), not a sign of an attack.
		return
	}
	dec := table.NewDecision(e, container)
	reason := fmt.Sprintf("rule %q (line %d) refused %s", dec.Rule, dec.RuleLine, dec.Syscall)
	var evidence []string
	switch {
	case dec.Path != "":
		evidence = append(evidence, fmt.Sprintf("%s %s", dec.Syscall, dec.Path))
	case dec.Net != nil:
		evidence = append(evidence, fmt.Sprintf("%s %s", dec.Net.Op, dec.Net.Endpoint))
	}
	kill := v.Action() == syscalls.KillProcess || v.Action() == syscalls.KillThread
	d.out = d.sec.Vote(time.Unix(0, e.Time), e.Container, e.PID, e.TID, kill, reason, evidence, d.out[:0])
	var lines []byte
	count := 0
	for j := range d.out {
		lines, count = d.apply(&d.out[j], 0, lines, count)
	}
	d.rec.write(lines, count)
}

// apply carries out one outcome and appends its record. goid is the
// task whose call led to it (0: find it by TID).
func (d *swarmDriver) apply(o *security.Outcome, goid uint64, lines []byte, count int) ([]byte, int) {
	if !o.Folded {
		d.carryOut(o, goid)
	}
	if !o.Record {
		return lines, count
	}
	d.recorded++
	dec := o.Decision
	rec := record.Decision{
		ID: record.MakeID(d.id, d.recorded), Time: o.Time.UTC(), Container: d.containerID(dec.Container),
		PID: dec.PID, TID: dec.TID, Comm: d.feed.taskName(dec.TID),
		Agent: dec.Agent, Asked: dec.Action.String(), Action: o.Action.String(), Carried: o.Carried, Pending: o.Pending,
		Mode: o.Mode, Delay: o.Delay, Score: dec.Score, Reason: dec.Reason, Evidence: d.named(dec.Evidence),
		Repeats: o.Repeats,
	}
	switch {
	case dec.Limit:
		rec.Quorum = "none needed: a limit the operator set"
	case dec.Action.Harms() || o.Carried:
		rec.Quorum = d.sec.QuorumRule()
	}
	if dec.Agent == security.RulesAgent && !o.Carried && dec.Action == agent.ActDeny {
		// The gate refused the call itself: that is the deny carried
		// out, whatever the quorum made of the vote.
		rec.Action, rec.Pending = "deny", false
	}
	for _, v := range o.Votes {
		rec.Votes = append(rec.Votes, record.Vote{Time: v.Time.UTC(), Agent: v.Agent, Action: v.Action.String(), Score: v.Score, Reason: v.Reason, Evidence: d.named(v.Evidence)})
	}
	return record.Append(lines, &rec), count + 1
}

// named turns the sense of self's evidence windows (syscall numbers)
// into names; other evidence is kept as it is.
func (d *swarmDriver) named(evidence []string) []string {
	out := make([]string, len(evidence))
	for i, e := range evidence {
		out[i] = e
		if w, err := selfmodel.ParseWindow(e); err == nil {
			names := make([]byte, 0, 64)
			for j, n := range w {
				if j > 0 {
					names = append(names, ',')
				}
				names = append(names, syscalls.Name(uintptr(n))...)
			}
			out[i] = string(names)
		}
	}
	return out
}

func (d *swarmDriver) containerID(slot uint32) string {
	if slot == 0 {
		return d.id
	}
	if _, id := d.rec.gate.TableOf(slot); id != "" {
		return id
	}
	return d.id
}

// inject rehearses a fault in one of the agents and carries out what
// follows.
func (d *swarmDriver) inject(name string, stop bool) error {
	var err error
	d.out, err = d.sec.Inject(name, stop, d.out[:0])
	for j := range d.out {
		d.lines, d.count = d.apply(&d.out[j], 0, d.lines, d.count)
	}
	d.flushObserved()
	return err
}

// isNetAgent reports whether name is one of the network agent's
// detectors, whose decisions are about a container's flows.
func isNetAgent(name string) bool {
	switch name {
	case netguard.AgentEgress, netguard.AgentScan, netguard.AgentBurst, netguard.AgentLimit:
		return true
	}
	return false
}

// setAgentMode sets the mode of agent name in a status.
func setAgentMode(agents []AgentStatus, name, mode string) {
	for i := range agents {
		if agents[i].Name == name {
			agents[i].Mode = mode
		}
	}
}

// slotOf returns t's container slot.
func (d *swarmDriver) slotOf(t *kernel.Task) uint32 {
	ts := d.rec.gate.tables.Load()
	if ts == nil {
		return 0
	}
	_, slot := ts.forTask(t)
	return slot
}

// carryOut applies an outcome's action to its task.
func (d *swarmDriver) carryOut(o *security.Outcome, goid uint64) {
	dec := &o.Decision
	if goid == 0 || !d.feed.holds(goid, dec.TID) {
		goid = d.feed.goidOf(dec.TID)
	}
	now := time.Now()
	if dec.Agent == sched.Name && dec.Action == agent.ActKill {
		// A fork bomb (enforce mode; observe asks for a record): the
		// scheduler's own containment, whatever the quorum makes of
		// the kill vote, is to refuse the container's new processes.
		d.rec.gate.blockSpawns(dec.Container, now.Add(spawnBlockHold))
	}
	switch o.Action {
	case agent.ActDelay:
		if dec.Agent == sched.Name && d.schedLoop != nil {
			// A busy loop makes no calls to delay: hold it.
			select {
			case d.schedLoop.delays <- schedDelay{container: dec.Container, tid: dec.TID, d: o.Delay}:
			default:
			}
		}
		if goid != 0 {
			d.feed.setAction(goid, actDelay, uint64(o.Delay/time.Microsecond), now.Add(o.Hold))
		}
	case agent.ActDeny:
		if dec.PID == 0 && d.net != nil && isNetAgent(dec.Agent) {
			if !d.net.block(dec, d.netAgent.Hold(*dec)) {
				return
			}
			break
		}
		if goid != 0 {
			d.feed.setAction(goid, actDeny, uint64(unix.EPERM), now.Add(o.Hold))
		}
	case agent.ActKill:
		if goid != 0 {
			d.feed.setAction(goid, actKill, 0, now.Add(time.Minute))
		}
		if !d.feed.killGroup(dec.PID) {
			log.Warningf("athena: swarm: thread group %d to kill is gone", dec.PID)
		}
	default:
		return
	}
	d.actions[o.Action]++
}

// tick advances the swarm's time (about every swarmTick: a tenth early
// is on time, so that a tick due with the scheduler's samples, which
// come every period, is not put off by a period), fails closed
// if an enforcing agent failed, and saves a changed model.
func (d *swarmDriver) tick(now time.Time, force bool) {
	if !force && now.Sub(d.lastTick) < swarmTick*9/10 {
		return
	}
	d.lastTick = now
	for {
		select {
		case cmd := <-d.cmds:
			cmd()
			continue
		default:
		}
		break
	}
	k := sandboxKernel.Load() // an athena platform's: known before any call
	if k == nil {
		k = d.feed.kernel.Load() // another platform's: from the first call
	}
	if d.mem != nil {
		d.mem.sample(now, k, d.slotOf, &d.oev, d.observe)
		d.flushObserved()
	}
	if d.net != nil {
		d.net.installLate(k)
		if f := d.net.filter.Load(); f != nil && now.Sub(d.lastNetSweep) >= time.Second {
			d.lastNetSweep = now
			f.Sweep(now) // flow ends and updates, expired blocks
		}
	}
	d.out = d.sec.Tick(now, d.out[:0])
	var lines []byte
	count := 0
	for j := range d.out {
		lines, count = d.apply(&d.out[j], 0, lines, count)
	}
	d.rec.write(lines, count)
	if !d.closed && d.sec.Degraded() {
		d.closed = true
		d.feed.closed.Store(true)
		log.Warningf("athena: swarm: an enforcing agent failed; failing closed (the deny set of calls is refused)")
	}
	d.publishModels()
	if now.Sub(d.lastSweep) >= modelSaveInterval {
		d.lastSweep = now
		d.feed.sweep()
	}
	if force || now.Sub(d.lastSave) >= modelSaveInterval {
		d.saveModel(now)
	}
}

// saveModel rewrites the model file if the root container's model
// changed since it was last written.
func (d *swarmDriver) saveModel(now time.Time) {
	m := d.sec.Model(0)
	if d.cfg.ModelFile < 0 || m == nil || (m.Windows() == d.savedWindows && m.Pairs() == d.savedPairs) {
		return
	}
	d.lastSave = now
	b, err := m.MarshalBinary()
	if err != nil {
		log.Warningf("athena: swarm: encoding the model: %v", err)
		return
	}
	if n, err := unix.Pwrite(d.cfg.ModelFile, b, 0); err != nil || n != len(b) {
		log.Warningf("athena: swarm: writing the model file: %d of %d bytes: %v", n, len(b), err)
		return
	}
	unix.Ftruncate(d.cfg.ModelFile, int64(len(b)))
	d.savedWindows, d.savedPairs = m.Windows(), m.Pairs()
}

// status describes the swarm for the status file.
func (d *swarmDriver) status() *SwarmStatus {
	st := &SwarmStatus{Degraded: d.sec.Degraded(), Actions: map[string]uint64{}}
	for _, c := range d.sec.Agents() {
		a := AgentStatus{Name: c.Name, State: c.State.String(), Policy: c.Policy.String(), Restarts: c.Restarts, Panics: c.Panics, LastPanic: c.LastPanic, Events: c.Handled, Decisions: c.Decisions}
		if c.State.String() == "failed" {
			st.Why = fmt.Sprintf("agent %s failed (%s); the swarm fails closed", c.Name, c.LastPanic)
		}
		st.Agents = append(st.Agents, a)
	}
	for _, m := range d.sec.Models() {
		for i := range st.Agents {
			if st.Agents[i].Name == selfmodel.Name && m.Container == 0 || st.Agents[i].Name == fmt.Sprintf("%s/%d", selfmodel.Name, m.Container) {
				st.Agents[i].Mode = m.Mode.String()
			}
		}
		st.Models = append(st.Models, ModelStatus{
			Container: d.containerID(m.Container), Mode: m.Mode.String(), Why: m.Why,
			Windows: m.Model.Windows(), LastChange: m.Model.LastChange(), StableAfter: m.StableAfter,
			Stable: m.Model.Stable(m.StableAfter), Pairs: m.Model.Pairs(), Syscalls: m.Model.Syscalls(),
			Bytes: m.Model.Bytes(), Tasks: m.Stats.Tasks, Anomalies: m.Stats.Anomalous,
		})
	}
	if d.cfg.Rate != nil {
		for i := range st.Agents {
			if st.Agents[i].Name == rate.Name {
				st.Agents[i].Mode = d.cfg.Rate.Mode.String()
			}
		}
	}
	rs := d.calls.Stats()
	es := d.rec.events.Stats()
	st.Rings = []RingStatus{
		{Name: "calls", Capacity: rs.Capacity, Len: d.calls.Len(), Pushed: rs.Pushed, Dropped: rs.Dropped, Drained: d.drained},
		{Name: "events", Capacity: es.Capacity, Len: d.rec.events.Len(), Pushed: es.Pushed, Dropped: es.Dropped, Drained: es.Popped},
	}
	st.Decisions = d.recorded
	for a, n := range d.actions {
		if n > 0 {
			st.Actions[agent.Action(a).String()] = n
		}
	}
	st.Actions["calls_delayed"] = d.feed.Delayed.Load()
	st.Actions["calls_denied"] = d.feed.Denied.Load()
	tasks, perTask, total := d.sec.Memory()
	st.Tasks, st.TaskBytes = tasks, perTask
	st.StateBytes = total + uint64(unsafe.Sizeof(taskSlot{}))*taskSlots + uint64(unsafe.Sizeof(event.Call{}))*uint64(rs.Capacity)
	if d.mem != nil {
		st.Memory = d.mem.status(d.containerID)
		for _, cs := range d.memAgent.Containers() {
			st.Memory.Containers = append(st.Memory.Containers, MemoryAgentStatus{Container: d.containerID(cs.Container), Mode: cs.Mode.String(),
				ExecAnon: cs.ExecAnon, WX: cs.WX, PeakRate: cs.PeakRate, Threshold: cs.Threshold, Budget: cs.Budget, Over: cs.Over, Kills: cs.Kills})
			if cs.Container == 0 {
				setAgentMode(st.Agents, memguard.Name, cs.Mode.String())
			}
		}
		st.StateBytes += uint64(unsafe.Sizeof(event.Mem{})) * uint64(d.mem.feed.ring.Cap())
	}
	if d.net != nil {
		st.Network = d.net.status(d.netAgent)
		if c, ok := d.netAgent.Config(0); ok {
			setAgentMode(st.Agents, d.netAgent.Name(), c.Mode.String())
		}
		st.Rings = append(st.Rings, RingStatus{Name: "packets", Capacity: d.net.events.Cap(), Len: d.net.events.Len(),
			Pushed: d.net.events.Stats().Pushed, Dropped: d.net.events.Stats().Dropped, Drained: d.net.events.Stats().Popped})
	}
	if d.schedAgent != nil {
		st.Sched = schedStatus(d.schedAgent, d.schedLoop, &d.rec.gate.spawns, d.containerID, d.schedFrom)
		if c, ok := d.schedAgent.Container(0); ok {
			setAgentMode(st.Agents, sched.Name, c.Config.Mode.String())
		}
	}
	st.Heal = d.healStatus()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st.HeapBytes = ms.HeapAlloc
	return st
}
