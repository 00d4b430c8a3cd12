package sentry

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/log"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/ring"
	"github.com/athenaos/athena/syscalls"
)

// The drainer sleeps while the ring is empty, from minDrainInterval after
// activity up to maxDrainInterval when idle, so an idle sandbox wakes only
// a few times a second. A record waits at most that long; the app never
// waits at all. The status file is refreshed every statusInterval while
// anything changes, and at least every HeartbeatInterval: its age is the
// host's sign that the sandbox is alive (the keeper's hang watchdog,
// docs/healer.md).
const (
	minDrainInterval  = 10 * time.Millisecond
	maxDrainInterval  = 320 * time.Millisecond
	statusInterval    = time.Second
	HeartbeatInterval = 5 * time.Second
)

// maxLearnKeys bounds the learn-mode de-duplication set; past it every
// learn record is written (more volume, nothing lost).
const maxLearnKeys = 1 << 17

// Recorder is the slow path of one sandbox's gate: it drains the gate's
// event ring into the host's decision record (JSON lines through the
// link), keeps the status file current and applies policies the host sends
// over the control channel.
type Recorder struct {
	id     string
	gate   *SyscallGate
	events *ring.Ring[event.Event]
	link   *Link

	// mu orders writers of the record (the drainer and the control
	// loop); the app's tasks never take it.
	mu sync.Mutex

	policyName, policyDigest atomic.Pointer[string]
	updates, refused         atomic.Uint64

	// learnKeys is what learn mode has written already (the drainer's
	// alone); learnReset asks the drainer to forget it.
	learnKeys  map[string]struct{}
	learnReset atomic.Bool
	// folds are the open windows of repeated refusals (the drainer's
	// alone).
	folds map[string]*folding

	// swarm is the swarm's slow path (nil when the swarm is off), the
	// drainer's alone; swarmStatus is its latest status, for writers of
	// the status file on other goroutines.
	swarm       *swarmDriver
	swarmStatus atomic.Pointer[SwarmStatus]
	// encoded is the drainer's buffer of record lines, reused.
	encoded []byte
}

// learnKey is what makes a learn-mode event new: its syscall, the
// arguments a profile learns, and what its slow check saw.
func learnKey(e *event.Event) string {
	var args uint64
	if syscalls.LearnsArguments(uintptr(e.Sysno)) {
		args = e.Args[0] // the learned argument (clone flags, socket family, personality)
	}
	return fmt.Sprintf("%d %d %x %d %s\x00%s %d %d %d %x %d", e.Container, e.Sysno, args, e.Ops, e.PathString(0), e.PathString(1), e.Flags, e.Net.Family, e.Net.Protocol, e.Net.IP, e.Net.Port)
}

// NewRecorder joins a gate, its event ring and a link. digest is the
// PolicyDigest of the policy text the sandbox started with.
func NewRecorder(id string, gate *SyscallGate, events *ring.Ring[event.Event], link *Link, policyName, digest string) *Recorder {
	r := &Recorder{id: id, gate: gate, events: events, link: link, learnKeys: map[string]struct{}{}, folds: map[string]*folding{}}
	r.policyName.Store(&policyName)
	r.policyDigest.Store(&digest)
	return r
}

// EnableSwarm starts the swarm's slow path with the recorder: the gate
// must have been installed with a call feed.
func (r *Recorder) EnableSwarm(cfg SwarmConfig) error {
	if r.gate.feed == nil {
		return errors.New("the gate has no call feed")
	}
	d, err := newSwarmDriver(r.id, r, r.gate.feed, cfg)
	if err != nil {
		return err
	}
	r.swarm = d
	r.swarmStatus.Store(d.status())
	return nil
}

// Run starts the drainer and the control loop; they run for the sandbox's
// lifetime.
func (r *Recorder) Run() {
	r.writeLine(fmt.Appendf(nil, `{"type":"start","time":%q,"container":%q,"mode":%q,"policy":%q,"policy_digest":%q}`+"\n",
		now(), r.id, r.gate.Table().Policy().Mode, *r.policyName.Load(), *r.policyDigest.Load()))
	go r.drain()
	if r.link.control >= 0 {
		go r.control()
	}
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

// drain moves events from the ring to the host record, and keeps the
// status file and the folded refusals up to date, until the sandbox exits.
func (r *Recorder) drain() {
	batch := make([]event.Event, 256)
	var tick recorderTick
	sleep := minDrainInterval
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		n, calls := r.drainOnce(batch)
		if n == len(batch) || calls == callBatch {
			r.swarmTick(time.Now(), false)
			continue // more is waiting
		}
		now := time.Now()
		r.swarmTick(now, false)
		r.tick(&tick, now)
		if n > 0 || calls > 0 {
			sleep = minDrainInterval
			continue
		}
		// Announce the sleep, then look once more: a push that did not
		// see the announcement is in Len.
		r.gate.drainerAsleep.Store(true)
		if r.events.Len() == 0 && (r.swarm == nil || r.swarm.waiting() == 0) {
			timer.Reset(sleep)
			select {
			case <-r.gate.wake:
				timer.Stop()
			case done := <-r.gate.flush:
				timer.Stop()
				r.gate.drainerAsleep.Store(false)
				r.flush(batch, &tick)
				close(done)
			case <-timer.C:
			}
		}
		r.gate.drainerAsleep.Store(false)
		sleep = min(2*sleep, maxDrainInterval)
	}
}

// swarmTick ticks the swarm and refreshes its status.
func (r *Recorder) swarmTick(now time.Time, force bool) {
	if r.swarm == nil {
		return
	}
	before := r.swarm.lastTick
	r.swarm.tick(now, force)
	if r.swarm.lastTick != before {
		r.swarmStatus.Store(r.swarm.status())
	}
}

// drainOnce takes one batch from each ring: gate events into the record
// (and the swarm's votes), calls into the swarm. It returns how many of
// each it took.
func (r *Recorder) drainOnce(batch []event.Event) (events, calls int) {
	events = r.events.Drain(batch)
	if events > 0 {
		var lines int
		r.encoded, lines = r.encode(r.encoded[:0], batch[:events])
		r.write(r.encoded, lines)
	}
	if r.swarm != nil {
		calls = r.swarm.drain(time.Now())
	}
	return events, calls
}

// flush drains everything and writes the model and the status: the
// container's init is exiting, and the sandbox with it.
func (r *Recorder) flush(batch []event.Event, tick *recorderTick) {
	for {
		if n, calls := r.drainOnce(batch); n == 0 && calls == 0 {
			break
		}
	}
	now := time.Now()
	r.swarmTick(now, true)
	r.tick(tick, now)
	r.writeStatus()
}

// encode appends the record lines of a batch of events to out: learn mode
// keeps what is new, refusals are folded, the rest is written as is.
func (r *Recorder) encode(out []byte, batch []event.Event) ([]byte, int) {
	if r.learnReset.Swap(false) {
		clear(r.learnKeys)
	}
	lines := 0
	for i := range batch {
		e := &batch[i]
		table, container := r.tableOf(e)
		learning := table.Policy().Mode == policy.ModeLearn
		if learning && !r.newToLearning(e) {
			continue
		}
		if r.swarm != nil {
			r.swarm.vote(e, table, container)
		}
		if !learning && syscalls.Verdict(e.Verdict).Intended() != syscalls.Allow {
			flushed, folded := r.fold(e)
			if flushed != nil {
				out = table.AppendDecision(out, flushed, container)
				lines++
			}
			if folded {
				continue
			}
		}
		out = table.AppendDecision(out, e, container)
		lines++
	}
	return out, lines
}

// tableOf returns the table and container ID an event was decided under.
func (r *Recorder) tableOf(e *event.Event) (*syscalls.Table, string) {
	table, id := r.gate.TableOf(e.Container)
	if id == "" {
		id = r.id
	}
	return table, id
}

// write appends lines to the record.
func (r *Recorder) write(out []byte, lines int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.link.WriteRecords(out, lines)
}

// recorderTick is what the drainer remembers between ticks.
type recorderTick struct {
	lastStatus   time.Time
	lastCounters [5]uint64
	lastDropped  uint64
}

// tick reports dropped events, closes expired fold windows and rewrites
// the status file when a counter changed (at most once per
// statusInterval) or HeartbeatInterval has passed.
func (r *Recorder) tick(t *recorderTick, now time.Time) {
	st := r.gate.Stats()
	if dropped := st.Dropped.Load(); dropped > t.lastDropped {
		r.writeLine(fmt.Appendf(nil, `{"type":"dropped","time":%q,"container":%q,"records":%d}`+"\n", now.UTC().Format(time.RFC3339Nano), r.id, dropped-t.lastDropped))
		t.lastDropped = dropped
	}
	if len(r.folds) > 0 {
		var out []byte
		lines := 0
		for _, e := range r.expiredFolds(now.UnixNano()) {
			table, container := r.tableOf(e)
			out = table.AppendDecision(out, e, container)
			lines++
		}
		r.write(out, lines)
	}
	counters := [5]uint64{st.Recorded.Load(), st.Dropped.Load(), r.link.Lost.Load(), r.updates.Load() + r.refused.Load()}
	if r.swarm != nil {
		counters[4] = r.swarm.drained + r.swarm.observed + r.swarm.recorded
	}
	since := now.Sub(t.lastStatus)
	if since >= HeartbeatInterval || since >= statusInterval && (counters != t.lastCounters || t.lastStatus.IsZero()) {
		r.writeStatus()
		t.lastStatus, t.lastCounters = now, counters
	}
}

// Repeats of one refusal (same syscall, rule, command, paths and address)
// within foldWindow of the first are folded into one record: the first is
// written at once, the others are counted and written as one record (the
// last of them, with Repeats) when the window closes. A program that
// retries a refused call in a loop thus costs a line a second, not a line
// a call.
const (
	foldWindow   = int64(time.Second)
	maxFoldKeys  = 4096
	maxFoldCount = ^uint16(0)
)

// folding is the state of one key's window.
type folding struct {
	first int64 // time of the record that opened the window
	n     uint16
	last  event.Event
}

// fold accounts e in its window: folded says e falls in an open window
// and is counted there instead of written. Otherwise e opens a new window,
// and the previous window's folded calls, if any, are returned as one
// record to be written first.
func (r *Recorder) fold(e *event.Event) (flushed *event.Event, folded bool) {
	key := foldKey(e)
	f := r.folds[key]
	if f != nil && e.Time-f.first < foldWindow {
		if f.n < maxFoldCount {
			f.n++
		}
		f.last = *e
		return nil, true
	}
	if f != nil && f.n > 0 {
		flushed = new(event.Event)
		*flushed = f.last
		flushed.Repeats = f.n
	}
	if f == nil {
		if len(r.folds) >= maxFoldKeys {
			// Too many distinct refusals to fold: start over (the
			// folded counts of the dropped windows are lost, the
			// refusals themselves were recorded).
			clear(r.folds)
		}
		f = new(folding)
		r.folds[key] = f
	}
	f.first, f.n = e.Time, 0
	return flushed, false
}

// expiredFolds closes the windows older than foldWindow and returns the
// records of their folded calls.
func (r *Recorder) expiredFolds(now int64) []*event.Event {
	var out []*event.Event
	for key, f := range r.folds {
		if now-f.first < foldWindow {
			continue
		}
		if f.n > 0 {
			e := f.last
			e.Repeats = f.n
			out = append(out, &e)
		}
		delete(r.folds, key)
	}
	return out
}

func foldKey(e *event.Event) string {
	return fmt.Sprintf("%d %d %s %s", e.Container, syscalls.Verdict(e.Verdict).Rule(), e.CommString(), learnKey(e))
}

// newToLearning reports whether a learn-mode event says something the
// record does not hold yet (a new syscall, argument value, path or
// endpoint). Denials and would-be denials are always new.
func (r *Recorder) newToLearning(e *event.Event) bool {
	v := syscalls.Verdict(e.Verdict)
	if v.Has(syscalls.WouldDeny) || v.Action() != syscalls.Allow || e.Errno != 0 {
		return true
	}
	if len(r.learnKeys) >= maxLearnKeys {
		return true
	}
	key := learnKey(e)
	if _, ok := r.learnKeys[key]; ok {
		return false
	}
	r.learnKeys[key] = struct{}{}
	return true
}

// writeLine appends one line to the record.
func (r *Recorder) writeLine(line []byte) { r.write(line, 1) }

func (r *Recorder) writeStatus() {
	st := r.gate.Stats()
	r.link.WriteStatus(&Status{
		Container:     r.id,
		Updated:       now(),
		Mode:          r.gate.Table().Policy().Mode.String(),
		Policy:        *r.policyName.Load(),
		PolicyDigest:  *r.policyDigest.Load(),
		Denied:        st.Denied.Load(),
		Killed:        st.Killed.Load(),
		Recorded:      st.Recorded.Load(),
		Dropped:       st.Dropped.Load(),
		Written:       r.link.Written.Load(),
		Lost:          r.link.Lost.Load(),
		PolicyUpdates: r.updates.Load(),
		PolicyRefused: r.refused.Load(),
		Swarm:         r.swarmStatus.Load(),
	})
}

// control applies the policies the host sends. The host checked each one
// before sending; the sandbox checks again (it parses and compiles what it
// runs) and answers with a "policy" record either way.
func (r *Recorder) control() {
	in := &lineReader{r: fdReader(r.link.control)}
	for {
		msg, err := readPolicyMessage(in)
		digest := msg.digest
		if err != nil && !errors.Is(err, errBadMessage) && digest == "" {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrNoProgress) {
				time.Sleep(maxDrainInterval) // cannot happen on an O_RDWR FIFO; do not spin
				continue
			}
			log.Warningf("athena: control channel: %v; live policy updates are off", err)
			return
		}
		if err == nil && msg.tolerize {
			r.tolerize(msg)
			continue
		}
		if err == nil && msg.inject {
			r.inject(msg)
			continue
		}
		if err == nil {
			err = r.apply(msg)
		}
		status, detail := "applied", ""
		if err != nil {
			r.refused.Add(1)
			status, detail = "refused", err.Error()
			log.Warningf("athena: policy update refused: %v", err)
		} else {
			r.updates.Add(1)
		}
		container := msg.container
		if container == "" {
			container = r.id // a message too garbled to name one
		}
		r.writeLine(fmt.Appendf(nil, `{"type":"policy","time":%q,"container":%q,"status":%q,"policy_digest":%q,"mode":%q,"error":%q}`+"\n",
			now(), container, status, digest, r.modeOf(container), detail))
		r.writeStatus()
	}
}

// tolerizeTimeout bounds the wait for the drainer to take a tolerize
// request.
const tolerizeTimeout = 5 * time.Second

// tolerize has the drainer accept a thread group's recent behaviour into
// its container's sense-of-self model, and answers with a "tolerize"
// record.
func (r *Recorder) tolerize(msg policyMessage) {
	status, detail, windows := "applied", "", 0
	slot, ok := r.slotOf(msg.container)
	switch {
	case r.swarm == nil:
		status, detail = "refused", "the swarm is off in this sandbox"
	case !ok:
		status, detail = "refused", fmt.Sprintf("no container %q in this sandbox", msg.container)
	default:
		var known bool
		err := r.onDrainer(func() {
			n, has := r.swarm.sec.Tolerize(slot, msg.pid)
			if has {
				r.swarm.feed.clearGroup(msg.pid)
			}
			windows, known = n, has
		})
		switch {
		case err != nil:
			status, detail = "refused", err.Error()
		case !known:
			status, detail = "refused", "the container has no sense-of-self detector"
		}
	}
	r.writeLine(fmt.Appendf(nil, `{"type":"tolerize","time":%q,"container":%q,"pid":%d,"status":%q,"windows":%d,"error":%q}`+"\n",
		now(), msg.container, msg.pid, status, windows, detail))
}

// onDrainer runs f on the drainer (which owns the swarm) and waits for it,
// at most tolerizeTimeout.
func (r *Recorder) onDrainer(f func()) error {
	done := make(chan struct{})
	select {
	case r.swarm.cmds <- func() { f(); close(done) }:
	default:
		return errors.New("the swarm is busy; try again")
	}
	r.gate.wakeDrainer()
	select {
	case <-done:
		return nil
	case <-time.After(tolerizeTimeout):
		return errors.New("the swarm did not answer in time")
	}
}

// inject rehearses a fault in one of the swarm's agents (swarm inject)
// and answers with an "inject" record.
func (r *Recorder) inject(msg policyMessage) {
	status, detail := "applied", ""
	_, ok := r.slotOf(msg.container)
	switch {
	case r.swarm == nil:
		status, detail = "refused", "the swarm is off in this sandbox"
	case !ok:
		status, detail = "refused", fmt.Sprintf("no container %q in this sandbox", msg.container)
	case msg.fault != FaultAgentPanic && msg.fault != FaultAgentStop:
		status, detail = "refused", fmt.Sprintf("unknown fault %q (want %s or %s)", msg.fault, FaultAgentPanic, FaultAgentStop)
	default:
		var injErr error
		err := r.onDrainer(func() {
			injErr = r.swarm.inject(msg.agent, msg.fault == FaultAgentStop)
			r.swarmStatus.Store(r.swarm.status()) // show the agent's new state now
		})
		if err == nil {
			err = injErr
		}
		if err != nil {
			status, detail = "refused", err.Error()
		}
	}
	r.writeStatus()
	r.writeLine(fmt.Appendf(nil, `{"type":"inject","time":%q,"container":%q,"fault":%q,"agent":%q,"status":%q,"error":%q}`+"\n",
		now(), msg.container, msg.fault, msg.agent, status, detail))
}

// slotOf returns the slot of container id in the sandbox.
func (r *Recorder) slotOf(id string) (uint32, bool) {
	if id == r.id {
		return 0, true
	}
	ts := r.gate.tables.Load()
	if i := slices.Index(ts.ids, id); i >= 0 {
		return uint32(i + 1), true
	}
	return 0, false
}

// modeOf returns the mode of a container's policy ("" for a container
// the sandbox has no policy for).
func (r *Recorder) modeOf(id string) string {
	ts := r.gate.tables.Load()
	if id == r.id {
		return ts.root.Policy().Mode.String()
	}
	if i := slices.Index(ts.ids, id); i >= 0 {
		return ts.tables[i].Policy().Mode.String()
	}
	return ""
}

// apply parses, compiles and publishes a policy: the root container's
// (which the status reports), or another container's of the sandbox.
func (r *Recorder) apply(msg policyMessage) error {
	p, err := policy.Parse(msg.name, msg.data)
	if err != nil {
		return err
	}
	table, err := syscalls.Compile(p)
	if err != nil {
		return err
	}
	if msg.container != r.id {
		r.gate.setOCIResources(msg.container, msg.cpu)
		r.gate.Publish(msg.container, table)
		return nil
	}
	r.gate.Publish("", table)
	name := p.File
	r.policyName.Store(&name)
	r.policyDigest.Store(&msg.digest)
	r.learnReset.Store(true)
	return nil
}
