package integration

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/sentry"
	"github.com/athenaos/athena/swarm/record"
)

// The scheduler's policies, each in a real container. The assertions are
// about what the scheduler decided and did (holds, who was held and who
// not, its records), and about shares of CPU far apart under and without
// the policy; the measured accuracy belongs to `make bench`.

// schedPolicy allows every call and configures the scheduler.
const schedPolicy = "version: 1\nmode: enforce\ndefault: allow\ncpu:\n"

// cpuOf reads a probe's "cpu SECONDS" line.
func cpuOf(t *testing.T, out string) float64 {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cpu "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("probe output %q: %v", out, err)
			}
			return f
		}
	}
	t.Fatalf("no cpu line in probe output %q", out)
	return 0
}

// schedContainer returns a status's scheduler entry for container id.
func schedContainer(st *sentry.Status, id string) (sentry.SchedContainerStatus, bool) {
	if st.Swarm == nil || st.Swarm.Sched == nil {
		return sentry.SchedContainerStatus{}, false
	}
	for _, c := range st.Swarm.Sched.Containers {
		if c.Container == id {
			return c, true
		}
	}
	return sentry.SchedContainerStatus{}, false
}

// TestSchedQuota: a quota, from the policy or from docker --cpus, holds a
// CPU hog: its tasks are throttled and it gets well under the one CPU it
// would take, and the status says where the quota came from.
func TestSchedQuota(t *testing.T) {
	requireIntegration(t)
	probe := probeBinary(t)
	rt := "athena-it-quota"
	registerRuntime(t, rt, "--athena-policy="+writePolicy(t, schedPolicy+"  quota: 0.5\n"))
	for _, tc := range []struct {
		name, rt, from string
		opts           []string
	}{
		{"policy", rt, "quota: policy", nil},
		{"docker --cpus", "athena", "quota: oci", []string{"--cpus=0.5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := uniqueName("quota")
			opts := append([]string{"-v", probe + ":/probe:ro"}, tc.opts...)
			opts = append(opts, "--", "sh", "-c", "/probe spin 6 1 > /tmp/out; cat /tmp/out; sleep 60")
			id := startDetached(t, tc.rt, name, opts...)
			st := swarmStatus(t, id, "the hog throttled", func(st *sentry.Status) bool {
				c, ok := schedContainer(st, id)
				return ok && c.ThrottledNS > uint64(time.Second)
			})
			c, _ := schedContainer(st, id)
			if c.Quota != 0.5 || c.Mode != "enforce" || !strings.Contains(c.ConfigFrom, tc.from) || st.Swarm.Sched.Holds == 0 {
				t.Errorf("scheduler view %+v (holds %d): want quota 0.5 from %q, enforced, holds", c, st.Swarm.Sched.Holds, tc.from)
			}
			var out string
			eventually(t, 30*time.Second, "the probe's result", func() bool {
				out = docker(t, "logs", name).stdout
				return strings.Contains(out, "cpu ")
			})
			// Unheld it would use 6 CPU-seconds; at 0.5 CPUs, 3.
			if cpu := cpuOf(t, out); cpu > 0.75*6 {
				t.Errorf("hog used %.2f CPU-seconds in 6s under a 0.5 CPU quota", cpu)
			}
		})
	}
}

// TestSchedFairShareBetweenGroups: a thread group of many hog threads does
// not crowd out a group of one: with cpu.share: groups the CPUs are shared
// by group, not by thread. The same workload with the scheduler off
// leaves the lone thread about 1/(NCPU+1) of the big group's CPU time;
// the scheduler must give it clearly more.
func TestSchedFairShareBetweenGroups(t *testing.T) {
	requireIntegration(t)
	probe := probeBinary(t)
	ratio := func(rt string) float64 {
		t.Helper()
		r := docker(t, "run", "--rm", "--runtime="+rt, "-v", probe+":/probe:ro", busybox, "sh", "-c",
			`n=$(($(nproc)+1)); /probe spin 8 $n > /tmp/a & /probe spin 8 1 > /tmp/b; wait; cat /tmp/a /tmp/b`)
		if r.code != 0 {
			t.Fatalf("probes: %v", r)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 2 {
			t.Fatalf("probe output %q", r.stdout)
		}
		big, lone := cpuOf(t, lines[0]), cpuOf(t, lines[1])
		t.Logf("%s: the lone thread's group %.2f CPU-seconds, the many-thread group %.2f", rt, lone, big)
		return lone / big
	}
	registerRuntime(t, "athena-it-share", "--athena-policy="+writePolicy(t, schedPolicy+"  share: groups\n"))
	registerRuntime(t, "athena-it-noshare", "--athena-policy="+writePolicy(t, schedPolicy+"  mode: off\n"))
	off, on := ratio("athena-it-noshare"), ratio("athena-it-share")
	// Measured: about 0.33 off, 0.43 to 0.6 on (holds are computed from
	// each thread's measured rate and fair share has no debt to close
	// the loop, see swarm/sched).
	if on < 1.15*off {
		t.Errorf("lone/many CPU ratio %.2f with fair groups, %.2f with the scheduler off: want clearly more (1.15 times)", on, off)
	}
}

// TestSchedLatencyProtection: tasks that block often are not held, CPU
// hogs are: under a quota of one CPU, with more hog threads than that and
// an interactive task beside them, the scheduler throttles the hogs and
// not the ticker (a host CFS quota would freeze all of them alike).
func TestSchedLatencyProtection(t *testing.T) {
	requireIntegration(t)
	probe := probeBinary(t)
	rt := "athena-it-latency"
	registerRuntime(t, rt, "--athena-policy="+writePolicy(t, schedPolicy+"  quota: 1\n"))
	name := uniqueName("latency")
	id := startDetached(t, rt, name, "-v", probe+":/probe:ro", "--", "sh", "-c",
		`/probe ticker 5 60 & /probe spin 60 3`)
	// The ticker is the task that blocks more than it runs.
	tickerOf := func(st *sentry.Status) *sentry.SchedTaskStatus {
		for i, task := range st.Swarm.Sched.Tasks {
			if task.Wait > task.Run && task.Wait > uint64(2*time.Second) {
				return &st.Swarm.Sched.Tasks[i]
			}
		}
		return nil
	}
	st := swarmStatus(t, id, "hog threads throttled beside the ticker", func(st *sentry.Status) bool {
		held := 0
		for _, task := range st.Swarm.Sched.Tasks {
			if task.Comm == "probe" && task.Throttled > uint64(500*time.Millisecond) {
				held++
			}
		}
		return held >= 2 && tickerOf(st) != nil
	})
	ticker := tickerOf(st)
	// Not held once known: the only hold it may have got is from its
	// first periods, before it was seen blocking (one CI run saw 10ms,
	// against seconds for each hog; on a loaded machine, 60ms against
	// 2.5s). Under 5% of the least held hog's holds.
	least := uint64(1 << 63)
	for _, task := range st.Swarm.Sched.Tasks {
		if !task.Interactive && task.Throttled > 0 {
			least = min(least, task.Throttled)
		}
	}
	if !ticker.Interactive || ticker.Throttled > least/20 {
		t.Errorf("the interactive ticker %+v was held %v, the least held hog %v: %+v", ticker, time.Duration(ticker.Throttled), time.Duration(least), st.Swarm.Sched.Tasks)
	}
}

// TestSchedRunaways: a task that spins without blocking past busy_after
// is recorded as a busy loop and delayed; a storm of thread groups over
// spawn_floor for two seconds is recorded as a fork bomb, a kill vote
// for the quorum. The sandbox answers docker exec throughout.
func TestSchedRunaways(t *testing.T) {
	requireIntegration(t)
	probe := probeBinary(t)
	dir := t.TempDir()
	rt := "athena-it-runaway"
	registerRuntime(t, rt, "--athena-events-dir="+dir, "--athena-policy="+writePolicy(t, schedPolicy+"  busy_after: 2s\n  spawn_floor: 40\n"))
	name := uniqueName("runaway")
	id := startDetached(t, rt, name, "--pids-limit=2048", "-v", probe+":/probe:ro", "--", "sh", "-c",
		`/probe spin 5 1; (for i in 1 2 3 4 5 6 7 8 9 10 11 12; do /probe forks 40 3 & sleep 0.4; done; wait); exec sleep 60`)
	var busy, bomb *record.Decision
	eventually(t, 60*time.Second, "busy-loop and fork-bomb records", func() bool {
		busy, bomb = nil, nil
		for _, d := range swarmDecisions(t, dir, id) {
			switch {
			case d.Agent == "sched" && strings.Contains(d.Reason, "busy loop"):
				busy = &d
			case d.Agent == "sched" && strings.Contains(d.Reason, "fork bomb"):
				bomb = &d
			}
		}
		return busy != nil && bomb != nil
	})
	if busy.Action != "delay" || busy.Pending || busy.PID == 0 {
		t.Errorf("busy loop record %+v: want a delay of the spinning task (a delay needs no quorum)", busy)
	}
	if bomb.Asked != "kill" || !strings.Contains(strings.Join(bomb.Evidence, " "), "floor=40") {
		t.Errorf("fork bomb record %+v: want a kill vote with the floor as evidence", bomb)
	}
	// The finding blocks the container's new processes for a while
	// (the storm's subshell dies of a failed fork; PID 1 execs its last
	// command).
	swarmStatus(t, id, "new processes refused under the fork-bomb block", func(st *sentry.Status) bool {
		return st.Swarm.Sched != nil && st.Swarm.Sched.SpawnsRefused["block"] > 0
	})
	if r := docker(t, "exec", name, "true"); r.code != 0 {
		t.Errorf("docker exec after the storm: %v", r)
	}
	if t.Failed() {
		t.Logf("decisions: %s", fmt.Sprint(swarmDecisions(t, dir, id)))
	}
}
