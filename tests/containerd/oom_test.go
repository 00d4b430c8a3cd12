package containerd

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// capSysResource is CAP_SYS_RESOURCE's bit in /proc/PID/status's CapEff.
const capSysResource = 24

// TestOOMScoreRefused: under a containerd that may not lower OOM scores
// (no CAP_SYS_RESOURCE, as in some container hosts), where a stock gVisor
// shim fails every container with "failed to set OOM Score on shim:
// permission denied", the athena shim keeps the score it inherited, says
// so in containerd's log, and runs the container; a CRI pod, whose
// sandbox CRI gives the score -998, runs too (the shim raises it to its
// own, as restrict_oom_score_adj would).
func TestOOMScoreRefused(t *testing.T) {
	e := requireSuite(t)
	c, err := e.startContainerd("nocap", true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.stop(); err != nil {
			t.Error(err)
		}
	})
	if hasCap(t, c.cmd.Process.Pid, capSysResource) {
		t.Fatal("containerd still has CAP_SYS_RESOURCE under capsh --drop")
	}
	containerdScore := oomScoreAdj(t, c.cmd.Process.Pid)

	r, err := c.ctr(ctrNS, c.ctrRun("--rm", busyboxImage, "nocap-run", "sh", "-c", "echo runs without CAP_SYS_RESOURCE; exit 4")...)
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 4 || !strings.Contains(r.stdout, "runs without CAP_SYS_RESOURCE") {
		t.Fatalf("want the container's output and exit 4: %s", r)
	}

	const id = "nocap-bg"
	c.mustCtr(t, ctrNS, c.ctrRun("-d", busyboxImage, id, "sleep", "1000")...)
	shims := c.shimsOf(id)
	if len(shims) != 1 {
		t.Fatalf("want one shim for %s, got %v", id, shims)
	}
	if got := oomScoreAdj(t, shims[0]); got != containerdScore {
		t.Fatalf("shim's oom_score_adj %d, want containerd's %d (it cannot be lowered)", got, containerdScore)
	}
	if out := c.mustCtr(t, ctrNS, "task", "exec", "--exec-id", "x", id, "echo", "exec-ok"); !strings.Contains(out, "exec-ok") {
		t.Fatalf("exec: %q", out)
	}
	c.mustCtr(t, ctrNS, "task", "kill", "-s", "SIGKILL", id)
	if !waitFor(20*time.Second, func() bool { return c.taskStatus(t, id) == "STOPPED" }) {
		t.Fatal("task not stopped 20s after SIGKILL")
	}
	c.mustCtr(t, ctrNS, "task", "delete", id)
	c.mustCtr(t, ctrNS, "container", "rm", id)
	if log := c.logText(); !strings.Contains(log, "shim runs with the OOM score it inherited from containerd") {
		t.Fatalf("containerd's log does not say why the shim kept its OOM score")
	}

	p := c.runPod(t, "nocap")
	ctr := p.create(t, "app", "echo pod-runs; exec sleep 1000", nil)
	c.mustCrictl(t, "start", ctr)
	if !waitFor(20*time.Second, func() bool {
		r, err := c.crictl("logs", ctr)
		return err == nil && strings.Contains(r.stdout, "pod-runs")
	}) {
		t.Fatal("the pod's container did not run")
	}
	if log := c.logText(); !strings.Contains(log, "process.oomScoreAdj -998 raised to") {
		t.Fatalf("containerd's log does not show the sandbox's OOM score raised")
	}
	c.mustCrictl(t, "stop", ctr)
	c.mustCrictl(t, "rm", ctr)
	c.mustCrictl(t, "stopp", p.id)
	c.mustCrictl(t, "rmp", p.id)
}

// hasCap reports whether process pid has capability bit in its effective
// set.
func hasCap(t *testing.T, pid, bit int) bool {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return caps&(1<<bit) != 0
		}
	}
	t.Fatalf("no CapEff in /proc/%d/status", pid)
	return false
}

// oomScoreAdj is process pid's oom_score_adj.
func oomScoreAdj(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/oom_score_adj", pid))
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
