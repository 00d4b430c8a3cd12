// Package integration holds the end-to-end tests of runsc-athena in real
// containers: Docker with runtime "athena", side by side with runc where runc
// (real Linux) is the reference, and the runsc-athena OCI CLI driven directly.
//
// The tests need root, a running dockerd with runtime "athena" registered and
// the test images (`make install images`). They skip unless
// ATHENA_INTEGRATION=1 is set; `make test` sets it, and then a missing
// prerequisite is a failure, not a skip.
//
// Imports: anything (tests only).
package integration
