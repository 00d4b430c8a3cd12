package sentry

import (
	"time"

	"gvisor.dev/gvisor/pkg/log"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/ring"
	"github.com/athenaos/athena/syscalls"
)

// The drainer sleeps while the ring is empty, from minDrainInterval after
// activity up to maxDrainInterval when idle, so an idle sandbox wakes only
// a few times a second. A record waits at most that long; the app never
// waits at all.
const (
	minDrainInterval = 20 * time.Millisecond
	maxDrainInterval = 320 * time.Millisecond
)

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
	sleep := minDrainInterval
	for {
		n := events.Drain(buf)
		if n == 0 {
			time.Sleep(sleep)
			sleep = min(2*sleep, maxDrainInterval)
			continue
		}
		sleep = minDrainInterval
		for i := range buf[:n] {
			e := &buf[i]
			v := syscalls.Verdict(e.Verdict)
			log.Infof("athena: decision container=%s pid=%d tid=%d syscall=%s args=%#x verdict=%v",
				containerID, e.PID, e.TID, syscalls.Name(uintptr(e.Sysno)), e.Args, v)
		}
	}
}
