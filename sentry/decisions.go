package sentry

import (
	"time"

	"gvisor.dev/gvisor/pkg/log"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/ring"
	"github.com/athenaos/athena/syscalls"
)

// drainInterval is how long the drainer sleeps when the ring is empty. A
// record waits at most this long; the app never waits at all.
const drainInterval = 20 * time.Millisecond

// DrainDecisions consumes the gate's event ring and writes one line per
// recorded call to the sentry's log (runsc --debug-log). It runs on its own
// goroutine for the sandbox's lifetime.
//
// This is the interim consumer: the durable host-side record (JSON lines
// through a link the sandbox holds from creation, `swarm events`) is still
// to come; until then decisions are visible in the debug log and counted
// in GateStats.
func DrainDecisions(events *ring.Ring, containerID string) {
	buf := make([]event.Event, 256)
	for {
		n := events.Drain(buf)
		if n == 0 {
			time.Sleep(drainInterval)
			continue
		}
		for i := range buf[:n] {
			e := &buf[i]
			v := syscalls.Verdict(e.Verdict)
			log.Infof("athena: decision container=%s pid=%d tid=%d syscall=%s args=%#x verdict=%v",
				containerID, e.PID, e.TID, syscalls.Name(uintptr(e.Sysno)), e.Args, v)
		}
	}
}
