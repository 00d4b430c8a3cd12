// Package record defines the swarm's decision record: the JSON line the
// sandbox appends to a container's decision record (beside the gate's
// syscall records) for every decision an agent makes, with its ID and its
// evidence, and which `runsc-athena swarm explain` reads back.
//
// Imports: the standard library only.
package record
