// Package rate is the swarm's rate detector: it counts, per thread group
// and per second, the calls that create processes, network connections and
// open files, learns the workload's peaks, and answers a group far above
// them (a fork bomb, a port scan, a file sweep) with a kill or a denial,
// and a delay.
//
// It complements the sense of self (package selfmodel): a fork bomb or a
// scan repeats calls the workload makes anyway, so every window of it can
// be normal; its rate is not.
//
// # Algorithm
//
// Classes. A fixed table indexed by syscall number (built from a readable
// list per architecture, sysno_amd64.go and sysno_arm64.go) gives each
// call its class:
//
//	spawn    clone, clone3, fork, vfork, execve, execveat
//	connect  connect, socket
//	open     open, openat, openat2, creat
//
// Any other call costs Handle one array read. exit_group forgets its
// thread group.
//
// Counting. Each thread group (key: container slot and PID) has, per
// class, the count of its calls in the current one-second bucket, the
// Unix second of the event's time (Event.Time / 1e9). The first counted
// call of a later second resets the counts; a call timed before the
// group's current second (events of several threads may arrive slightly
// out of order) counts in the current second, so a bucket never goes
// back. An event folded by the recorder counts 1+Repeats calls.
//
// Learning. In learn mode a class's peak is the highest count any group
// reached within one second (raised as the counts grow, so it equals the
// highest count of any completed second once that second is over).
// Peaks are per workload, not per group: PIDs change from run to run,
// the workload's shape does not. Peaks and SetPeaks save and load them
// (the host's long memory).
//
// Deciding. In observe and enforce modes a class's threshold is
//
//	threshold = max(ceil(peak * Factor), Floor[class])
//
// so that before anything is learnt the floors alone apply. The call that
// takes a group's count in a second over its class's threshold produces
// one decision, the only one for that group, class and second:
//
//	enforce  spawn: ActKill; connect, open: ActDeny; with
//	         Delay = DelayBase * count/threshold, at most DelayMax
//	observe  ActRecord, Reason "observe: would kill and delay 10.05ms: ..."
//
// Score is min(1, count/(2*threshold)); Reason reads "spawn: 201 calls in
// 1s, threshold 200 (peak 2 x 4, floor 200)"; Evidence holds the group's
// counts by class and the calling thread ("spawn=201", "connect=0",
// "open=0", "tid=4242"; agent.Decision has no TID field). Kill and deny
// harm the application, so the quorum (package quorum) carries them out
// only when another detector agrees; without a quorum it falls back to the
// decision's Delay, so a flood is at least slowed down on this
// detector's word alone.
//
// Groups leave the table at exit_group, by Forget, after IdleTimeout
// without counted calls (Tick sweeps at most every IdleTimeout/4; the
// timeout is kept to the second) or when the table is full (MaxGroups;
// the CLOCK algorithm evicts a group not seen since the hand last
// passed). A group that comes back starts from zero, so it can be
// under-counted for the rest of that second, never over-counted.
//
// Limits. Counts are per thread group: a fork bomb in which each process
// forks only a few times before its children take over (the shell's
// ":(){ :|:& };:") never has one group over a threshold; catching it
// needs a count per container, which this detector does not keep. Events must carry Time: with
// Time zero, every call falls in one second that never ends.
//
// # Defaults and why
//
//   - Factor = 4: a learning run rarely sees the workload's true peak, so
//     the learnt peak gets four times headroom; a flood (thousands of calls
//     a second against a learnt peak of a few to a few hundred) is still
//     far above.
//   - Floors (calls per second per thread group), which apply when the
//     peak times Factor is lower, including before anything is learnt:
//     spawn 200: shells, make and servers that fork per request stay
//     well under it, a fork loop reaches it within a fraction of a
//     second; connect
//     500 (a socket and a connect per connection, so 250 new connections
//     a second from one process): a client pool or a proxy under load
//     stays under it or teaches a higher peak, a scanner does not; open
//     20,000: builds, package managers and file servers open many files,
//     but tens of thousands a second from one process is a sweep over the
//     filesystem (ransomware, a credential hunt).
//   - DelayBase = 0 (no delay), DelayMax = 1s: the sentry holds a delayed
//     task at every one of its calls for as long as the delay lasts, so a
//     delay asked for by the rate detector alone would slow a busy but
//     benign process (a syscall benchmark opening 200,000 files a second
//     was slowed 2.5 times by a 10ms base): a rate anomaly alone is
//     recorded, and acts only with a quorum. A positive DelayBase makes
//     its decisions ask for DelayBase*count/threshold.
//   - MaxGroups = 16,384 and IdleTimeout = 10 minutes, as the selfmodel
//     task table: see Memory; the timeout catches groups whose exit_group
//     was never seen.
//
// New fills every zero Config field (each floor on its own) with its
// default.
//
// # Memory
//
// A group's entry is 33 bytes: its 24-byte slot, key and CLOCK mark
// (swarm/clocktable; pinned by a test). Measured
// with runtime.MemStats (HeapAlloc after GC, before and after 10,000
// groups are created through Handle, so slab growth slack and the index
// map are included): about 60 bytes per group, under the 256-byte budget
// the test enforces. A full default table is thus about 1 MB.
//
// Speed: Handle costs about 24 ns for a counted call of a known group (a
// map lookup and a few compares) and 3 ns for any other call, and
// allocates nothing unless it decides (tested with testing.AllocsPerRun,
// in all modes); a decision allocates its Reason and Evidence.
//
// A Detector is a deterministic state machine, not safe for concurrent
// use: one driver goroutine feeds it (see package agent). Snapshot and
// Restore deep-copy its state for the supervisor.
//
// Imports: the standard library, swarm/agent and swarm/event.
package rate
