package quorum

import (
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/agent"
)

var t0 = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

func dec(who string, a agent.Action, pid int32) agent.Decision {
	return agent.Decision{Agent: who, Action: a, PID: pid, Reason: who + " says " + a.String()}
}

func TestTwoOfThree(t *testing.T) {
	q, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	// One detector asking to kill is not enough: recorded, pending.
	o := q.Decide(t0, dec("selfmodel", agent.ActKill, 7))
	if o.Carried || !o.Pending || o.Action != agent.ActRecord || len(o.Votes) != 1 {
		t.Fatalf("lone kill vote: %+v", o)
	}
	// The same detector again does not make a quorum.
	if o = q.Decide(t0.Add(time.Second), dec("selfmodel", agent.ActKill, 7)); o.Carried {
		t.Fatalf("one detector twice carried: %+v", o)
	}
	// Another task's votes do not count for this one.
	if o = q.Decide(t0.Add(time.Second), dec("rules", agent.ActDeny, 8)); o.Carried {
		t.Fatalf("votes about another task counted: %+v", o)
	}
	// A second detector within the window: carried, with the mildest
	// harmful action asked for.
	o = q.Decide(t0.Add(2*time.Second), dec("rules", agent.ActDeny, 7))
	if !o.Carried || o.Action != agent.ActDeny || len(o.Votes) != 2 || o.Votes[1].Agent != "rules" {
		t.Fatalf("second detector: %+v", o)
	}
	if o.ID == "" {
		t.Error("outcomes need an ID")
	}
}

func TestVotesExpire(t *testing.T) {
	q, _ := New(Config{Need: 2, Window: 5 * time.Second})
	q.Decide(t0, dec("a", agent.ActKill, 1))
	if o := q.Decide(t0.Add(6*time.Second), dec("b", agent.ActKill, 1)); o.Carried {
		t.Fatalf("an expired vote counted: %+v", o)
	}
	q.Tick(t0.Add(time.Hour))
	if q.Tasks() != 0 {
		t.Errorf("Tick left %d tasks", q.Tasks())
	}
}

func TestHarmlessPassesAndFallbacks(t *testing.T) {
	q, _ := New(DefaultConfig())
	if o := q.Decide(t0, dec("selfmodel", agent.ActDelay, 3)); o.Action != agent.ActDelay || o.Pending {
		t.Fatalf("a delay needs no quorum: %+v", o)
	}
	// A harmful vote without quorum falls back to the delay already voted.
	if o := q.Decide(t0.Add(time.Second), dec("rate", agent.ActKill, 3)); o.Action != agent.ActDelay || !o.Pending {
		t.Fatalf("fallback: %+v", o)
	}
	// A detector outside the voters never carries harm alone.
	if o := q.Decide(t0, dec("stranger", agent.ActKill, 4)); o.Carried || o.Action != agent.ActRecord {
		t.Fatalf("non-voter: %+v", o)
	}
	// A milder later vote does not withdraw a live harmful one.
	q2, _ := New(Config{Need: 2, Window: time.Minute})
	q2.Decide(t0, dec("a", agent.ActKill, 9))
	q2.Decide(t0.Add(time.Second), dec("a", agent.ActRecord, 9))
	if o := q2.Decide(t0.Add(2*time.Second), dec("b", agent.ActKill, 9)); !o.Carried || o.Action != agent.ActKill {
		t.Fatalf("withdrawn by a milder vote: %+v", o)
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []Config{{Need: 0}, {Need: 3, Voters: []string{"a", "b"}, Window: time.Second}, {Need: 2}} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestBoundedTasks(t *testing.T) {
	q, _ := New(Config{Need: 2, Window: time.Hour})
	for pid := range int32(maxTasks + 100) {
		q.Decide(t0.Add(time.Duration(pid)), dec("a", agent.ActRecord, pid))
	}
	if q.Tasks() > maxTasks {
		t.Errorf("%d tasks kept, bound %d", q.Tasks(), maxTasks)
	}
}
