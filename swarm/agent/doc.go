// Package agent defines what every swarm agent is: a deterministic state
// machine fed by events and clock ticks, which answers with decisions.
// Agents never read a clock, sleep, start goroutines or touch gVisor: the
// driver (a supervisor, or a test replaying a recorded trace with a fake
// clock) gives them every input, so the same inputs always give the same
// outputs, as raft's Node does.
//
// Imports: the standard library and swarm/event.
package agent
