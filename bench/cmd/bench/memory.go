package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/athenaos/athena/bench/internal/parse"
)

// containerMemory sums smaps_rollup figures over every host process that
// serves the container: its containerd shim and all of the shim's
// descendants. It returns the summed Rss and the summed Pss_Anon+Pss_Shmem
// (all of Pss on kernels without that breakdown), in MiB.
//
// Why not all of Pss: its file part is a share of the executable's pages,
// and the share shrinks with every other process mapping the same binary,
// so a runtime whose binary other containers on this machine also run
// (athena, under other people's tests) would look smaller for it. Anonymous
// and shmem pages (heap, stacks, gVisor's memory file, shared only between
// the Sentry and its stubs, all inside the tree) do not depend on
// neighbours. RSS is the other bound: every page each process maps.
//
// Why the shim's tree: the shim is a child subreaper, so whatever the
// runtime leaves running is reparented under it. For runc that is the
// container's own processes; for gVisor it is the sandbox (the Sentry, with
// its systrap stub processes below it) and the gofer. The container's cgroup
// would miss the gofer and the shim, and the shim is the same binary for all
// three runtimes, so including it keeps the comparison fair and complete.
// The shim is found by walking up the parents of the pid docker reports.
func containerMemory(ctx context.Context, name string) (rssMiB, ownMiB float64, procs int, err error) {
	out, err := docker(ctx, 30*time.Second, "inspect", "-f", "{{.State.Pid}}", name)
	if err != nil {
		return 0, 0, 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || pid <= 0 {
		return 0, 0, 0, fmt.Errorf("%s: no running pid (%q)", name, out)
	}
	tree, err := processTable()
	if err != nil {
		return 0, 0, 0, err
	}
	shim := pid
	for shim > 1 && !strings.HasPrefix(tree[shim].comm, "containerd-shim") {
		shim = tree[shim].ppid
	}
	if shim <= 1 {
		return 0, 0, 0, fmt.Errorf("%s: no containerd-shim above pid %d", name, pid)
	}
	var rss, own int64
	for _, p := range descendants(tree, shim) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", p))
		if err != nil {
			// A process that exited while we looked has no memory left.
			continue
		}
		s, err := parse.SmapsRollup(data)
		if err != nil {
			return 0, 0, 0, fmt.Errorf("pid %d: %w", p, err)
		}
		rss += s.Rss
		if s.Breakdown {
			own += s.PssAnon + s.PssShmem
		} else {
			own += s.Pss
		}
		procs++
	}
	return float64(rss) / 1024, float64(own) / 1024, procs, nil
}

type proc struct {
	comm string
	ppid int
}

// processTable reads name and parent of every process on the host.
func processTable() (map[int]proc, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return nil, err
	}
	t := map[int]proc{}
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		comm, ppid, err := parse.StatPPID(data)
		if err != nil {
			continue
		}
		t[pid] = proc{comm: comm, ppid: ppid}
	}
	return t, nil
}

// descendants returns root and every process below it.
func descendants(t map[int]proc, root int) []int {
	children := map[int][]int{}
	for pid, p := range t {
		children[p.ppid] = append(children[p.ppid], pid)
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}
