package security

import (
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/selfmodel"
	"github.com/athenaos/athena/swarm/supervisor"
)

// A recorded trace (amd64 syscall numbers) of a small server's request
// loop, and of a reverse shell injected into it.
var (
	serverLoop = []uint16{232, 288, 233, 0, 257, 5, 40, 3, 1, 3, 232, 0, 1}
	shellCalls = []uint16{41, 42, 33, 33, 33, 59, 12, 158, 9, 21, 257, 5, 9, 3, 102, 104, 39, 13, 13, 13, 107, 110, 79, 108, 0, 4, 56, 61, 13, 1, 0, 4, 56, 61, 1, 0}
)

var t0 = time.Unix(1700000000, 0)

// learnt returns a model trained on n server loops.
func learnt(t *testing.T, n int) *selfmodel.Model {
	m, err := selfmodel.NewModel(selfmodel.DefaultK)
	if err != nil {
		t.Fatal(err)
	}
	var calls []uint16
	for range n {
		calls = append(calls, serverLoop...)
	}
	m.Train(calls)
	return m
}

func enforcing(t *testing.T) *Swarm {
	s, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := selfmodel.DefaultConfig()
	cfg.Mode = selfmodel.ModeEnforce
	if err := s.AddContainer(0, cfg, learnt(t, 200), "model stable"); err != nil {
		t.Fatal(err)
	}
	return s
}

type feeder struct {
	s   *Swarm
	now time.Time
	out []Outcome
}

func (f *feeder) call(pid, tid int32, sysno uint16) []Outcome {
	f.now = f.now.Add(time.Millisecond)
	ev := event.Event{Kind: event.KindSyscall, Time: f.now.UnixNano(), PID: pid, TID: tid, Sysno: uint32(sysno)}
	f.out = f.s.Call(&ev, f.out[:0])
	return f.out
}

func strongest(os []Outcome) (agent.Action, *Outcome) {
	var best *Outcome
	a := agent.ActRecord
	for i := range os {
		if best == nil || os[i].Action > a {
			a, best = os[i].Action, &os[i]
		}
	}
	return a, best
}

func TestBenignTraceIsQuiet(t *testing.T) {
	f := &feeder{s: enforcing(t), now: t0}
	for range 500 {
		for _, c := range serverLoop {
			if out := f.call(10, 10, c); len(out) > 0 {
				t.Fatalf("benign call %d gave %+v", c, out[0])
			}
		}
	}
}

// The injected shell alone gets records and delays from the sense of self
// but no deny or kill: that needs a second detector.
func TestSelfModelAloneDelaysButCannotKill(t *testing.T) {
	f := &feeder{s: enforcing(t), now: t0}
	for range 10 {
		for _, c := range serverLoop {
			f.call(10, 11, c)
		}
	}
	var sawDelay, sawPending bool
	for range 3 {
		for _, c := range shellCalls {
			for _, o := range f.call(10, 11, c) {
				if o.Action.Harms() {
					t.Fatalf("harmful action without a quorum: %+v", o)
				}
				sawDelay = sawDelay || (o.Action == agent.ActDelay && o.Delay > 0 && o.Hold == DefaultDelayHold)
				sawPending = sawPending || o.Pending
				if o.Decision.TID != 11 || o.Decision.PID != 10 {
					t.Fatalf("decision about the wrong task: %+v", o.Decision)
				}
			}
		}
	}
	if !sawDelay || !sawPending {
		t.Fatalf("delay seen %v, pending harmful decision seen %v", sawDelay, sawPending)
	}
}

// A refusal by the rules plus the sense of self's anomalies make a
// quorum: the deny is carried, then repeated refusals carry the kill.
func TestRulesAndSelfModelCarryDenyThenKill(t *testing.T) {
	f := &feeder{s: enforcing(t), now: t0}
	for range 10 {
		for _, c := range serverLoop {
			f.call(10, 11, c)
		}
	}
	for _, c := range shellCalls[:12] {
		f.call(10, 11, c)
	}
	out := f.s.Vote(f.now, 0, 10, 11, false, "rule 'no-exec' (line 3)", []string{"execve /bin/sh"}, nil)
	if len(out) != 1 || out[0].Decision.Agent != RulesAgent {
		t.Fatalf("vote outcome: %+v", out)
	}
	var carried *Outcome
	for range 3 {
		for _, c := range shellCalls {
			for _, o := range f.call(10, 11, c) {
				if o.Carried && carried == nil {
					oc := o
					carried = &oc
				}
			}
		}
	}
	if carried == nil || carried.Action != agent.ActDeny || carried.Hold != DefaultDenyHold {
		t.Fatalf("no deny carried by rules + selfmodel: %+v", carried)
	}
	agents := map[string]bool{}
	for _, v := range carried.Votes {
		agents[v.Agent] = true
	}
	if !agents[RulesAgent] || !agents[selfmodel.Name] {
		t.Fatalf("carried deny's votes: %+v", carried.Votes)
	}
	// Three refusals within the window: the rules ask for a kill, and
	// with the sense of self at its kill threshold the kill is carried.
	for range 2 {
		f.s.Vote(f.now, 0, 10, 11, false, "rule 'no-exec' (line 3)", nil, nil)
	}
	var killed bool
	for range 3 {
		for _, c := range shellCalls {
			a, o := strongest(f.call(10, 11, c))
			if a == agent.ActKill && o.Carried {
				killed = true
			}
		}
	}
	if !killed {
		t.Fatal("no kill carried after repeated refusals and sustained anomalies")
	}
}

func TestRecordsAreFolded(t *testing.T) {
	f := &feeder{s: enforcing(t), now: t0}
	var recorded, folded int
	for range 5 {
		for _, c := range shellCalls {
			for _, o := range f.call(10, 11, c) {
				if o.Record {
					recorded++
				} else {
					folded++
				}
			}
		}
	}
	if recorded == 0 || folded == 0 || recorded > 10 {
		t.Fatalf("recorded %d, folded %d: want a few records and the rest folded", recorded, folded)
	}
	out := f.s.Tick(f.now.Add(2*time.Second), nil)
	sum := 0
	for _, o := range out {
		if !o.Record || !o.Folded || o.Repeats == 0 {
			t.Fatalf("tick outcome %+v", o)
		}
		sum += o.Repeats
	}
	if sum != folded {
		t.Fatalf("flushed repeats %d, folded %d", sum, folded)
	}
}

func TestObserveModeOnlyRecords(t *testing.T) {
	s, _ := New(Config{})
	cfg := selfmodel.DefaultConfig()
	cfg.Mode = selfmodel.ModeObserve
	if err := s.AddContainer(0, cfg, learnt(t, 200), ""); err != nil {
		t.Fatal(err)
	}
	f := &feeder{s: s, now: t0}
	for range 3 {
		for _, c := range shellCalls {
			for _, o := range f.call(1, 1, c) {
				if o.Action != agent.ActRecord || o.Mode != "observe" {
					t.Fatalf("observe mode outcome %+v", o)
				}
			}
		}
	}
}

func TestOtherContainersCallsAreNotScored(t *testing.T) {
	s := enforcing(t)
	f := &feeder{s: s, now: t0}
	for _, c := range shellCalls {
		f.now = f.now.Add(time.Millisecond)
		ev := event.Event{Kind: event.KindSyscall, Time: f.now.UnixNano(), Container: 1, PID: 3, TID: 3, Sysno: uint32(c)}
		if out := s.Call(&ev, nil); len(out) > 0 {
			t.Fatalf("container 1's call scored by container 0's model: %+v", out)
		}
	}
}

// panicky panics on every event after the first n.
type panicky struct{ n int }

func (p *panicky) Name() string { return "chaos" }
func (p *panicky) Handle(ev *event.Event, out []agent.Decision) []agent.Decision {
	if p.n--; p.n < 0 {
		panic("injected")
	}
	return out
}
func (p *panicky) Tick(time.Time, []agent.Decision) []agent.Decision { return nil }

func TestAdvisoryAgentPanicsFailOpen(t *testing.T) {
	s := enforcing(t)
	if err := s.AddAgent(supervisor.Spec{Agent: &panicky{n: 1}, New: func() agent.Agent { return &panicky{} }, Policy: supervisor.FailOpen}); err != nil {
		t.Fatal(err)
	}
	f := &feeder{s: s, now: t0}
	for range 20 {
		for _, c := range serverLoop {
			f.call(1, 1, c)
		}
	}
	st := s.Agents()
	if st[1].State != supervisor.Stopped || st[1].Panics == 0 || s.Degraded() {
		t.Fatalf("chaos agent: %+v, degraded %v", st[1], s.Degraded())
	}
	if st[0].State != supervisor.Running {
		t.Fatalf("the detector stopped with its sibling: %+v", st[0])
	}
}

func TestEnforcingDetectorFailsClosed(t *testing.T) {
	s := enforcing(t)
	// A detector that cannot be restarted: break its snapshot by
	// making the restore target reject it is not possible from here, so
	// drive the supervisor to give up with a panicking fail-closed
	// sibling instead and check the direction.
	if err := s.AddAgent(supervisor.Spec{Agent: &panicky{}, Policy: supervisor.FailClosed}); err != nil {
		t.Fatal(err)
	}
	f := &feeder{s: s, now: t0}
	out := f.call(1, 1, 0)
	if !s.Degraded() {
		t.Fatal("a fail-closed agent failed and the swarm is not degraded")
	}
	var said bool
	for _, o := range out {
		said = said || (o.Decision.Agent == "chaos" && o.Record && strings.Contains(o.Decision.Reason, "clos"))
	}
	if !said {
		t.Fatalf("no record of the fail-closed degradation: %+v", out)
	}
}
