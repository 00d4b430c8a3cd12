package quorum

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/athenaos/athena/swarm/agent"
)

// Config says which detectors vote and how many must agree.
type Config struct {
	// Need is how many distinct detectors must ask for a harmful action
	// on the same task within Window for it to be carried out (at least
	// 1; 1 means no quorum).
	Need int
	// Voters are the detectors (agent names) whose votes count; empty
	// means every agent's.
	Voters []string
	// Window is how long a vote stays valid.
	Window time.Duration
}

// DefaultConfig asks 2 of the detectors to agree within 10 seconds: the
// rule engine, the sense-of-self model, the rate detector, the memory
// agent, and the network agent's three detectors (egress policy, port
// scans, connection bursts). Votes count per thread group (PID), and the
// network agent votes about the container as a whole (PID 0), so a
// network block needs two of its own detectors, or one of them and
// another agent voting about PID 0.
func DefaultConfig() Config {
	return Config{Need: 2, Voters: DefaultVoters(), Window: 10 * time.Second}
}

// DefaultVoters returns the agents whose votes count by default.
func DefaultVoters() []string {
	return []string{"rules", "selfmodel", "rate", "memory", "egress", "scan", "burst", "sched"}
}

// maxTasks bounds the tasks with live votes; past it the oldest votes go
// first (a flood of tasks cannot grow the table without bound).
const maxTasks = 4096

// Outcome is what the quorum made of a decision.
type Outcome struct {
	// ID names the outcome ("Q42"), for explanations.
	ID string
	// Action is what is carried out: the decision's own action if it
	// does not harm the app or the quorum agreed, otherwise the most the
	// votes allow without a quorum (delay if a vote asked for a delay,
	// else record).
	Action agent.Action
	// Carried reports that a harmful action was agreed.
	Carried bool
	// Pending reports a harmful action that still lacks votes.
	Pending bool
	// Votes are the live votes about the task behind the outcome (one
	// per agent), the deciding one last.
	Votes []Vote
}

// Vote is one detector's decision about a task.
type Vote struct {
	Time time.Time
	agent.Decision
}

type taskKey struct {
	container uint32
	pid       int32
}

// Quorum counts votes. It is not safe for concurrent use: the swarm's
// driver owns it.
type Quorum struct {
	cfg    Config
	votes  map[taskKey][]Vote
	nextID uint64
}

// New checks cfg and returns a quorum.
func New(cfg Config) (*Quorum, error) {
	switch {
	case cfg.Need < 1:
		return nil, errors.New("quorum: need must be at least 1")
	case len(cfg.Voters) > 0 && cfg.Need > len(cfg.Voters):
		return nil, fmt.Errorf("quorum: need %d of %d voters can never be met", cfg.Need, len(cfg.Voters))
	case cfg.Need > 1 && cfg.Window <= 0:
		return nil, errors.New("quorum: a window is needed for votes to meet")
	}
	return &Quorum{cfg: cfg, votes: map[taskKey][]Vote{}}, nil
}

// Decide takes one agent decision at time now and returns what is carried
// out.
func (q *Quorum) Decide(now time.Time, d agent.Decision) Outcome {
	q.nextID++
	out := Outcome{ID: fmt.Sprintf("Q%d", q.nextID), Action: d.Action}
	key := taskKey{d.Container, d.PID}
	live := q.expire(now, key)
	if q.counts(d.Agent) {
		live = q.cast(key, live, Vote{Time: now, Decision: d})
	}
	out.Votes = slices.Clone(live)
	if !d.Action.Harms() {
		return out
	}
	if d.Limit {
		out.Carried = true // an operator's limit, not an anomaly
		return out
	}
	if !q.counts(d.Agent) {
		// A harmful action from a detector outside the quorum is never
		// carried out on its own word.
		out.Action, out.Pending = q.fallback(live, d), true
		return out
	}
	// Agreement: distinct voters that asked for a harmful action; the
	// action carried is the mildest harmful one among them.
	agreed := map[string]agent.Action{}
	for _, v := range live {
		if v.Action.Harms() {
			if a, ok := agreed[v.Agent]; !ok || v.Action < a {
				agreed[v.Agent] = v.Action
			}
		}
	}
	if len(agreed) >= q.cfg.Need {
		mildest := d.Action
		for _, a := range agreed {
			mildest = min(mildest, a)
		}
		out.Action, out.Carried = mildest, true
		return out
	}
	out.Action, out.Pending = q.fallback(live, d), true
	return out
}

// fallback is what a harmful decision without a quorum turns into: a delay
// if some live vote (or the decision) asked for one, else a record.
func (q *Quorum) fallback(live []Vote, d agent.Decision) agent.Action {
	if d.Delay > 0 {
		return agent.ActDelay
	}
	for _, v := range live {
		if v.Action == agent.ActDelay {
			return agent.ActDelay
		}
	}
	return agent.ActRecord
}

func (q *Quorum) counts(name string) bool {
	return len(q.cfg.Voters) == 0 || slices.Contains(q.cfg.Voters, name)
}

// expire drops the task's votes older than the window and returns the
// rest.
func (q *Quorum) expire(now time.Time, key taskKey) []Vote {
	votes := q.votes[key]
	live := slices.DeleteFunc(votes, func(v Vote) bool { return now.Sub(v.Time) >= q.cfg.Window })
	if len(live) == 0 {
		delete(q.votes, key)
		return nil
	}
	q.votes[key] = live
	return live
}

// cast records v among a task's live votes. Each agent keeps one vote per
// task: its latest harmful one while that is live (a later milder
// decision does not withdraw it), else its latest. So a task's votes are
// bounded by the number of agents however often they decide.
func (q *Quorum) cast(key taskKey, live []Vote, v Vote) []Vote {
	if i := slices.IndexFunc(live, func(o Vote) bool { return o.Agent == v.Agent }); i >= 0 {
		if live[i].Action.Harms() && !v.Action.Harms() {
			return live
		}
		live = slices.Delete(live, i, i+1)
	}
	live = append(live, v)
	if _, ok := q.votes[key]; !ok && len(q.votes) >= maxTasks {
		q.evictOldest()
	}
	q.votes[key] = live
	return live
}

func (q *Quorum) evictOldest() {
	var oldest taskKey
	var at time.Time
	first := true
	for k, vs := range q.votes {
		if t := latest(vs); first || t.Before(at) {
			oldest, at, first = k, t, false
		}
	}
	delete(q.votes, oldest)
}

func latest(vs []Vote) time.Time {
	var t time.Time
	for _, v := range vs {
		if v.Time.After(t) {
			t = v.Time
		}
	}
	return t
}

// Tick drops every vote older than the window (the driver calls it
// periodically so that idle tasks' votes do not linger).
func (q *Quorum) Tick(now time.Time) {
	for k := range q.votes {
		q.expire(now, k)
	}
}

// Tasks returns how many tasks have live votes.
func (q *Quorum) Tasks() int { return len(q.votes) }

// Forget drops the live votes about thread group pid of a container (an
// operator accepted its behaviour).
func (q *Quorum) Forget(container uint32, pid int32) {
	delete(q.votes, taskKey{container, pid})
}
