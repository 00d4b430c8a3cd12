package sched

import "sort"

// Sample is one usage sample of a task, taken by the sentry's switch
// point (the athena platform) and fed to Agent.Observe. Its counters are
// cumulative since the task started; the agent works on differences.
type Sample struct {
	// Container is the container's slot; PID the thread group and TID
	// the thread, in the container's root PID namespace.
	Container uint32
	PID, TID  int32
	// RunNS is the task's CPU time in application code, WaitNS the time
	// it spent blocked in the sentry (sleeping system calls, futex and
	// poll waits), both in nanoseconds. Time held by this agent and time
	// runnable without a CPU count in neither.
	RunNS, WaitNS uint64
	// Switches counts the task's returns to the sentry (system calls,
	// faults, signals), Blocks the times it blocked (system calls that
	// slept).
	Switches uint64
	Blocks   uint64
}

// Throttle is one task's hold for a period, as the hot path reads it.
//
// The enforcement side holds the task once, for HoldNS nanoseconds,
// before it next re-enters application code after the table (Table.Gen)
// was published; a hold not applied by Until (the end of the period it
// belongs to, in nanoseconds since the Unix epoch) is dropped.
type Throttle struct {
	TID       int32
	Container uint32
	HoldNS    uint32
	Until     int64
}

// Table is a published set of holds: immutable once published, so the
// hot path reads it without locks (Agent.Published loads it atomically).
type Table struct {
	// Gen numbers the tables (1 for the first); a task applies at most
	// one hold per Gen.
	Gen uint64
	// Start is when the table was computed and Until when its period
	// ends (ns since the Unix epoch).
	Start, Until int64
	// Entries are sorted by Container, then TID.
	Entries []Throttle
}

// Lookup returns the hold of a task, if the table holds it: a binary
// search, no allocation, safe from any goroutine. A nil table holds
// nothing.
func (t *Table) Lookup(container uint32, tid int32) (Throttle, bool) {
	if t == nil {
		return Throttle{}, false
	}
	e := t.Entries
	lo, hi := 0, len(e)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if e[m].Container < container || e[m].Container == container && e[m].TID < tid {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(e) && e[lo].Container == container && e[lo].TID == tid {
		return e[lo], true
	}
	return Throttle{}, false
}

func sortThrottles(e []Throttle) {
	sort.Slice(e, func(i, j int) bool {
		if e[i].Container != e[j].Container {
			return e[i].Container < e[j].Container
		}
		return e[i].TID < e[j].TID
	})
}

// taskSlot is the agent's state for one task (72 bytes; the task table adds its
// key and a mark, see swarm/clocktable).
type taskSlot struct {
	// run, wait and blocks are the latest cumulative counters sampled.
	run, wait, blocks uint64
	// lastSeen is the latest sample's time, busySince when the task's
	// current run without blocking began (0: not running busy), both ns.
	lastSeen  int64
	busySince int64
	// wRun, wWait, wBlocks are the differences summed over the current
	// period (saturating).
	wRun, wWait, wBlocks uint32
	// duty is the smoothed fraction of its unblocked-or-running time the
	// task spends running: its demand is duty × Period.
	duty float32
	// rate is the smoothed fraction of its unheld time the task ran
	// (see the package doc, Holds).
	rate float32
	// hold is the hold computed for the current period (ns).
	hold uint32
	pid  int32
	// flags holds flag* bits.
	flags uint8
	// blockedHist has bit i set when the task was seen blocked i
	// periods ago (i < 8).
	blockedHist uint8
}

// Task flags.
const (
	flagInteractive uint8 = 1 << iota // short bursts in the latest period with data
	flagBusyDecided                   // the current busy run had its decision
	flagHasDuty                       // duty has been measured
	flagHasRate                       // rate has been measured
)

func taskKey(container uint32, tid int32) uint64 {
	return uint64(container)<<32 | uint64(uint32(tid))
}

// sat32 saturates v to a uint32.
func sat32(v uint64) uint32 {
	if v > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(v)
}

func add32(a uint32, b uint64) uint32 { return sat32(uint64(a) + b) }
