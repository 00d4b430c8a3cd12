package rate

import (
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
)

// Recorded traces, built deterministically (a fixed LCG) in the build's
// syscall numbering: a server at steady rates, a fork bomb and a connect
// flood (a port scan). Times start at t0, a whole second.

const (
	testContainer = 3
	t0            = int64(1_700_000_000) * int64(time.Second)
)

// call is one call of a trace: who and what, at which offset from t0.
type call struct {
	at       time.Duration
	pid, tid int32
	sysno    uint32
}

// lcg is a fixed linear congruential generator: the same trace every time.
type lcg uint32

func (x *lcg) next(n int) int {
	*x = *x*1103515245 + 12345
	return int(uint32(*x)>>16) % n
}

// serverTrace is seconds seconds of a web server (PID 100) whose four
// worker threads serve 200 to 400 requests a second: each request opens
// one to three files and one in eight connects to a backend (socket, then
// connect); other calls (reads, writes) in between. Once a second a
// helper thread group (PID 101) runs a health check: one clone and one
// execve. The seed picks the mix.
func serverTrace(seed lcg, seconds int) []call {
	x := seed
	var out []call
	for s := range seconds {
		base := time.Duration(s) * time.Second
		reqs := 200 + x.next(201)
		step := time.Second / time.Duration(reqs+1)
		for r := range reqs {
			at := base + time.Duration(r)*step
			tid := int32(100 + r%4)
			out = append(out, call{at, 100, tid, sysRead})
			for range 1 + x.next(3) {
				out = append(out, call{at, 100, tid, sysOpenat})
				out = append(out, call{at, 100, tid, sysRead})
			}
			if x.next(8) == 0 {
				out = append(out, call{at, 100, tid, sysSocket}, call{at, 100, tid, sysConnect})
			}
		}
		out = append(out, call{base + 500*time.Millisecond, 101, 101, sysClone})
		out = append(out, call{base + 500*time.Millisecond, 101, 101, sysExecve})
	}
	return out
}

// forkBomb is seconds seconds of PID 200 calling clone perSecond times a
// second, evenly spread, starting at offset start.
func forkBomb(start time.Duration, seconds, perSecond int) []call {
	var out []call
	for i := range seconds * perSecond {
		out = append(out, call{start + at(i, perSecond), 200, 200 + int32(i%2), sysClone})
	}
	return out
}

// portScan is PID 300 opening a socket and connecting perSecond times a
// second, for one second from offset start.
func portScan(start time.Duration, perSecond int) []call {
	var out []call
	for i := range perSecond {
		t := start + at(i, perSecond)
		out = append(out, call{t, 300, 300, sysSocket}, call{t, 300, 300, sysConnect})
	}
	return out
}

// at is the offset of the i-th of perSecond evenly spread calls a
// second: exactly perSecond of them fall in each second.
func at(i, perSecond int) time.Duration {
	return time.Duration(int64(i) * int64(time.Second) / int64(perSecond))
}

// events turns a trace into syscall events.
func events(calls []call) []event.Event {
	evs := make([]event.Event, len(calls))
	for i, c := range calls {
		evs[i] = event.Event{
			Kind:      event.KindSyscall,
			Container: testContainer,
			PID:       c.pid,
			TID:       c.tid,
			Sysno:     c.sysno,
			Time:      t0 + int64(c.at),
		}
	}
	return evs
}

// shift moves a trace by d.
func shift(calls []call, d time.Duration) []call {
	out := make([]call, len(calls))
	for i, c := range calls {
		c.at += d
		out[i] = c
	}
	return out
}

// feed hands evs to d and returns the decisions.
func feed(d *Detector, evs []event.Event) []agent.Decision {
	var out []agent.Decision
	for i := range evs {
		out = d.Handle(&evs[i], out)
	}
	return out
}

// learned returns a detector in cfg's mode that learnt a minute of the
// server trace.
func learned(t interface{ Fatal(...any) }, cfg Config) *Detector {
	mode := cfg.Mode
	cfg.Mode = ModeLearn
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	feed(d, events(serverTrace(1, 60)))
	if err := d.SetMode(mode); err != nil {
		t.Fatal(err)
	}
	return d
}

func enforce() Config {
	c := DefaultConfig()
	c.Mode = ModeEnforce
	return c
}
