// Package memory is the swarm's long memory on the host: what agents learned
// about a workload (security profiles, "sense of self" models) persisted in
// an embedded database, so that the next run of the same workload starts
// from what earlier runs learned (shared/DESIGN.md, "Long memory").
//
// A Record is addressed by a kind ("profile", "selfmodel", ...) and a key:
// a stable identity of the workload that the caller computes, such as an
// image digest, never a container ID (which changes every run). The store
// keeps opaque bytes (Data) plus bookkeeping: when the record was created
// and last updated, how many runs contributed, and which run wrote it last.
// What Data means is up to the agent that owns the kind. runsc-athena keeps
// one record of kind "workload" per workload: its sense-of-self model and
// learned policy, merged at each container's delete (docs/memory.md).
//
// Imports: the standard library and go.etcd.io/bbolt (pure Go, builds with
// CGO_ENABLED=0). Never gVisor and never another AthenaOS folder; this
// package runs on the host side only.
//
// # Storage
//
// One bbolt file holds one bucket per kind under a root bucket; keys are the
// workload identities, so List returns them in byte order. Each value is
// encoded by this package with a leading version byte (see encodeRecord)
// and ends with a CRC-32C of everything before it: a value whose version
// this build does not know is rejected with ErrUnknownVersion, and one that
// fails its checksum with ErrCorrupt, rather than being misread.
//
// # Durability
//
// Every Put, Update and Delete is one bbolt read-write transaction. bbolt
// never overwrites live pages: a commit writes the changed pages to free
// space, fsyncs them, then writes and fsyncs one of two alternating meta
// pages (each with its own checksum) that points at the new tree. A process
// killed at any point (kill -9, a crash of the host side) therefore leaves
// the file at the last committed transaction: on the next Open bbolt picks
// the newest meta page whose checksum is valid. A call that returned nil is
// on disk; one that did not return may or may not be, but never half.
// (Power loss is covered as far as the disk honours fsync.)
//
// # Concurrency
//
// Within a process a Store is safe for concurrent use: bbolt runs one
// writer at a time and any number of readers beside it, and each Update
// runs its read-modify-write inside a single write transaction, so
// concurrent Updates of the same record never lose each other's changes.
//
// Between processes (the host sides of several sandboxes share one file)
// bbolt takes an flock on the file for as long as it is open: exclusive for
// a read-write Store, shared for a ReadOnly one. We keep that model rather
// than reopening the file per operation, and ask callers to hold a Store
// only briefly: open, load (at sandbox start) or merge (at sandbox stop),
// close. A second process's Open waits up to Options.Timeout (5s by default)
// for the lock and then fails with an error matching ErrLocked; it never
// reads or writes the file without the lock, so contention costs time, not
// data.
//
// # Limits
//
// Kinds are 1 to MaxKindLen bytes of [a-z0-9._-]; keys 1 to MaxKeyLen bytes;
// Source at most MaxSourceLen bytes; Data at most MaxDataLen (16 MiB). Times
// are stored with nanosecond precision in UTC and must lie between the years
// 1678 and 2261 (the range of int64 nanoseconds since 1970). Violations are
// reported before anything is written, with errors matching ErrInvalid.
package memory
