package supervisor

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
)

// State is where a child is in its lifecycle:
//
//	Running ──panic──► Restarting ──restarted──► Running
//	                   Restarting ──restart failed──► Restarting (tried again before its next input)
//	                   Restarting ──gave up──► Stopped (FailOpen) or Failed (FailClosed)
//
// Stopped and Failed are final.
type State uint8

// States.
const (
	Running State = iota
	Restarting
	Stopped
	Failed
)

var stateNames = [...]string{"running", "restarting", "stopped", "failed"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "state?"
}

// transitions holds, per state, the bit set of states it may go to.
var transitions = [...]uint8{
	Running:    1 << Restarting,
	Restarting: 1<<Running | 1<<Stopped | 1<<Failed,
}

// TransitionError is an invalid change of a child's state: a bug in the
// supervisor, which panics with it.
type TransitionError struct {
	Child    string
	From, To State
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("supervisor: child %q: invalid state transition from %s to %s", e.Child, e.From, e.To)
}

// child is one supervised agent.
type child struct {
	name   string
	newFn  func() agent.Agent
	policy Policy
	state  State

	agent agent.Agent
	sn    agent.Snapshotter // agent as a Snapshotter, or nil
	// snap is the last good snapshot, when hasSnap.
	snap    any
	hasSnap bool
	// since and ticks count the events and ticks handled since snap.
	since, ticks int

	window    window
	restarts  uint64
	panics    uint64
	handled   uint64
	decisions uint64
	lastPanic string
	// injected makes the child's next Handle or Tick panic (Inject).
	injected bool
}

// setAgent makes a the child's instance. A snapshot is kept only for an
// instance that can restore it.
func (c *child) setAgent(a agent.Agent) {
	c.agent = a
	c.sn, _ = a.(agent.Snapshotter)
	if c.sn == nil {
		c.snap, c.hasSnap = nil, false
	}
}

// to moves c to state st.
func (c *child) to(st State) {
	if int(c.state) >= len(transitions) || transitions[c.state]&(1<<st) == 0 {
		panic(&TransitionError{Child: c.name, From: c.state, To: st})
	}
	c.state = st
}

// window is a ring of a child's restart times (Unix nanoseconds), oldest
// first. It never holds more than the intensity, so its memory is fixed.
type window struct {
	t       []int64
	head, n int
}

// prune forgets the restarts more than period before now.
func (w *window) prune(now, period int64) {
	for w.n > 0 && now-w.t[w.head] > period {
		w.head = (w.head + 1) % len(w.t)
		w.n--
	}
}

// push records a restart at t.
//
// Preconditions: w.n < len(w.t).
func (w *window) push(t int64) {
	w.t[(w.head+w.n)%len(w.t)] = t
	w.n++
}

// maxPanicLen bounds a stored panic message.
const maxPanicLen = 200

// panicMessage returns "where: " and the first line of p's text, at most
// maxPanicLen bytes of it, copied so it keeps no large string alive.
func panicMessage(where string, p any) string {
	msg := fmt.Sprint(p)
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	if len(msg) > maxPanicLen {
		i := maxPanicLen
		for i > 0 && !utf8.RuneStart(msg[i]) {
			i--
		}
		msg = msg[:i]
	}
	return where + ": " + strings.Clone(msg)
}

// The calls into a child, each recovering a panic and returning its value
// (non-nil even for panic(nil), a *runtime.PanicNilError). The defers are
// open-coded: no allocation when nothing panics.

func handle(c *child, ev *event.Event, out []agent.Decision) (res []agent.Decision, p any) {
	defer func() { p = recover() }()
	c.injectedPanic()
	return c.agent.Handle(ev, out), nil
}

func tick(c *child, now time.Time, out []agent.Decision) (res []agent.Decision, p any) {
	defer func() { p = recover() }()
	c.injectedPanic()
	return c.agent.Tick(now, out), nil
}

// InjectedPanic is the value an injected fault panics with.
const InjectedPanic = "fault injected by the operator"

func (c *child) injectedPanic() {
	if c.injected {
		c.injected = false
		panic(InjectedPanic)
	}
}

func snapshot(sn agent.Snapshotter) (snap, p any) {
	defer func() { p = recover() }()
	return sn.Snapshot(), nil
}

func restore(sn agent.Snapshotter, snap any) (p any, err error) {
	defer func() { p = recover() }()
	return nil, sn.Restore(snap)
}

func callNew(newFn func() agent.Agent) (a agent.Agent, p any) {
	defer func() { p = recover() }()
	return newFn(), nil
}
