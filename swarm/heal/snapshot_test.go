package heal

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/restart"
)

// feed ticks to each event's time, handles it and returns the decisions.
func feed(a *Agent, evs []event.Event) []agent.Decision {
	var all []agent.Decision
	for i := range evs {
		all = a.Tick(time.Unix(0, evs[i].Time), all)
		all = a.Handle(&evs[i], all)
	}
	return all
}

func TestSnapshotRestore(t *testing.T) {
	cfg := testConfig()
	evs := []event.Event{
		exitEvent(0, 1, 7, "server", true, 1),
		exitEvent(50, 1, 8, "bash", true, 0),
		exitEvent(150, 1, 9, "worker", false, 11),
		exitEvent(400, 1, 10, "server", false, 9),
		exitEvent(420, 2, 11, "sh", true, 0),
		// snapshot here: main and worker restarting
		exitEvent(700, 1, 12, "server", true, 1),
		exitEvent(900, 1, 13, "worker", true, 1),
		exitEvent(1000, 2, 14, "server", true, 0),
		exitEvent(1500, 1, 15, "server", true, 1),
		exitEvent(2500, 1, 16, "server", true, 1),
		exitEvent(2600, 1, 17, "worker", true, 1),
	}
	const cut = 5
	a := newAgent(t, 1, cfg)
	if err := a.AddContainer(2, cfg); err != nil {
		t.Fatal(err)
	}
	feed(a, evs[:cut])
	snap := a.Snapshot()
	status := a.Status()
	want := feed(a, evs[cut:])
	wantStatus, wantStats := a.Status(), a.Stats()

	for round := range 2 {
		// Into a new agent, and into the one that went on (twice: a
		// snapshot is restored any number of times).
		b := New()
		if round == 1 {
			b = a
		}
		if err := b.Restore(snap); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(b.Status(), status) {
			t.Errorf("round %d: restored status %+v\nwant %+v", round, b.Status(), status)
		}
		got := feed(b, evs[cut:])
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round %d: decisions after restore:\n%+v\nwant\n%+v", round, got, want)
		}
		if !reflect.DeepEqual(b.Status(), wantStatus) || b.Stats() != wantStats {
			t.Errorf("round %d: final status %+v\nwant %+v", round, b.Status(), wantStatus)
		}
	}
	if len(want) != 5 || want[3].Reason != "main (pid 15) exited with status 1: 3 restarts within 10s: giving up" ||
		want[4].Reason != "worker (pid 17) exited with status 1: not restarted: stopping" {
		t.Errorf("the scenario does not give up: %+v", want)
	}

	// Errors leave the agent as it was.
	before := a.Status()
	for _, bad := range []any{nil, 3, (*snapshot)(nil), snapshot{}} {
		if err := a.Restore(bad); !errors.Is(err, ErrSnapshot) {
			t.Errorf("Restore(%T): %v", bad, err)
		}
	}
	broken := a.Snapshot().(*snapshot)
	broken.containers[0].procs[0].m.delay = 150 * time.Millisecond
	broken.containers[0].procs[0].state = Running
	if err := a.Restore(broken); !errors.Is(err, ErrSnapshot) {
		t.Errorf("Restore(bad delay): %v", err)
	}
	if !reflect.DeepEqual(a.Status(), before) {
		t.Error("a failed Restore changed the agent")
	}
}

// TestRebuildTracker checks that a Tracker rebuilt from its mirror decides
// as the original does, whatever came before: random policies and exit
// sequences (crash loops, long runs that reset the backoff, windows
// expiring), a snapshot at each point, then the rest fed to both.
func TestRebuildTracker(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// cases counts the rebuilds by how the backoff's doublings (j)
	// compare with the restarts within the window (k): the test must
	// see each way rebuild works.
	var cases struct{ fakes, resets, equal int }
	modes := []restart.Mode{restart.No, restart.OnFailure, restart.Always}
	for iter := range 300 {
		first := time.Duration(1+rng.IntN(500)) * time.Millisecond
		p := restart.Policy{
			Mode:         modes[rng.IntN(len(modes))],
			BackoffFirst: first,
			BackoffMax:   first * time.Duration(1+rng.IntN(64)),
			MaxRestarts:  1 + rng.IntN(8),
			Window:       time.Duration(1+rng.IntN(30)) * time.Second,
		}
		cfg := ContainerConfig{Main: "app", MainPolicy: p, Services: []Service{{Name: "svc", Comm: "svc", Policy: p}}}
		var evs []event.Event
		now := int64(0)
		for range 40 {
			switch rng.IntN(4) {
			case 0: // a long run
				now += int64(rng.IntN(int(p.Window/time.Millisecond)*2 + 1))
			default: // a crash loop
				now += int64(rng.IntN(int(4*p.BackoffMax/time.Millisecond) + 1))
			}
			comm := []string{"app", "svc", "other"}[rng.IntN(3)]
			code := uint64(rng.IntN(3))
			evs = append(evs, exitEvent(now, 1, int32(len(evs)+2), comm, rng.IntN(4) > 0, code+uint64(rng.IntN(2))*9))
		}
		a := newAgent(t, 1, cfg)
		var snaps []any
		for i := range evs {
			snaps = append(snaps, a.Snapshot())
			feed(a, evs[i:i+1])
		}
		for cut, s := range snaps {
			for _, c := range s.(*snapshot).containers {
				for _, pr := range c.procs {
					if pr.policy.Mode == restart.No || (pr.state != Running && pr.state != Restarting) {
						continue
					}
					j, k := 0, len(pr.m.restarts)
					for d := pr.policy.BackoffFirst; d != pr.m.delay; j++ {
						d = min(2*d, pr.policy.BackoffMax)
					}
					switch {
					case j > k:
						cases.fakes++
					case j < k:
						cases.resets++
					case k > 0:
						cases.equal++
					}
				}
			}
			ref := newAgent(t, 1, cfg)
			feed(ref, evs[:cut])
			want := feed(ref, evs[cut:])
			b := New()
			if err := b.Restore(s); err != nil {
				t.Fatalf("iter %d, cut %d: %v", iter, cut, err)
			}
			got := feed(b, evs[cut:])
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("iter %d (policy %+v), cut %d:\n got %+v\nwant %+v", iter, p, cut, got, want)
			}
		}
	}
	if cases.fakes < 100 || cases.resets < 100 || cases.equal < 100 {
		t.Errorf("rebuild cases seen: %+v; want each at least 100 times", cases)
	}
	t.Logf("rebuild cases: %+v", cases)
}
