package restart

import (
	"fmt"
	"strconv"
	"time"
)

// Decision is what a Tracker decided about one exit.
type Decision struct {
	// Restart: start the process again after Delay.
	Restart bool
	Delay   time.Duration
	// GiveUp: the process exceeded the intensity and is not restarted
	// any more; the exit is a failure to report.
	GiveUp bool
	// Reason says why, for people: the exit as Describe writes it when
	// the process is restarted ("exit status 1", "killed by SIGSEGV");
	// the exit and why it is left alone otherwise ("exit status 0: not
	// restarted under on-failure"); the intensity when giving up ("5
	// restarts within 1m: giving up").
	Reason string
	// Count is the number of restarts within the window, this one
	// included.
	Count int
}

// Tracker decides the restarts of one supervised process. It is not safe
// for concurrent use; it reads no clock (the caller passes the times).
type Tracker struct {
	p Policy
	// restarts holds the times of the restarts still within the window,
	// oldest first; at most p.MaxRestarts.
	restarts []time.Time
	// delay is the delay of the next restart.
	delay   time.Duration
	started time.Time
	running bool
	gaveUp  bool
}

// NewTracker returns a Tracker for a process restarted under p, with
// p's zero fields set to their defaults.
//
// Preconditions: p.Validate() == nil.
func NewTracker(p Policy) *Tracker {
	p = p.WithDefaults()
	return &Tracker{p: p, delay: p.BackoffFirst, restarts: make([]time.Time, 0, p.MaxRestarts)}
}

// Policy returns the tracker's policy, defaults filled in.
func (t *Tracker) Policy() Policy { return t.p }

// Started records that the process started (or restarted) at now. A run
// from Started to Exit that lasted at least BackoffMax resets the backoff.
func (t *Tracker) Started(now time.Time) {
	t.started, t.running = now, true
}

// Exit records that the process ended at now, exited with status code
// (exited) or killed by signal, and decides what follows. After a
// decision that gives up, every later Exit gives up too.
func (t *Tracker) Exit(now time.Time, exited bool, code int, signal int) Decision {
	desc := Describe(exited, code, signal)
	ran := t.running && now.Sub(t.started) >= t.p.BackoffMax
	t.running = false
	t.expire(now)
	if t.gaveUp {
		return Decision{GiveUp: true, Reason: t.giveUpReason(), Count: len(t.restarts)}
	}
	switch {
	case t.p.Mode == No:
		return Decision{Reason: desc + ": not restarted (restart: no)", Count: len(t.restarts)}
	case t.p.Mode == OnFailure && exited && code == 0:
		return Decision{Reason: desc + ": not restarted under on-failure", Count: len(t.restarts)}
	}
	if len(t.restarts) >= t.p.MaxRestarts {
		t.gaveUp = true
		return Decision{GiveUp: true, Reason: t.giveUpReason(), Count: len(t.restarts)}
	}
	if ran {
		t.delay = t.p.BackoffFirst
	}
	d := Decision{Restart: true, Delay: t.delay, Reason: desc}
	t.delay = min(2*t.delay, t.p.BackoffMax)
	t.restarts = append(t.restarts, now)
	d.Count = len(t.restarts)
	return d
}

// expire drops the restarts older than the window: a restart at t counts
// until t+Window inclusive.
func (t *Tracker) expire(now time.Time) {
	i := 0
	for i < len(t.restarts) && now.Sub(t.restarts[i]) > t.p.Window {
		i++
	}
	if i > 0 {
		t.restarts = append(t.restarts[:0], t.restarts[i:]...)
	}
}

func (t *Tracker) giveUpReason() string {
	noun := "restarts"
	if t.p.MaxRestarts == 1 {
		noun = "restart"
	}
	return fmt.Sprintf("%d %s within %s: giving up", t.p.MaxRestarts, noun, FormatDuration(t.p.Window))
}

// Describe says how a process ended, as a Decision's Reason starts:
// "exit status 1" or "killed by SIGSEGV".
func Describe(exited bool, code int, signal int) string {
	if exited {
		return "exit status " + strconv.Itoa(code)
	}
	return "killed by " + SignalName(signal)
}

var signalNames = [...]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
	8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
	14: "SIGALRM", 15: "SIGTERM", 16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP",
	20: "SIGTSTP", 21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
}

// SignalName returns the Linux name of a signal number ("SIGSEGV"), or
// "signal N" for the real-time and unknown ones.
func SignalName(sig int) string {
	if sig > 0 && sig < len(signalNames) {
		return signalNames[sig]
	}
	return "signal " + strconv.Itoa(sig)
}
