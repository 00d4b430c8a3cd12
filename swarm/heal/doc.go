// Package heal is the swarm's healer agent ("healer") for the processes
// athena init supervises inside a container: what exited, why, how often,
// which restarts are pending and which processes were given up, for
// `swarm status` (Status), the decision record and metrics (Stats).
//
// Athena init (runsc-athena/cmd/athena-init), the first process of a
// container whose policy asks for restarts (policy.Heal.NeedsInit), is
// authoritative: it starts main and the services, reaps them and
// restarts them under a restart.Policy. This agent only follows: it
// restarts nothing and its decisions are ActRecord. It keeps, per
// process, a restart.Tracker fed as init feeds its own, so that it
// reaches init's decisions without hearing from init.
//
// # Inputs
//
//   - AddContainer(slot, ContainerConfig), RemoveContainer(slot): the
//     containers run by athena init; ConfigFromPolicy derives the config
//     from the policy's heal section and process.args.
//   - Handle: KindLifecycle events with Ops event.LifeOpExit, one per
//     child init reaps (PID, Comm, exit code or signal, event.Event);
//     every other event is ignored without allocating.
//   - Tick: the clock; restarts whose delay has passed are done.
//
// # Classification
//
// The sentry reports exits only, with the command name (comm: the base
// name of the executed file, cut to 15 bytes), not which of init's
// children the process was. An exit is the first service whose Comm is
// the exit's and which is live, else main if its command name matches and
// it is live, else an orphan's (a process reparented to init): counted,
// never restarted. A process is live when it is Running, or Restarting
// and its delay has passed by the exit's time: init restarts a process
// neither before its delay nor after giving up or being done, so an exit
// under its name then is an orphan's (a child of a crashed main reaped
// before main's restart, say). Limits: two live services of one command
// name cannot be told apart (the first takes the exits); a process that
// renames itself (prctl PR_SET_NAME) exits as an orphan; a restart that
// init fails to start (the binary vanished) is not seen and the process
// stays Running; nor is a shutdown (init got SIGTERM: docker stop), so the
// exits that follow it read as crashes, with restarts that never come.
//
// # Decisions and states
//
// The exit of main or a service feeds its Tracker (at the event's time)
// and makes one ActRecord decision, Reason as init logs it: "main (pid 7)
// exited with status 1: restart 2 in 200ms", "worker (pid 9) killed by
// SIGSEGV: 5 restarts within 1m: giving up", "main (pid 4) exited with
// status 0: not restarted under on-failure"; Evidence "process=main",
// "comm=server", "exits=3", "restarts=2", "window=2/5 restarts within
// 1m", "policy=on-failure, backoff 100ms..10s, intensity 5/1m",
// "state=restarting". A process starts Running; a restart makes it
// Restarting until Tick passes the exit's time plus the delay, or until
// it exits again after that (Running again; the Tracker is told it
// started at exit time + delay, as init's timer starts it); giving up
// makes it GivenUp, an exit its policy does not restart Done. When main
// is GivenUp or Done, init stops the container: nothing is restarted any
// more, a service waiting for its restart is Done, and a service's later
// exit is Done with "not restarted: stopping".
//
// # Memory
//
// At most MaxContainers (256) containers of main and MaxServices (64)
// services. A process is a 208-byte struct (pinned by a test) plus its
// Tracker and a mirror of the Tracker's restart window (an int64 per
// restart within the window, at most MaxRestarts), and its last cause.
// Measured (mem_test.go, default intensity 5/60s, 4 restarts each): about
// 500 bytes per process, 8 MiB for the largest agent (16,640 processes);
// the budget the test enforces is 640 bytes per process.
//
// An Agent is a deterministic state machine: no clock, no goroutines, no
// randomness, no I/O; not safe for concurrent use (one driver goroutine).
// Snapshot and Restore deep-copy its state for the supervisor; as a
// restart.Tracker cannot be copied, a snapshot keeps a mirror of each
// Tracker's state and Restore rebuilds Trackers that decide alike (tested
// against the originals on random histories).
//
// Tests replay traces (testdata/*.trace, format in trace_test.go) without
// a kernel.
//
// Imports: the standard library, swarm/agent, swarm/event, swarm/policy
// and swarm/restart.
package heal
