package selfmodel

import (
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/event"
)

// Recorded traces, as amd64 syscall numbers: what a small static file
// server does (start-up, then request loops of three kinds), and what a
// reverse shell injected into it does (redirect the socket onto stdio,
// exec /bin/sh, which starts up and runs a command).
const (
	sRead          = 0
	sWrite         = 1
	sClose         = 3
	sStat          = 4
	sFstat         = 5
	sMmap          = 9
	sMprotect      = 10
	sBrk           = 12
	sRtSigaction   = 13
	sRtSigprocmask = 14
	sAccess        = 21
	sDup2          = 33
	sGetpid        = 39
	sSendfile      = 40
	sSocket        = 41
	sConnect       = 42
	sBind          = 49
	sListen        = 50
	sSetsockopt    = 54
	sClone         = 56
	sExecve        = 59
	sWait4         = 61
	sGetcwd        = 79
	sGetuid        = 102
	sGetgid        = 104
	sGeteuid       = 107
	sGetegid       = 108
	sGetppid       = 110
	sArchPrctl     = 158
	sSetTidAddress = 218
	sEpollWait     = 232
	sEpollCtl      = 233
	sOpenat        = 257
	sSetRobustList = 273
	sAccept4       = 288
	sEpollCreate1  = 291
	sPrlimit64     = 302
)

var (
	startup = []uint16{
		sExecve, sBrk, sArchPrctl, sMmap, sAccess, sOpenat, sFstat, sMmap, sClose,
		sOpenat, sRead, sFstat, sMmap, sMprotect, sMmap, sClose,
		sSetTidAddress, sSetRobustList, sRtSigaction, sRtSigprocmask, sPrlimit64,
		sSocket, sSetsockopt, sBind, sListen, sEpollCreate1, sEpollCtl,
	}
	// Request loops: a file sent, a 404, a keep-alive request.
	loopFile      = []uint16{sEpollWait, sAccept4, sEpollCtl, sRead, sOpenat, sFstat, sSendfile, sClose, sWrite, sClose}
	loopNotFound  = []uint16{sEpollWait, sAccept4, sEpollCtl, sRead, sOpenat, sWrite, sClose}
	loopKeepAlive = []uint16{sEpollWait, sRead, sWrite}
	// shell is the injected foreign behaviour.
	shell = []uint16{
		sSocket, sConnect, sDup2, sDup2, sDup2, sExecve,
		sBrk, sArchPrctl, sMmap, sAccess, sOpenat, sFstat, sMmap, sClose,
		sGetuid, sGetgid, sGetpid, sRtSigaction, sRtSigaction, sRtSigaction,
		sGeteuid, sGetppid, sGetcwd, sGetegid, sRead, sStat, sClone, sWait4,
		sRtSigaction, sWrite, sRead, sStat, sClone, sWait4, sWrite, sRead,
	}
)

// serverTrace is the server's start-up followed by n requests, in a fixed
// mix.
func serverTrace(n int) []uint16 {
	out := append([]uint16(nil), startup...)
	x := uint32(1)
	for range n {
		x = x*1103515245 + 12345 // a fixed LCG: the same trace every time
		switch (x >> 16) % 5 {
		case 0, 1:
			out = append(out, loopFile...)
		case 2:
			out = append(out, loopNotFound...)
		default:
			out = append(out, loopKeepAlive...)
		}
	}
	return out
}

// attackTrace is the server serving n requests, then the shell.
func attackTrace(n int) []uint16 { return append(serverTrace(n), shell...) }

const testContainer = 3

// events wraps calls as syscall events of one task.
func events(pid, tid int32, calls []uint16) []event.Event {
	evs := make([]event.Event, len(calls))
	for i, s := range calls {
		evs[i] = event.Event{
			Kind:      event.KindSyscall,
			Container: testContainer,
			PID:       pid,
			TID:       tid,
			Sysno:     uint32(s),
			Time:      int64(i) * int64(time.Microsecond),
		}
	}
	return evs
}

// feed hands evs to d and returns the decisions.
func feed(d *Detector, evs []event.Event) []agent.Decision {
	var out []agent.Decision
	for i := range evs {
		out = d.Handle(&evs[i], out)
	}
	return out
}

// learned returns a detector in cfg's mode whose model learnt the server
// trace of 200 requests.
func learned(t interface{ Fatal(...any) }, cfg Config) *Detector {
	mode := cfg.Mode
	cfg.Mode = ModeLearn
	d, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	feed(d, events(100, 100, serverTrace(200)))
	if err := d.SetMode(mode); err != nil {
		t.Fatal(err)
	}
	return d
}
