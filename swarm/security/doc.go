// Package security is the swarm's security role put together: the
// sense-of-self detectors (one per container, package selfmodel), the
// advisory agents beside them (the rate detector), all under one
// supervisor (package supervisor), and the quorum (package quorum) that
// turns their decisions, and the rule engine's votes, into the actions the
// enforcement side carries out, each with an ID-able record and its
// evidence.
//
// A Swarm is a deterministic state machine like the agents it holds: the
// sentry's drainer feeds it every call of the application (Call), every
// refusal of the rule engine (Vote) and the time (Tick), and gets back
// Outcomes: what to do to which task and what to record. It reads no clock,
// starts no goroutines and does no I/O, so the tests drive it from
// recorded traces with a fake clock.
//
// # From decisions to actions
//
// Every agent decision goes through the quorum. Delays and records are
// carried out on one detector's word (they do not hurt the app: the
// graduated response starts there). A deny or a kill needs Quorum.Need
// distinct detectors asking for a harmful action about the same thread
// group within Quorum.Window; the action carried is the mildest the
// agreeing detectors asked for. Without a quorum a harmful decision is
// carried out as a delay (when a live vote asked for one) or a record,
// and says it is pending.
//
// The rule engine votes through Vote: every call the gate refused under
// an enforcing policy is a deny vote, a refusal by a kill rule a kill
// vote, and RulesKillAfter refusals of one thread group within the window
// a kill vote too (a program that keeps trying what the rules forbid).
//
// An action lasts: a delay applies to every call of the thread for
// DelayHold after the last decision that asked for it, a deny for
// DenyHold (see the sentry for which calls a deny fails). A kill ends
// the thread group.
//
// # Records
//
// Every outcome is recorded, folded: the first outcome of a kind (task,
// agent, action) within FoldWindow is recorded at once, later ones in the
// window are counted and recorded as one, with Repeats, when the window
// closes. A task that stays anomalous thus costs a record a second, not a
// record a call.
//
// # Supervision
//
// Each agent is a child of one supervisor. A detector in enforce mode is
// fail-closed: if it cannot be kept running, the swarm is Degraded and the
// enforcement side denies what the detector guarded (the sentry then
// fails the deny set of calls for the container). Detectors in learn or
// observe mode and the rate detector are fail-open: they stop and the app
// runs on without their advice. Snapshots are taken on ticks only
// (SnapshotTicks), never per event: a detector's snapshot copies its task
// table.
//
// Imports: the standard library and the swarm's agent, event, quorum,
// selfmodel and supervisor packages.
package security
