package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/athenaos/athena/bench/internal/parse"
)

// cpuCgroup is the host cgroup that accounts a container's CPU time.
//
// The runtime puts the container's processes in a cgroup of its own, named
// after the container (cgroupfs driver: docker/<id>; systemd driver:
// system.slice/docker-<id>.scope). For gVisor that cgroup holds the whole
// sandbox: the Sentry, its systrap stub processes and the gofer, so its
// usage is everything the runtime spent running the container, and the
// quota that `docker run --cpus` sets applies to all of it.
type cpuCgroup struct {
	dir string // the cgroup's directory
	v2  bool   // cpu.stat usage_usec (v2) rather than cpuacct.usage (v1)
}

// cgroupOf finds the CPU-accounting cgroup of a host process: cgroup v1's
// cpuacct hierarchy where it is mounted, else the unified (v2) one.
func cgroupOf(pid int) (cpuCgroup, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return cpuCgroup{}, err
	}
	entries, err := parse.ProcCgroup(data)
	if err != nil {
		return cpuCgroup{}, err
	}
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return cpuCgroup{}, err
	}
	mounts, err := parse.CgroupMounts(mi)
	if err != nil {
		return cpuCgroup{}, err
	}
	for _, v2 := range []bool{false, true} {
		for _, e := range entries {
			unified := e.ID == 0 && len(e.Controllers) == 0
			if unified != v2 || (!v2 && !slices.Contains(e.Controllers, "cpuacct")) {
				continue
			}
			if e.Path == "/" {
				// The root cgroup is the whole machine (gVisor's
				// processes show "0::/" on a v1 host: the unified
				// hierarchy is mounted but unused).
				continue
			}
			for _, m := range mounts {
				if m.V2 != v2 || (!v2 && !slices.Contains(m.Options, "cpuacct")) {
					continue
				}
				rel, err := filepath.Rel(m.Root, e.Path)
				if err != nil || strings.HasPrefix(rel, "..") {
					continue // the process's cgroup is not under this mount
				}
				cg := cpuCgroup{dir: filepath.Join(m.Point, rel), v2: v2}
				if _, err := cg.usage(); err == nil {
					return cg, nil
				}
			}
		}
	}
	return cpuCgroup{}, fmt.Errorf("pid %d: no cpuacct (v1) or cpu.stat (v2) cgroup found in %q", pid, strings.TrimSpace(string(data)))
}

// usage returns the cgroup's CPU time so far, in ns.
func (c cpuCgroup) usage() (int64, error) {
	if c.v2 {
		data, err := os.ReadFile(filepath.Join(c.dir, "cpu.stat"))
		if err != nil {
			return 0, err
		}
		us, err := parse.CPUStatUsageUsec(data)
		return us * 1000, err
	}
	data, err := os.ReadFile(filepath.Join(c.dir, "cpuacct.usage"))
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
}

// procs counts the processes in the cgroup (for the log: which of the
// runtime's processes it holds).
func (c cpuCgroup) procs() int {
	data, err := os.ReadFile(filepath.Join(c.dir, "cgroup.procs"))
	if err != nil {
		return -1
	}
	return len(strings.Fields(string(data)))
}

// processesOf lists the host processes whose cgroup path names the
// container (by its full id): after `docker rm -f` there must be none.
func processesOf(id string) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var pids []int
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, "cgroup"))
		if err != nil || !strings.Contains(string(data), id) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(d)); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
