// Package restart decides when a supervised process is restarted: the
// policy a container gives for its main process and its services (restart
// mode, backoff, intensity) and a Tracker per process that turns each exit
// into a Decision (restart after a delay, leave it exited, or give up).
//
// The semantics are those of an Erlang/OTP supervisor with Docker's
// restart modes on top:
//
//   - Mode: No never restarts; OnFailure restarts a process that exited
//     with a non-zero status or was killed by a signal, and leaves one that
//     exited with status 0 alone (it is done); Always restarts it whatever
//     its status.
//   - Backoff: the first restart waits BackoffFirst, each further one
//     twice the previous delay, up to BackoffMax. A run that lasted at
//     least BackoffMax (from Tracker.Started to Tracker.Exit) resets the
//     delay to BackoffFirst: the process had recovered.
//   - Intensity: at most MaxRestarts restarts within Window. An exit that
//     would need one more restart while MaxRestarts restarts are already
//     within the window gives up instead (OTP's "more than MaxR restarts
//     in MaxT"). A restart at time t counts until t+Window inclusive.
//
// A Tracker is a deterministic state machine (STYLE §2.2, §2.3): it reads
// no clock, sleeps never and starts no goroutines; the caller passes the
// time of each start and exit and applies the decision itself (athena-init
// does, with timers). Its memory is bounded by MaxRestarts.
//
// Imports: the standard library only (no gVisor, no other AthenaOS
// package).
package restart
