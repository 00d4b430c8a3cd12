package main

import (
	"context"
	"sync"
	"time"

	"github.com/containerd/containerd/api/events"
	ctrevents "github.com/containerd/containerd/v2/core/events"
	"github.com/containerd/containerd/v2/pkg/shim"
	"github.com/containerd/containerd/v2/pkg/sys/reaper"
	"github.com/containerd/log"
)

// internalError is the status gVisor's shim gives a container whose exit
// status "runsc wait" could not tell.
const internalError = 128

// lateExit bounds how long a status may wait for the reaper to report the
// sandbox's exit.
const lateExit = 2 * time.Second

// sandboxExits supplies what gVisor's shim misses for a short-lived
// container. gVisor's shim learns a container's exit status from "runsc
// wait", which asks the sandbox; a container that exits quickly takes its
// sandbox down before the question, and "runsc wait" then asks the kernel
// for the sandbox process's status, which only that process's parent can
// have. The parent is this shim (a child subreaper): its reaper collects the
// status and gVisor's shim reports 128 ("sandbox no longer running and its
// exit status is unavailable"). A sandbox's process exits with its first
// container's status (128+N for signal N, as runsc wait reports it), so
// the status the reaper collected for it is the container's.
//
// sandboxExits follows the reaper for the sandbox processes of the
// containers this shim created as a sandbox's first container, and
// replaces 128 by the sandbox's status in what the shim reports of them:
// the TaskExit event, Wait, State and Delete.
type sandboxExits struct {
	mu sync.Mutex
	// watched maps a sandbox process's pid to its container's ID.
	// +checklocks:mu
	watched map[int]string
	// status holds the reaped status of watched pids.
	// +checklocks:mu
	status map[int]int
	// changed is closed, and replaced, when status gains an entry.
	// +checklocks:mu
	changed chan struct{}
	// kept holds the containers whose followed pid is their keeper's
	// (keeper.go): its status is theirs, whatever runsc wait said.
	// +checklocks:mu
	kept map[string]bool
}

func newSandboxExits() *sandboxExits {
	return &sandboxExits{
		watched: map[int]string{},
		status:  map[int]int{},
		changed: make(chan struct{}),
		kept:    map[string]bool{},
	}
}

// follow records the exits of watched pids until ctx ends.
func (x *sandboxExits) follow(ctx context.Context) {
	ch := reaper.Default.Subscribe()
	defer reaper.Default.Unsubscribe(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case e := <-ch:
			x.record(e.Pid, e.Status)
		}
	}
}

// record notes that pid exited with status, if pid is followed.
func (x *sandboxExits) record(pid, status int) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.watched[pid]; ok {
		x.status[pid] = status
		close(x.changed)
		x.changed = make(chan struct{})
	}
}

// watch starts following pid, the sandbox process of container id.
func (x *sandboxExits) watch(pid int, id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.watched[pid] = id
	delete(x.status, pid)
}

// keep marks container id as kept: the followed pid is its keeper's,
// whose status is authoritative.
func (x *sandboxExits) keep(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.kept[id] = true
}

// isKept reports whether container id is kept.
func (x *sandboxExits) isKept(id string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.kept[id]
}

// forget stops following the sandbox process of container id.
func (x *sandboxExits) forget(id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.kept, id)
	for pid, c := range x.watched {
		if c == id {
			delete(x.watched, pid)
			delete(x.status, pid)
		}
	}
	// Wake reaped's waiters: their pid may be gone.
	close(x.changed)
	x.changed = make(chan struct{})
}

// reaped returns a channel that receives pid's status once the reaper has
// collected it; the channel is closed without a value if pid stops being
// followed first.
func (x *sandboxExits) reaped(pid int) <-chan int {
	ch := make(chan int, 1)
	go func() {
		defer close(ch)
		for {
			x.mu.Lock()
			st, ok := x.status[pid]
			_, followed := x.watched[pid]
			changed := x.changed
			x.mu.Unlock()
			if ok {
				ch <- st
				return
			}
			if !followed {
				return
			}
			<-changed
		}
	}()
	return ch
}

// pidOf returns the sandbox process of container id, if followed.
func (x *sandboxExits) pidOf(id string) (int, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for pid, c := range x.watched {
		if c == id {
			return pid, true
		}
	}
	return 0, false
}

// fix returns the status to report for container id's first process,
// given the status gVisor's shim has for it: the same, unless that is 128
// and the container's sandbox process was reaped (or is within lateExit).
// For a kept container, the keeper's reaped status replaces any other.
func (x *sandboxExits) fix(ctx context.Context, id string, status uint32) uint32 {
	if status != internalError && !x.isKept(id) {
		return status
	}
	pid, ok := x.pidOf(id)
	if !ok {
		return status
	}
	deadline := time.NewTimer(lateExit)
	defer deadline.Stop()
	for {
		x.mu.Lock()
		st, ok := x.status[pid]
		changed := x.changed
		x.mu.Unlock()
		if ok {
			if uint32(st) != status {
				log.G(ctx).Debugf("container %s: exit status %d from its sandbox or keeper process %d (runsc wait said %d)", id, st, pid, status)
			}
			return uint32(st)
		}
		select {
		case <-changed:
		case <-deadline.C:
			return status
		case <-ctx.Done():
			return status
		}
	}
}

// exitPublisher corrects the exit status in the TaskExit events of
// containers followed by exits before publishing them.
type exitPublisher struct {
	shim.Publisher
	exits *sandboxExits
}

var _ shim.Publisher = (*exitPublisher)(nil)

// Publish implements events.Publisher.Publish.
func (p *exitPublisher) Publish(ctx context.Context, topic string, event ctrevents.Event) error {
	if e, ok := event.(*events.TaskExit); ok && e.ID == e.ContainerID {
		e.ExitStatus = p.exits.fix(ctx, e.ContainerID, e.ExitStatus)
	}
	return p.Publisher.Publish(ctx, topic, event)
}
