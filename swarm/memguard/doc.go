// Package memguard is the swarm's memory agent ("memory"): it watches the
// page faults the sandbox's kernel handles, the mapping calls that ask for
// writable and executable memory, and the containers' resident memory, and
// answers four things:
//
//  1. a task faulting far faster than the workload does (a thrashing or
//     memory-scanning task) with a short delay;
//  2. a task executing anonymous memory (code written at run time:
//     injected shellcode, or a JIT) with a vote to kill it;
//  3. a request for a writable and executable mapping (W+X) with a vote
//     to deny it;
//  4. a container over its memory budget with a kill of its largest
//     thread group, as the kernel's OOM killer does.
//
// # Events
//
// It reads event.KindFault events (one per fault, pushed by the athena
// platform: Sysno the signal, Args[0] the address, Args[1] the access
// bits, Args[2] the instruction pointer, Args[3] the memory class, which
// is set for exec faults only) and event.KindMemory events (Args[0] the
// operation: MemOpWX from the gate, MemOpGroupUsage and
// MemOpContainerUsage from the driver's sampling, about once a second), of
// the containers added with AddContainer; others are counted
// (Stats.Unknown) and ignored. exit and exit_group calls (KindSyscall)
// forget the calling task.
//
// # Algorithm
//
// Modes. Each container has its own mode and configuration
// (ContainerConfig; ConfigFrom converts the policy's memory section):
//
//	learn    learns the profile (below); decides nothing but records
//	         exec faults in anonymous memory, W+X requests and a budget
//	         overrun
//	observe  decides, as ActRecord only, with what enforce would do in
//	         the Reason ("observe: would kill: ...")
//	enforce  decides
//
// Fault rates. Each task (key: container slot and TID) counts its faults
// in one-second buckets, the Unix second of the event's time, as the rate
// detector (swarm/rate) counts calls: the first fault of a later second
// starts a new count and keeps the previous second's (0 after a gap); a
// fault timed before the task's current second counts in it; an event
// folded by the recorder counts 1+Repeats faults. Learn mode raises the
// container's Profile.FaultPeak, the most faults any of its tasks took in
// one second (per container, not per task: TIDs change from run to run,
// the workload's shape does not). Outside learn mode the threshold is
//
//	threshold = max(ceil(FaultPeak * Factor), Floor)
//
// and the fault that takes a task's count over it decides, once per task
// and second: enforce ActDelay for DelayBase * rate/threshold (rate: the
// larger of this second's count and the previous second's, so a sustained
// flood is held longer than a burst), at most DelayMax; observe
// ActRecord. A delay does not harm the application, so no quorum is
// needed. Score is min(1, rate/(2*threshold)).
//
// Executing anonymous memory. An exec fault (Args[1] has AccessExec) in
// MemAnon memory executes code that was written at run time, not loaded
// from a file: enforce mode votes ActKill with Score 1 (harmful, so the
// quorum carries it out only when another detector, the rules or the
// sense of self, agrees), or records when ContainerConfig.RecordAnonExec
// (policy anon_exec: record). Observe records "observe: would kill". Exec
// faults in file mappings are normal (every program's text), in MemOther
// (the vDSO, shared memory) left alone, and in MemUnmapped crashes
// (counted in ContainerStats.ExecUnmapped, not decided).
//
// W+X. A MemOpWX event (mmap, mprotect or pkey_mprotect asking for
// PROT_WRITE|PROT_EXEC) is recorded in learn and observe mode and, in
// enforce mode, a vote ActDeny (Score 1), or a record with
// ContainerConfig.RecordWX (policy wx: record). Evidence: the call, the
// address, the length, the protection and, for mmap, the flags by name
// and whether the mapping is anonymous.
//
// JITs. Java, JavaScript engines, LuaJIT and .NET execute anonymous memory
// and some map it W+X. What a workload does while learning is part of its
// profile: Profile.ExecAnon and Profile.WX are set when a task of the
// container did it in learn mode, and then enforce (and observe) mode
// only records it ("as learnt, the workload executes anonymous memory (a
// JIT): ..."). The host keeps profiles in its long memory (Profile,
// SetProfile). The price: injected code in a JIT workload is not caught
// by this agent.
//
// Folding. Decisions about a task are folded: at most one per kind (fault
// rate, anonymous exec, W+X) per task and second (Stats.Folded counts the
// others), so a task faulting a million times yields a decision a second.
//
// Budget. A container with a budget (ContainerConfig.Budget bytes, 0:
// none) is checked at each MemOpContainerUsage sample. The driver samples
// each thread group (MemOpGroupUsage) and then the container; the agent
// keeps only the largest group of the round (first sampled wins a tie), so
// a container's samples cost it a few words whatever its number of
// groups. Over budget, enforce mode (budget_action kill, the default)
// decides ActKill of that largest group (Decision.PID), with Limit set so
// that the quorum carries it out on this agent's word alone (an
// operator's limit, not an anomaly), Reason "container 612 MiB over budget
// 512 MiB; killing PID 7 (580 MiB)" and Evidence usage, budget, groups,
// pid and rss in bytes. This is the kernel's OOM-killer choice without
// oom_score_adj: the largest resident set goes, whatever it is (even the
// container's init, which ends the container). The kill is given Grace
// (2s) to take effect: while the victim is still sampled within Grace
// nothing more is killed; after Grace, a victim still there (and still
// the largest) is killed again; a victim gone while the container is
// still over lets the next largest go at once. In learn and observe modes,
// and with budget_action record, the overrun is an ActRecord (Limit set),
// at the crossing and then at most once per Grace while the container
// stays over. With no group sampled, it is a record too.
//
// The budget is enforced in enforce mode only, as the policy's rules are:
// observe mode's promise is that nothing happens to the application, and
// an operator limit that must hold whatever the policy's mode is the
// container's cgroup limit (docker run --memory). Set memory.mode: enforce
// to enforce the budget under a policy that observes.
//
// Tasks leave the table at exit or exit_group (the calling thread), by
// Forget, by RemoveContainer, after IdleTimeout without events (Tick
// sweeps at most every IdleTimeout/4, to the second) or when the table is
// full (MaxTasks; the CLOCK algorithm evicts a task not seen since the
// hand last passed). A task that comes back starts from zero, so it can be
// under-counted for the rest of that second, never over-counted.
//
// # Defaults and why
//
//   - Floor = 50,000 faults per second per task. Under gVisor a page
//     fault is a switch from the application to the sentry and back plus
//     the sentry's memory-manager work: microseconds, so one task cannot
//     take more than a few hundred thousand faults a second (about
//     300,000 at 3µs each). The sentry also allocates and maps private
//     memory in chunks larger than a page, so a benign task touching fresh
//     memory faults far less than once per 4 KiB; allocators, runtimes
//     starting up and copy-on-write after fork stay in the thousands to
//     tens of thousands a second. 50,000 (a sixth of what a task can
//     reach at all) leaves them room, while a task spending most of its
//     time faulting (scanning memory, thrashing, a rowhammer-style
//     loop) is over it. A workload above it learns a higher peak.
//   - Factor = 4, as the rate detector: a learning run rarely sees the
//     true peak.
//   - DelayBase = 100µs, DelayMax = 10ms: the sentry holds a delayed task
//     at each of its switches for as long as the delay lasts, so 100µs at
//     the threshold caps a task at about 10,000 switches a second while
//     held, and 10ms bounds the worst case; the application runs on.
//   - Grace = 2s: two usage samples, so a killed group has a whole
//     sampling period to exit before anything else is killed.
//   - MaxTasks = 16,384 and IdleTimeout = 10 minutes, as the rate and
//     selfmodel tables; see Memory.
//
// New fills every zero Config field with its default, and AddContainer
// every zero Floor and Factor; the zero Record* fields ask for the
// default actions (kill, kill, deny).
//
// # Memory
//
// A task's entry is 33 bytes: its 24-byte slot, key and CLOCK mark
// (swarm/clocktable; pinned by a test). Measured
// with runtime.MemStats (HeapAlloc after GC, before and after 10,000 tasks
// are created through Handle, slab slack and index map included): about
// 60 bytes per task, under the 256-byte budget the test enforces; a full
// default table is about 1 MB. A container's state is a 200-byte struct
// (64-bit) whatever its number of tasks and groups: about 210 bytes with
// its map entry, measured over 1,000 containers (budget 1,024). At most
// MaxContainers (4,096) containers are watched.
//
// Speed: Handle costs about 17 ns for a fault of a known task that
// decides nothing (two map lookups and a few compares; BenchmarkFault) and
// allocates nothing unless it decides (tested with testing.AllocsPerRun in
// all modes); a decision allocates its Reason and Evidence.
//
// An Agent is a deterministic state machine, not safe for concurrent use:
// one driver goroutine feeds it (see package agent). Snapshot and Restore
// deep-copy its state for the supervisor.
//
// # Limits
//
//   - Only exec faults are classified, so an exec fault is the one sign of
//     running written code; code that was executable before it was
//     written (a W+X mapping) faults once, at its first execution, and
//     later writes to it go unseen. That is why W+X requests are voted on
//     themselves.
//   - A budget kill acts on the latest sample: memory grown between two
//     samples (about a second) is seen only at the next one. The cgroup
//     limit remains the hard bound.
//   - Fault counts are per thread: many threads each under the floor are
//     not a flood, whatever their sum.
//
// Imports: the standard library, swarm/agent, swarm/event and swarm/policy.
package memguard
