package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	containerdshim "github.com/containerd/containerd/v2/pkg/shim"
	"github.com/containerd/log"
	gvshim "gvisor.dev/gvisor/pkg/shim/v1"
)

// runtimeType is the runtime containerd users name.
const runtimeType = "io.containerd.athena.v1"

// linkDir is where, relative to this binary's directory, the "runsc" link
// to runsc-athena is installed.
const linkDir = "../lib/athena/shim"

func main() {
	if isRunscWrapper() {
		os.Exit(runscWrapper(os.Args[1:]))
	}
	if err := useAthena(); err != nil {
		fmt.Fprintf(os.Stderr, "containerd-shim-athena-v1: %v\n", err)
		os.Exit(1)
	}
	// gVisor's shim runs runsc-athena through this binary (keeper.go);
	// without the wrapper, containers without a keeper are unaffected
	// and kept ones end at their first sandbox loss.
	if err := installRunscWrapper(); err != nil && !isStart(os.Args[1:]) {
		fmt.Fprintf(os.Stderr, "containerd-shim-athena-v1: kept containers will not survive a recovery: %v\n", err)
	}
	m := &manager{Manager: gvshim.NewShimManager(runtimeType)}
	if !isStart(os.Args[1:]) {
		containerdshim.Run(context.Background(), m)
		return
	}
	// "start" tells containerd how to reach the shim. containerd's v2
	// library prints a JSON object, which containerd 1.7 and 2 read;
	// containerd 1.6 (Debian 12's) takes the whole combined output of
	// start as the socket address. A plain address works with all of
	// them (containerd 2 reads it as a task API v2 shim, which gVisor's
	// shim is), so print that, and nothing on stderr unless start fails.
	log.L.Logger.SetOutput(io.Discard)
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "containerd-shim-athena-v1: %v\n", err)
		os.Exit(1)
	}
	stdout := os.Stdout
	os.Stdout = w
	// Run exits the process itself (status 1, the error on stderr) when
	// start fails; on success it returns.
	containerdshim.Run(context.Background(), m)
	w.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		fmt.Fprintf(os.Stderr, "containerd-shim-athena-v1: reading the start answer: %v\n", err)
		os.Exit(1)
	}
	var params containerdshim.BootstrapParams
	if err := json.Unmarshal(out, &params); err != nil || params.Address == "" {
		fmt.Fprintf(os.Stderr, "containerd-shim-athena-v1: unexpected start answer %q\n", out)
		os.Exit(1)
	}
	fmt.Fprint(stdout, params.Address)
}

// isStart reports whether the shim was called for its "start" action (the
// last argument after the flags).
func isStart(args []string) bool {
	return len(args) > 0 && args[len(args)-1] == "start"
}

// useAthena makes gVisor's shim run runsc-athena: the shim runs the
// command "runsc" unless the runtime options name another binary
// (binary_name), so the directory holding a "runsc" link to runsc-athena,
// installed beside this binary, goes first in PATH.
func useAthena() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir := filepath.Clean(filepath.Join(filepath.Dir(self), linkDir))
	if _, err := os.Stat(filepath.Join(dir, "runsc")); err != nil {
		return fmt.Errorf("runsc-athena link missing (make install puts it in %s): %w", dir, err)
	}
	return os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}
