// Package clocktable is the bounded per-task (or per-thread-group) table
// that the swarm's counting agents keep: a map from a 64-bit key
// (container<<32 | id) to a small fixed-size state, with a hard maximum
// of entries and CLOCK ("second chance") eviction when it is full, so that
// a flood of short-lived tasks cannot grow an agent's memory without
// bound and an active task is not evicted before an idle one.
//
// The states live in one slice (no pointers per entry, nothing for the
// garbage collector to chase); a lookup of a known key is one map access.
// A Table is not safe for concurrent use: its agent owns it. Clone makes
// the deep copy agents' snapshots need.
//
// Imports: the standard library only.
package clocktable
