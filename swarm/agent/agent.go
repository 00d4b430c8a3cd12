package agent

import (
	"errors"
	"fmt"
	"time"

	"github.com/athenaos/athena/swarm/event"
)

// Agent is one swarm agent.
type Agent interface {
	// Name identifies the agent in status, metrics and evidence
	// ("selfmodel", "rules", "rate", ...).
	Name() string
	// Handle takes one event and appends the decisions it leads to, if
	// any, to out (the caller reuses out between calls).
	Handle(ev *event.Event, out []Decision) []Decision
	// Tick tells the agent the time (the driver calls it periodically,
	// and before Handle if time has moved) and appends decisions that
	// depend on time alone (windows closing, delays expiring).
	Tick(now time.Time, out []Decision) []Decision
}

// Snapshotter is an agent whose state can be saved and restored: a
// supervisor restarts a crashed agent from its last good snapshot instead
// of from scratch.
type Snapshotter interface {
	Agent
	// Snapshot returns a copy of the agent's state that later calls do
	// not change.
	Snapshot() any
	// Restore replaces the agent's state by a snapshot it returned.
	Restore(snapshot any) error
}

// Action is what a decision asks the enforcement side to do to a task.
type Action uint8

// Actions, in increasing harm to the application (the graduated response:
// record, then delay, then deny, then kill).
const (
	ActRecord Action = iota // nothing happens to the task; the decision is recorded
	ActDelay                // hold the task before it runs again, for Delay
	ActDeny                 // fail the task's offending calls
	ActKill                 // kill the task's thread group
)

var actionNames = [...]string{"record", "delay", "deny", "kill"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action?"
}

// Harms reports whether the action hurts the application (and so needs a
// quorum of detectors, see package quorum).
func (a Action) Harms() bool { return a >= ActDeny }

// Decision is what an agent concludes about a task.
type Decision struct {
	// Agent is the deciding agent's Name.
	Agent string
	// Container is the event's container slot; PID the thread group and
	// TID the thread whose event led to the decision (0 when the
	// decision is about the group as a whole).
	Container uint32
	PID       int32
	TID       int32
	Action    Action
	// Delay is how long to hold the task (ActDelay).
	Delay time.Duration
	// Score is the agent's anomaly score behind the decision, in [0, 1].
	Score float64
	// Reason says why, for people ("7 anomalous windows in the last 32
	// calls", "rule 'no shell'").
	Reason string
	// Evidence is agent-specific detail for explanations (for the sense
	// of self: the novel windows and their context).
	Evidence []string
	// Remote is what a network decision is about (the network agent's):
	// the remote end to block, Port 0 meaning every port and Family 0
	// every remote. Zero for other agents.
	Remote event.NetAddr
	// Limit marks a decision that enforces a limit the operator set (a
	// memory budget), not an anomaly: it is carried out without a quorum,
	// as the rule engine's own refusals are.
	Limit bool
}

// Mode is what an agent does with what it sees; the agents that learn
// share it.
type Mode uint8

// Modes.
const (
	// ModeLearn learns (a model, peaks) and decides nothing.
	ModeLearn Mode = iota
	// ModeObserve decides, but reports what enforce would do as
	// ActRecord decisions only.
	ModeObserve
	// ModeEnforce decides and asks for actions (harmful ones subject to
	// the quorum).
	ModeEnforce
)

var modeNames = [...]string{"learn", "observe", "enforce"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return "mode?"
}

// ErrMode: ParseMode was given an unknown name.
var ErrMode = errors.New("unknown mode")

// ParseMode parses a mode name ("learn", "observe", "enforce").
func ParseMode(s string) (Mode, error) {
	for i, n := range modeNames {
		if s == n {
			return Mode(i), nil
		}
	}
	return 0, fmt.Errorf("parse mode %q: %w", s, ErrMode)
}
