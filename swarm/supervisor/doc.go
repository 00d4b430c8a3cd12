// Package supervisor runs swarm agents under OTP-style supervision: a
// Supervisor owns a set of children (agent.Agent), fans every event and
// clock tick out to them in order, collects their decisions, and keeps them
// running when they panic.
//
// # Driving
//
// A Supervisor is driven like the agents it holds (see package agent): the
// caller's drainer goroutine calls Handle for each event and Tick when time
// moves. It is deterministic and single-threaded: it starts no goroutines,
// never reads a clock and never sleeps; the only time it knows is the one
// Tick gave it, so tests drive it with a fake clock and a recorded trace, and
// the same trace always gives the same decisions and the same Status. A
// Supervisor is itself an agent.Agent, so supervisors nest into trees.
//
// # Restarts
//
// A child that panics in Handle or Tick is recovered; the decisions it
// appended during that call are discarded, and the input it panicked on is
// not handed to it again. It is restarted at once:
//
//   - from its last good snapshot, if it is an agent.Snapshotter. The
//     supervisor snapshots such a child when it is added, after every
//     Config.SnapshotEvery events it handled and after every
//     Config.SnapshotTicks ticks, always after a call that did not panic,
//     and again right after each restart. What the child learned after its
//     last snapshot is lost. When the Spec has a New function the snapshot
//     is restored into a fresh instance, otherwise into the crashed one.
//   - otherwise from a fresh instance made by Spec.New.
//
// A child with neither cannot be restarted: the first panic ends it. A
// restart that fails (New panics or returns nil, Restore fails) leaves the
// child Restarting, and the restart is tried again before its next input.
//
// Restart intensity is OTP's: a child may be restarted at most
// Config.Intensity times within Config.Period (by default 5 within 10 s); a
// restart at time t counts until t+Period inclusive. Unlike OTP, intensity is
// counted per child, so one crashing agent does not take its siblings down.
// Only the restart times still within the period are kept, in a ring of
// Intensity entries per child: memory does not grow with the number of
// crashes. Restarts are stamped with the time of the last Tick.
//
// # Fail closed, fail open
//
// When a child cannot be kept running (it exceeds the intensity, or has no
// way to restart), its Spec.Policy decides what happens:
//
//   - FailOpen is for advisory agents (models, accounting, schedulers). The
//     child is Stopped and skipped from then on; the application runs on
//     without its advice. Losing an observer must not take the app down.
//   - FailClosed is for enforcement agents (rules, the sense of self in
//     enforce mode). The child is Failed, Degraded reports true, and the
//     supervisor emits, once, a decision with Agent = the child's name and
//     Action = agent.ActDeny that says the enforcement agent failed and the
//     swarm fails closed. The enforcement side is expected to turn a failed
//     fail-closed agent into denial of what it guarded (deny by default),
//     because otherwise crashing the guard, for instance with input crafted
//     to make it panic, would be a way around it.
//
// FailClosed is the zero Policy, so a Spec that does not say fails safe.
//
// # Hot path
//
// Handle and Tick do not allocate in the steady state (no panics, no
// snapshots due): recovering uses an open-coded defer, and the decisions go
// into the caller's reused slice. Snapshots cost whatever the child's
// Snapshot costs, every SnapshotEvery events.
//
// # Concurrency
//
// New, Add, Handle, Tick and Status must be called from one goroutine at a
// time (the drainer's). Degraded and Stats may be called from any goroutine:
// they read atomics.
//
// Imports: the standard library, swarm/agent and swarm/event only.
package supervisor
