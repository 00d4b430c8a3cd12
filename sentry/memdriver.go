package sentry

import (
	"time"

	"gvisor.dev/gvisor/pkg/sentry/kernel"
	"gvisor.dev/gvisor/pkg/sentry/mm"

	"github.com/athenaos/athena/swarm/event"
)

// The driver samples every thread group's resident set this often, for
// the memory agent's budgets.
const memSampleInterval = time.Second

// recentFaults is how many of the latest faults the status shows.
const recentFaults = 32

// FaultStatus is one recent fault, for the status.
type FaultStatus struct {
	PID    int32  `json:"pid"`
	TID    int32  `json:"tid"`
	Addr   uint64 `json:"addr"`
	IP     uint64 `json:"ip"`
	Access string `json:"access"`
	Class  string `json:"class,omitempty"`
}

var memClassNames = [...]string{"", "anon", "file", "other", "unmapped"}

func accessString(a uint64) string {
	b := []byte("---")
	if a&event.AccessRead != 0 {
		b[0] = 'r'
	}
	if a&event.AccessWrite != 0 {
		b[1] = 'w'
	}
	if a&event.AccessExec != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// memDriver is the driver's memory half: it drains the memory ring into
// the swarm and samples resident sets.
type memDriver struct {
	feed       *memFeed
	batch      []event.Mem
	recent     [recentFaults]FaultStatus
	recentNext int
	recentN    int
	lastSample time.Time
	// usage is the latest resident bytes per container slot.
	usage  map[uint32]uint64
	groups []*kernel.ThreadGroup
}

func newMemDriver(f *memFeed) *memDriver {
	return &memDriver{feed: f, batch: make([]event.Mem, 256), usage: map[uint32]uint64{}}
}

// drain hands the waiting memory items, as events, to each.
func (m *memDriver) drain(ev *event.Event, each func(*event.Event)) int {
	n := m.feed.ring.Drain(m.batch)
	for i := range m.batch[:n] {
		it := &m.batch[i]
		if it.Kind == event.KindFault {
			f := &m.recent[m.recentNext]
			*f = FaultStatus{PID: it.PID, TID: it.TID, Addr: it.A[0], IP: it.A[2], Access: accessString(it.A[1])}
			if c := it.A[3]; c < uint64(len(memClassNames)) {
				f.Class = memClassNames[c]
			}
			m.recentNext = (m.recentNext + 1) % recentFaults
			m.recentN = min(m.recentN+1, recentFaults)
		}
		it.ToEvent(ev)
		each(ev)
	}
	return n
}

// recentFaults returns the latest faults, oldest first.
func (m *memDriver) recentList() []FaultStatus {
	out := make([]FaultStatus, 0, m.recentN)
	for i := range m.recentN {
		out = append(out, m.recent[(m.recentNext-m.recentN+i+recentFaults)%recentFaults])
	}
	return out
}

// sample reports every thread group's resident set, then each container's
// total, as KindMemory events (at most every memSampleInterval).
func (m *memDriver) sample(now time.Time, k *kernel.Kernel, slotOf func(*kernel.Task) uint32, ev *event.Event, each func(*event.Event)) {
	if k == nil || now.Sub(m.lastSample) < memSampleInterval {
		return
	}
	m.lastSample = now
	root := k.TaskSet().Root
	m.groups = root.ThreadGroupsAppend(m.groups[:0])
	clear(m.usage)
	ns := now.UnixNano()
	for _, tg := range m.groups {
		leader := tg.Leader()
		if leader == nil {
			continue
		}
		var tmm *mm.MemoryManager
		leader.WithMuLocked(func(t *kernel.Task) { tmm = t.MemoryManager() })
		if tmm == nil {
			continue
		}
		rss := tmm.ResidentSetSize()
		slot := slotOf(leader)
		m.usage[slot] += rss
		*ev = event.Event{Time: ns, Kind: event.KindMemory, Container: slot, PID: int32(root.IDOfThreadGroup(tg))}
		ev.Args[0], ev.Args[1] = event.MemOpGroupUsage, rss
		each(ev)
	}
	for slot, total := range m.usage {
		*ev = event.Event{Time: ns, Kind: event.KindMemory, Container: slot}
		ev.Args[0], ev.Args[1] = event.MemOpContainerUsage, total
		each(ev)
	}
	clear(m.groups) // do not keep exited groups alive until the next sample
}

// status describes the fault path; name maps container slots to IDs.
func (m *memDriver) status(name func(uint32) string) *MemoryStatus {
	fs := m.feed.stats()
	st := &MemoryStatus{Platform: activePlatform.Load().(string), FaultCount: fs.Faults, ExecFaults: fs.ExecFaults,
		WXRequests: fs.WX, Recent: m.recentList(), Usage: map[string]uint64{}}
	st.Faults = IsAthenaPlatform(st.Platform)
	for slot, b := range m.usage {
		st.Usage[name(slot)] = b
	}
	return st
}
