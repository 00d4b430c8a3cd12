// Package sched is the swarm's scheduler agent ("sched"): fair share and
// latency protection between the tasks and containers of one sandbox. It
// is the decision half only: it reads usage samples and publishes, once a
// scheduling period, how long each task must be held before it next
// re-enters application code; the sentry's scheduler loop applies the
// holds. It also flags two kinds of runaway: busy
// loops and fork bombs.
//
// # Inputs
//
//   - Observe(now, Sample), or Handle with an event.KindCPU event: a
//     task's cumulative CPU time (RunNS), time blocked in the sentry
//     (WaitNS), switches and blocks, sampled by the sentry's scheduler
//     loop once a period for every task. Time held by this
//     agent, and time runnable without a CPU, count in neither counter.
//   - Spawned(now, container, parent, n, out), or a KindCPU event with
//     CPUOpSpawned: n thread groups created (new thread groups the loop
//     saw, by parent).
//   - Tick(now, out): the clock; once Period has passed it closes the
//     period. Other events only advance the clock.
//   - Per container (AddContainer, SetContainer, SetMode): Weight (OCI
//     cpu.shares, default 1024), Quota in CPUs (docker --cpus; 0: none;
//     QuotaFromCFS converts OCI quota/period), FairGroups and Mode.
//
// # Output
//
// Published returns the current Table: immutable, swapped in by an
// atomic pointer once a period, sorted by container and TID, so the hot
// path finds a task's Throttle with a binary search, no lock and no
// allocation. A Throttle asks to hold the task once for HoldNS before it
// next runs application code after the table was published (Table.Gen),
// and lapses at Until, the end of the period. Throttles copies the
// entries. Holds are not agent.Decisions (there would be ten a second
// per task); the runaway findings are.
//
// # Algorithm
//
// Demand. Each period a task's duty is RunNS/(RunNS+WaitNS) over the
// period (the fraction of the time it was free to run that it ran: 1 for
// a CPU hog, under contention or not), averaged with the previous duty
// (halving the weight of older periods); a task with no sample and no
// hold in a period has its duty halved (idle). A task held for the whole
// period keeps its duty. Its demand is duty × Period. A task is
// interactive when its mean burst, RunNS per block, was at most
// InteractiveBurst (2ms) in the latest period it ran, or when it was seen
// blocked (WaitNS or Blocks grew) in any of its last 8 periods.
//
// Quota. A container with Quota q has a debt: what its tasks used over
// q × the period, summed over periods, at most DebtPeriods periods of
// quota and at least minus one period of quota (up to one period of
// unused quota is banked: the sentry measures CPU time in 10ms ticks, and
// a floor at 0 would turn that noise into a systematic shortfall). Its allowance for the
// next period is q × Period − debt. The debt closes the loop: if the
// holds' model of a task is wrong (below), the debt corrects the next
// periods, so over a few periods the container uses its quota to within
// the MinHold rounding (tested: within 10% over the first 10 s, within 2%
// in steady state; in the tests' simulations the error is under 0.1%).
//
// Fair share. The claimants are split in three levels: containers by
// Weight, thread groups of a container equally, threads of a group
// equally. At each level, when the demands (a container's capped by its
// allowance) fit in the capacity (CPUs × Period for containers, less the
// demand of learn-mode containers, which are not held; a container's
// allocation for its groups; a group's for its threads), each claimant
// gets its demand. Otherwise each has a fair share, capacity × weight /
// Σweight, and the excess, Σdemand − capacity, is cut from the claimants
// over their fair share in proportion to their overrun (demand − fair):
// a claimant under its fair share is never cut, none is cut below its
// fair share, and quota excess is held back in proportion to each task's
// share of the overrun.
//
// Latency protection. At the group and thread levels, interactive
// claimants (a group is interactive when all its threads are; a task is
// interactive when it ran in short bursts, or was seen blocked in any of
// its last 8 periods) keep their demand as long as the non-interactive
// claimants can absorb the excess, with their overrun and then with up
// to half their fair share: hogs take the holds first, and an
// interactive task under its share is never held. Under a quota the
// allowance never drops below the interactive tasks' demand (the hogs
// pay the debt). A container alone in its sandbox, without a quota or
// FairGroups, is not cut at all (nobody would get the CPU it gave up).
//
// Holds. A task's rate r is the fraction of its unheld time it ran in the
// latest period (1 for a hog with a CPU to itself; less when the host
// gives it less, with more runnable threads than CPUs). Held h, it runs
// about r × (Period − h), so a task allowed alloc is held Period × (1 −
// alloc/(r × Period)), and not at all when it already runs no more than
// alloc: the demand (duty × Period) decides the shares, the rate the
// holds, so that a hold never leaves a CPU idle for nothing.
// Holds below MinHold (200µs) are not published (they still count in the
// quota debt). Observe containers get their holds computed and counted
// (Stats.WouldHold, ContainerStats.Held) but never published; learn
// containers only measure.
//
// Busy loops. A period in which a task ran, never blocked and waited at
// most 1% of its time continues its busy run; a period it spent held
// without running keeps it; anything else ends it. A run of BusyAfter
// (10s) decides, and counting starts again (one decision per BusyAfter):
// enforce ActDelay for Delay (100ms); observe ActRecord "observe: would
// delay 100ms: busy loop: ran 10s without blocking (threshold 10s)";
// Evidence "streak=10s", "duty=1.00", "blocks=0", "tid=N"; Score
// min(1, streak/(2×BusyAfter)). A CPU-bound job is a busy loop by this
// definition: the decision is a delay (no quorum) and worth recording,
// not a kill.
//
// Fork bombs. A container's thread-group creations are counted per Unix
// second. The report that takes a second's count over SpawnFloor (200),
// when the SpawnSeconds−1 (1) seconds before it were over it too,
// decides once for that second: enforce ActKill about the reporting
// parent (a vote: the quorum decides, and falls back to Delay), observe
// ActRecord; Evidence "spawned=201", "floor=200", "seconds=2",
// "parent=N"; Score min(1, count/(2×floor)). Counting per container, not
// per group, catches the shell's ":(){ :|:& };:" that the rate detector
// (per group) misses.
//
// # Defaults and why
//
//   - Period 100ms: the CFS bandwidth period, so a quota behaves as with
//     runc's --cpus; ten table swaps a second.
//   - CPUs 1: the driver should set the sandbox's CPU count.
//   - InteractiveBurst 2ms: servers and shells run for microseconds to a
//     millisecond between blocks; a hog never blocks.
//   - BusyAfter 10s, Delay 100ms: a spinning task is visible after 10s,
//     and a 100ms hold once per 10s costs a legitimate CPU-bound job 1%.
//   - SpawnFloor 200 a second for 2 seconds: a parallel build creates at
//     most a few hundred processes a second, in bursts; a fork bomb
//     creates them without end as fast as the sentry allows.
//   - MaxTasks 16,384, IdleTimeout 10 minutes: as the other agents.
//
// # Memory
//
// A task's entry is 81 bytes: its 72-byte state, key and CLOCK mark
// (swarm/clocktable; pinned by a test). Measured with runtime.MemStats
// (HeapAlloc after GC, around 10,000 tasks in 2,500 groups sampled for
// two periods, all of them held): about 215 bytes per task, including
// the index map, the period's scratch and the published table, under
// the 256-byte budget the test enforces. Observe allocates nothing for a
// known task (tested with testing.AllocsPerRun); Tick allocates the
// published table (24 bytes per held task) and, at most once a period,
// small scratch.
//
// # Where it runs
//
// The sentry's scheduler loop (sentry/schedloop.go) samples the tasks
// (goroutine state every 5ms, CPU time each period, the sentry's own CPU
// shared out) and applies the published holds as external stops in runs
// of up to 20ms; docs/scheduler.md describes both halves. The decisions
// are tested from simulated traces (sim_test.go) and from a trace
// recorded in a real container (trace_test.go, testdata/).
//
// Fair share has no memory across periods (no debt), so it is exact only
// when demands are steady; the spawn floor is not learnt.
//
// An Agent is a deterministic state machine, not safe for concurrent use
// (one driver goroutine), except Published. Snapshot and Restore
// deep-copy its state for the supervisor.
//
// Imports: the standard library, swarm/agent, swarm/clocktable and
// swarm/event.
package sched
