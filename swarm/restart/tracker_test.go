package restart

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// step is one input to a Tracker at a time after the start of the test:
// a start, or an exit with the decision expected.
type step struct {
	at    time.Duration
	start bool
	// The exit: a status (exited) or a signal.
	exited    bool
	code, sig int
	want      Decision
}

func start(at time.Duration) step { return step{at: at, start: true} }

func exit(at time.Duration, code int, want Decision) step {
	return step{at: at, exited: true, code: code, want: want}
}

func killed(at time.Duration, sig int, want Decision) step {
	return step{at: at, sig: sig, want: want}
}

func restart(n int, delay time.Duration, reason string) Decision {
	return Decision{Restart: true, Delay: delay, Reason: reason, Count: n}
}

const ms = time.Millisecond

func TestTracker(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	fast := Policy{Mode: OnFailure, BackoffFirst: 100 * ms, BackoffMax: time.Second, MaxRestarts: 3, Window: 10 * time.Second}
	always := fast
	always.Mode = Always
	no := fast
	no.Mode = No
	giveUp3 := Decision{GiveUp: true, Reason: "3 restarts within 10s: giving up", Count: 3}
	for _, tc := range []struct {
		name  string
		p     Policy
		steps []step
	}{
		{"no: failure not restarted", no, []step{
			start(0), exit(50*ms, 1, Decision{Reason: "exit status 1: not restarted (restart: no)"}),
		}},
		{"no: signal not restarted", no, []step{
			start(0), killed(50*ms, 11, Decision{Reason: "killed by SIGSEGV: not restarted (restart: no)"}),
		}},
		{"on-failure: clean exit is done", fast, []step{
			start(0), exit(50*ms, 0, Decision{Reason: "exit status 0: not restarted under on-failure"}),
		}},
		{"on-failure: clean exit after restarts keeps the count", fast, []step{
			start(0), exit(10*ms, 2, restart(1, 100*ms, "exit status 2")),
			start(110 * ms), exit(120*ms, 0, Decision{Reason: "exit status 0: not restarted under on-failure", Count: 1}),
		}},
		{"on-failure: backoff doubles to the maximum, then gives up", Policy{Mode: OnFailure, BackoffFirst: 100 * ms, BackoffMax: 300 * ms, MaxRestarts: 4, Window: 10 * time.Second}, []step{
			start(0), exit(10*ms, 1, restart(1, 100*ms, "exit status 1")),
			start(110 * ms), exit(120*ms, 1, restart(2, 200*ms, "exit status 1")),
			start(320 * ms), exit(330*ms, 1, restart(3, 300*ms, "exit status 1")),
			start(630 * ms), exit(640*ms, 1, restart(4, 300*ms, "exit status 1")),
			start(940 * ms), exit(950*ms, 1, Decision{GiveUp: true, Reason: "4 restarts within 10s: giving up", Count: 4}),
		}},
		{"on-failure: a signal is a failure", fast, []step{
			start(0), killed(10*ms, 11, restart(1, 100*ms, "killed by SIGSEGV")),
			start(110 * ms), killed(120*ms, 9, restart(2, 200*ms, "killed by SIGKILL")),
			start(320 * ms), killed(330*ms, 6, restart(3, 400*ms, "killed by SIGABRT")),
			start(730 * ms), killed(740*ms, 11, giveUp3),
		}},
		{"always: clean exits restart", always, []step{
			start(0), exit(10*ms, 0, restart(1, 100*ms, "exit status 0")),
			start(110 * ms), exit(120*ms, 3, restart(2, 200*ms, "exit status 3")),
			start(320 * ms), killed(330*ms, 15, restart(3, 400*ms, "killed by SIGTERM")),
			start(730 * ms), exit(740*ms, 0, giveUp3),
		}},
		{"given up stays given up", fast, []step{
			start(0), exit(0, 1, restart(1, 100*ms, "exit status 1")),
			exit(0, 1, restart(2, 200*ms, "exit status 1")),
			exit(0, 1, restart(3, 400*ms, "exit status 1")),
			exit(0, 1, giveUp3),
			exit(time.Hour, 1, Decision{GiveUp: true, Reason: "3 restarts within 10s: giving up", Count: 0}),
			exit(time.Hour, 0, Decision{GiveUp: true, Reason: "3 restarts within 10s: giving up", Count: 0}),
		}},
		// Intensity is a sliding window: a restart at t counts until
		// t+Window inclusive.
		{"window: restart at t counts until t+window inclusive", Policy{Mode: OnFailure, BackoffFirst: 100 * ms, BackoffMax: 100 * ms, MaxRestarts: 2, Window: 10 * time.Second}, []step{
			exit(0, 1, restart(1, 100*ms, "exit status 1")),
			exit(5*time.Second, 1, restart(2, 100*ms, "exit status 1")),
			// At exactly 10s the restart at 0 still counts: 2 within.
			exit(10*time.Second, 1, Decision{GiveUp: true, Reason: "2 restarts within 10s: giving up", Count: 2}),
		}},
		{"window: old restarts expire", Policy{Mode: OnFailure, BackoffFirst: 100 * ms, BackoffMax: 100 * ms, MaxRestarts: 2, Window: 10 * time.Second}, []step{
			exit(0, 1, restart(1, 100*ms, "exit status 1")),
			exit(5*time.Second, 1, restart(2, 100*ms, "exit status 1")),
			exit(10*time.Second+1, 1, restart(2, 100*ms, "exit status 1")),
			exit(15*time.Second+1, 1, restart(2, 100*ms, "exit status 1")),
			exit(15*time.Second+2, 1, Decision{GiveUp: true, Reason: "2 restarts within 10s: giving up", Count: 2}),
		}},
		{"window: all expire", Policy{Mode: Always, BackoffFirst: 100 * ms, BackoffMax: 100 * ms, MaxRestarts: 1, Window: time.Second}, []step{
			exit(0, 0, restart(1, 100*ms, "exit status 0")),
			exit(2*time.Second, 0, restart(1, 100*ms, "exit status 0")),
			exit(4*time.Second, 0, restart(1, 100*ms, "exit status 0")),
			exit(4*time.Second+500*ms, 0, Decision{GiveUp: true, Reason: "1 restart within 1s: giving up", Count: 1}),
		}},
		// A run of at least BackoffMax resets the backoff; a shorter one
		// does not.
		{"backoff: reset after a long run", fast, []step{
			start(0), exit(10*ms, 1, restart(1, 100*ms, "exit status 1")),
			start(110 * ms), exit(120*ms, 1, restart(2, 200*ms, "exit status 1")),
			start(320 * ms), exit(1320*ms, 1, restart(3, 100*ms, "exit status 1")), // ran 1s = BackoffMax
		}},
		{"backoff: no reset just under the maximum", fast, []step{
			start(0), exit(10*ms, 1, restart(1, 100*ms, "exit status 1")),
			start(110 * ms), exit(120*ms, 1, restart(2, 200*ms, "exit status 1")),
			start(320 * ms), exit(1319*ms, 1, restart(3, 400*ms, "exit status 1")),
		}},
		{"backoff: no reset without Started", fast, []step{
			exit(0, 1, restart(1, 100*ms, "exit status 1")),
			exit(5*time.Second, 1, restart(2, 200*ms, "exit status 1")),
		}},
		{"backoff: Started counts from the last start only", Policy{Mode: OnFailure, BackoffFirst: 100 * ms, BackoffMax: time.Second, MaxRestarts: 10, Window: 10 * time.Second}, []step{
			start(0), exit(10*ms, 1, restart(1, 100*ms, "exit status 1")),
			start(110 * ms), exit(2*time.Second, 1, restart(2, 100*ms, "exit status 1")),
			start(2100 * ms), exit(2110*ms, 1, restart(3, 200*ms, "exit status 1")),
			start(2310 * ms), exit(2320*ms, 1, restart(4, 400*ms, "exit status 1")),
			start(2720 * ms), exit(2730*ms, 1, restart(5, 800*ms, "exit status 1")),
			start(3530 * ms), exit(3540*ms, 1, restart(6, time.Second, "exit status 1")),
			start(4540 * ms), exit(4550*ms, 1, restart(7, time.Second, "exit status 1")),
		}},
		{"defaults: 5/60s, 100ms..10s", Policy{Mode: OnFailure}, []step{
			exit(0, 1, restart(1, 100*ms, "exit status 1")),
			exit(time.Second, 1, restart(2, 200*ms, "exit status 1")),
			exit(2*time.Second, 1, restart(3, 400*ms, "exit status 1")),
			exit(3*time.Second, 1, restart(4, 800*ms, "exit status 1")),
			exit(4*time.Second, 1, restart(5, 1600*ms, "exit status 1")),
			exit(5*time.Second, 1, Decision{GiveUp: true, Reason: "5 restarts within 1m: giving up", Count: 5}),
		}},
		{"defaults: backoff capped at 10s", Policy{Mode: Always, MaxRestarts: 100}, []step{
			exit(0, 0, restart(1, 100*ms, "exit status 0")),
			exit(0, 0, restart(2, 200*ms, "exit status 0")),
			exit(0, 0, restart(3, 400*ms, "exit status 0")),
			exit(0, 0, restart(4, 800*ms, "exit status 0")),
			exit(0, 0, restart(5, 1600*ms, "exit status 0")),
			exit(0, 0, restart(6, 3200*ms, "exit status 0")),
			exit(0, 0, restart(7, 6400*ms, "exit status 0")),
			exit(0, 0, restart(8, 10*time.Second, "exit status 0")),
			exit(0, 0, restart(9, 10*time.Second, "exit status 0")),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := NewTracker(tc.p)
			if tr.Policy() != tc.p.WithDefaults() {
				t.Fatalf("Policy() = %+v", tr.Policy())
			}
			for i, s := range tc.steps {
				now := t0.Add(s.at)
				if s.start {
					tr.Started(now)
					continue
				}
				got := tr.Exit(now, s.exited, s.code, s.sig)
				if got != s.want {
					t.Errorf("step %d (at %s): got %+v\nwant %+v", i, s.at, got, s.want)
				}
			}
		})
	}
}

// TestTrackerMemory: the restart times kept never exceed MaxRestarts,
// however many restarts a long life sees.
func TestTrackerMemory(t *testing.T) {
	tr := NewTracker(Policy{Mode: Always, MaxRestarts: 3, Window: time.Second})
	now := time.Unix(0, 0)
	for i := 0; i < 1000; i++ {
		now = now.Add(400 * ms)
		d := tr.Exit(now, true, 0, 0)
		if !d.Restart || d.Count > 3 {
			t.Fatalf("exit %d: %+v", i, d)
		}
		if len(tr.restarts) > 3 || cap(tr.restarts) > 3 {
			t.Fatalf("exit %d: %d restart times kept (cap %d)", i, len(tr.restarts), cap(tr.restarts))
		}
	}
}

// TestTrackerDeterministic: the same inputs give the same decisions.
func TestTrackerDeterministic(t *testing.T) {
	run := func() string {
		tr := NewTracker(Policy{Mode: OnFailure, BackoffFirst: 10 * ms, BackoffMax: 40 * ms, MaxRestarts: 4, Window: time.Second})
		var b strings.Builder
		now := time.Unix(100, 0)
		for i := 0; i < 20; i++ {
			tr.Started(now)
			now = now.Add(time.Duration(i*37%50) * ms)
			fmt.Fprintf(&b, "%+v\n", tr.Exit(now, i%3 != 0, i%2, 11))
			now = now.Add(100 * ms)
		}
		return b.String()
	}
	if a, b := run(), run(); a != b {
		t.Errorf("decisions differ:\n%s\n%s", a, b)
	}
}
