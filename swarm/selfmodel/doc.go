// Package selfmodel is the swarm's online "sense of self": a detector that
// learns which short sequences of system calls a workload makes, then
// scores every call of every task against them and answers anomalies with
// a graduated response (record, delay, deny, kill).
//
// # Algorithm
//
// The model follows Forrest, Hofmeyr, Somayaji and Longstaff, "A Sense of
// Self for Unix Processes" (IEEE Symposium on Security and Privacy, 1996)
// as pH implemented it in the Linux kernel (Somayaji and Forrest,
// "Automated Response Using System-Call Delays", USENIX Security 2000).
//
// Model: lookahead pairs. For each current call s and each distance d in
// 1..K-1, the model holds the set of calls p seen d positions before s
// while learning: a bit set per (current, distance), bit p per previous
// call. A call's window (it and the K-1 calls before it in its task) is
// normal when s has been seen and all its K-1 pairs (s, d, p) are known;
// otherwise it is anomalous. Lookahead pairs, not an exact set of
// windows, because (1) a lookup is K-1 array reads with no hashing and no
// allocation, (2) memory is bounded by the syscall table, not by the
// length or variety of the training trace (an exact window set grows with
// every distinct window), and (3) the model generalizes: a window whose
// pairs were each seen in some window is normal, so the model converges in
// fewer calls and raises fewer false alarms. The price is that a novel
// window made only of known pairs goes unnoticed; Forrest et al. 1996 and
// pH accepted it for the same reasons.
//
// Locality frame. Each task keeps a ring of the anomaly bits of its last
// Frame windows; the locality frame count (LFC) is the number of bits set.
// Anomalies that cluster (an exploit, a shell) raise it; stray ones (a
// rare error path) decay out of the frame. Decision.Score is LFC/Frame.
//
// Graduated response (observe and enforce modes), one decision at most
// per call, the strongest that applies:
//
//	LFC >= KillAt                  ActKill  (any call)
//	anomalous and LFC >= DenyAt    ActDeny  (the anomalous call fails)
//	LFC >= DelayAt                 ActDelay (any call; DelayBase*DelayFactor^LFC,
//	                                         at most DelayMax, as pH's delay_factor*2^LFC)
//	anomalous                      ActRecord
//
// Every decision is recorded, so a stronger action implies a record. A
// decision on an anomalous call carries as Evidence the task's last few
// (4) novel windows, formatted by FormatWindow ("41,42,33,33,33,59": syscall
// numbers, oldest first, the current call last), which the caller names.
// Observe mode answers ActRecord only, with what enforce would have done
// in Reason. A zero threshold (or DelayBase) turns its step off.
//
// Learning. In learn mode every window is added to the model. The model
// counts training windows and remembers the count at its last change; the
// stability rule is: Stable when at least StableAfter training windows
// have gone by without adding a pair (Model.Stable, Detector.Stable). The
// detector never changes mode by itself: the host enforces a stable
// profile. Outside learn mode nothing is learnt from the calls scored;
// the model grows only by Tolerize (an operator accepts a thread group's
// recent behaviour: its tasks' kept anomalous windows, at most Keep
// distinct ones each, are added and their LFC cleared) and by Model.Merge
// (another run's model). Tolerized and merged windows count as training
// windows.
//
// Tasks. State is kept per thread (keyed by container and TID), or per
// thread group with PerProcess (threads then share one history; per
// thread is the default because the threads of a group interleave their
// calls arbitrarily). A task is forgotten at exit (its thread) or
// exit_group (its group), by Forget, after IdleTimeout without events
// (Tick sweeps), or when the table is full (MaxTasks; the CLOCK algorithm
// evicts a task not seen since the hand last passed). A forgotten task
// that comes back starts an empty history: its first windows are shorter,
// so it can be under-scored, never over-scored. One limit follows: a
// workload that churns through more than MaxTasks tasks can evict a task
// and so reset its LFC. Events folded by the recorder (Repeats > 0) are
// replayed, up to K-1+Frame times (beyond which nothing changes).
// Syscall numbers from NumSysno-1 up share one slot.
//
// # Defaults and why
//
//   - K = 6: Forrest et al.'s window. Tan and Maxion, "'Why 6?' Defining
//     the Operational Limits of stide" (IEEE S&P 2002) show that a window
//     sees a foreign sequence only if it is at least as long as the
//     sequence's minimal foreign part, and why 6 sufficed on Forrest's
//     data. Longer windows catch more but learn more slowly and cost K-1
//     reads per call.
//   - Frame = 32: a never-seen call makes up to K (6) consecutive windows
//     anomalous (once as the current call, then as a previous one), so a
//     32-call frame tells one stray novelty (LFC <= 6) from a burst, and
//     forgets an anomaly after 32 calls.
//   - DelayAt = 2, DelayBase = 10µs, DelayFactor = 2, DelayMax = 1s: a
//     single anomalous window is only recorded; from two, every call waits
//     10µs*2^LFC: 40µs at LFC 2 (the cost of a handful of calls, invisible
//     to people), 10ms at LFC 10, the 1s cap from LFC 17. An attack slows
//     by orders of magnitude while a false alarm costs little, pH's
//     argument for delays.
//   - DenyAt = 12: two never-seen calls' worth of anomalous windows in 32
//     calls, a burst rather than a stray error path.
//   - KillAt = 24: three quarters of the frame anomalous, sustained foreign
//     behaviour (the injected shell of the tests reaches it at its 28th
//     call).
//   - StableAfter = 100,000 windows: some 10,000 requests of a server loop
//     of a few to a dozen calls with nothing new, long enough for the
//     rarer request paths to have shown up, short enough for a steady
//     workload to settle in its first run.
//   - MaxTasks = 16,384, IdleTimeout = 10 minutes: see Memory; the timeout
//     catches tasks whose exit was never seen (killed by a signal, an event
//     dropped on a full ring) while a quiet daemon keeps its history.
//   - Keep = Frame: Tolerize then accepts every anomalous window the LFC it
//     clears was counting.
//
// New fills a zero K, Frame, DelayFactor, DelayMax, StableAfter,
// MaxTasks, IdleTimeout or Keep with its default, but takes zero
// thresholds as "off": Config{} learns and never responds;
// DefaultConfig() has every step on.
//
// # Memory
//
// Model: a 1 KiB index plus (K-1)*64 bytes per distinct current syscall,
// in one pointer-free slice: at most 161 KiB at K = 6 (all 512 slots),
// 481 KiB at K = 16; the test server plus shell (37 syscalls, 350 pairs)
// holds 14 KiB (with append slack) and encodes in 2.3 KB.
//
// Task: 104 bytes (unsafe.Sizeof, pinned by a test). Measured with
// runtime.MemStats (HeapAlloc after GC, before and after 10,000 tasks are
// created through Handle, so slab growth slack and the index map are
// included): 138 to 142 bytes per task across runs, under the 256-byte
// budget the test enforces. A task that has had anomalies also holds its
// novel-window buffer, 48 + 2*Keep*(K+1) bytes (496 at the defaults; 638
// bytes per task measured). A full default table is thus about 2.3 MB, plus 8 MB if every
// task had anomalies. The Detector adds 5*(Frame+1) reason strings and
// Frame+1 delays (about 10 KB at Frame 32).
//
// Speed: Handle costs 35 to 43 ns per call of a known task and allocates
// nothing (tested with testing.AllocsPerRun, in all modes); a decision on
// an anomalous call allocates its evidence strings.
//
// # Long memory
//
// Model.MarshalBinary writes a compact canonical encoding (format in
// marshal.go: a version byte, rows of per-distance bit sets with a mask of
// non-zero words, a CRC-32C); UnmarshalBinary checks the version
// (ErrVersion) and everything else (ErrCorrupt) and is fuzzed.
// Detector.Snapshot and Restore deep-copy the whole state for the
// supervisor.
//
// A Detector and its Model are deterministic state machines, not safe for
// concurrent use: one driver goroutine feeds them (see package agent).
//
// Imports: the standard library, swarm/agent and swarm/event.
package selfmodel
