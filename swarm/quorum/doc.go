// Package quorum decides whether an action that hurts the application
// (deny, kill; later: block a flow, restore) is carried out: it needs the
// votes of a configurable number of independent detectors about the same
// task within a time window. A single detector's false positive then
// costs a record, or a delay, not the app. Every outcome gets an ID and
// keeps the votes behind it, for "swarm explain".
//
// Deterministic: time comes from the caller, so tests replay traces with a
// fake clock.
//
// Imports: the standard library and swarm/agent.
package quorum
