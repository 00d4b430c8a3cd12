// Package containerd holds the end-to-end tests of containerd-shim-athena-v1
// (runtime type io.containerd.athena.v1) under a real containerd (Debian's
// package, /usr/bin/containerd) and, for the CRI, crictl.
//
// The tests start their own containerd, with its own root, state, sockets
// and config file (runtime handler "athena", the CRI plugin, a sandbox
// image imported locally since nothing can be pulled), in a work directory
// under /var/tmp (not /tmp: gVisor's sandbox mounts its chroot over /tmp,
// which would hide a runsc-athena installed there). They do not use the
// shared dockerd. At the end, failed or not, they stop that containerd and
// every shim, sandbox and gofer they started, and unmount what was mounted
// under the work directory.
//
// Binaries: the shim and runsc-athena come from ATHENA_BIN_DIR (make sets
// it to the checkout's bin/) or are built into the work directory;
// crictl is taken from PATH or built with `go install` into
// ATHENA_CACHE_DIR (default /var/cache/athena). containerd and capsh come
// from Debian's packages (scripts/deps.sh, make test-containerd installs
// them).
//
// The tests need root and skip unless ATHENA_CONTAINERD=1 is set; `make
// test-containerd` (part of `make test`) sets it, and then a missing
// prerequisite is a failure, not a skip.
//
// Imports: anything (tests only).
package containerd
