// Package dockerconfig registers and unregisters an OCI runtime in Docker's
// daemon.json without disturbing anything else in that file.
//
// daemon.json belongs to the operator: it may hold other runtimes, registry
// mirrors, log settings. Install therefore merges one key into
// "runtimes", keeps every other key (unknown ones included) as it was, refuses
// to touch a file it cannot parse, and writes atomically (temporary file +
// rename, same permissions) so a crash or a full disk never leaves a
// half-written daemon.json behind. It records what it added in a small state
// file so that Uninstall removes exactly that and nothing more.
//
// Imports: the standard library and internal/atomicfile.
package dockerconfig
