package containerd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// keptOptions writes c's shim options file for kept containers: the ctr
// options plus runsc-athena's global flag --athena-checkpoint=1s (ctr 1.6
// cannot pass the annotation dev.athena.checkpoint), and returns its path.
func (c *containerd) keptOptions(t *testing.T) string {
	t.Helper()
	p := filepath.Join(c.dir, "runsc-kept.toml")
	text := fmt.Sprintf("root = %q\n[runsc_config]\n  debug-log = %q\n  athena-checkpoint = \"1s\"\n",
		c.runscRoot, filepath.Join(c.dir, "logs")+"/")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// keeperFile is what the test reads of a keeper's state
// (/run/athena/keeper/ID.json).
type keeperFile struct {
	KeeperPID         int    `json:"keeper_pid"`
	SandboxPID        int    `json:"sandbox_pid"`
	State             string `json:"state"`
	Checkpoints       uint64 `json:"checkpoints"`
	Recoveries        uint64 `json:"recoveries"`
	LastRecoveryCause string `json:"last_recovery_cause"`
}

func readKeeperFile(id string) (*keeperFile, error) {
	data, err := os.ReadFile(filepath.Join("/run/athena/keeper", id+".json"))
	if err != nil {
		return nil, err
	}
	var k keeperFile
	if err := json.Unmarshal(data, &k); err != nil {
		return nil, err
	}
	return &k, nil
}

// taskPidStatus is the PID and status ctr lists for task id.
func (c *containerd) taskPidStatus(t *testing.T, id string) (int, string) {
	t.Helper()
	out := c.mustCtr(t, ctrNS, "task", "ls")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == id {
			pid, _ := strconv.Atoi(f[1])
			return pid, f[2]
		}
	}
	return 0, ""
}

// TestCtrKeptRecovery: a container with checkpoints every second (the
// handler's options give runsc-athena --athena-checkpoint=1s) has a keeper;
// its sandbox is killed (swarm inject kill-sandbox) and the keeper restores
// it under the same ID. Through it all ctr sees one task, RUNNING, with the
// same PID (the keeper's) and no exit; exec works in the restored sandbox,
// which carries on from the checkpoint; kill then ends the task with the
// app's status (SIGTERM: 143).
func TestCtrKeptRecovery(t *testing.T) {
	c := requireSuite(t).main
	id := fmt.Sprintf("kept-%d", os.Getpid())
	opts := c.keptOptions(t)
	events := c.watchEvents(t, ctrNS)
	c.mustCtr(t, ctrNS, "run", "-d", "--runtime", runtimeType, "--runtime-config-path", opts, busyboxImage, id,
		"sh", "-c", "i=0; while true; do i=$((i+1)); echo $i >/tmp/count; sleep 0.2; done")
	t.Cleanup(func() {
		_, _ = c.ctr(ctrNS, "task", "delete", "-f", id)
		_, _ = c.ctr(ctrNS, "container", "rm", id)
	})
	pid, st := c.taskPidStatus(t, id)
	if st != "RUNNING" {
		t.Fatalf("task status %q, want RUNNING", st)
	}
	var k *keeperFile
	if !waitFor(30*time.Second, func() bool {
		var err error
		k, err = readKeeperFile(id)
		return err == nil && k.Checkpoints >= 2
	}) {
		t.Fatalf("no 2 checkpoints within 30s: keeper %+v", k)
	}
	if k.KeeperPID != pid {
		t.Fatalf("the task's PID %d is not the keeper's (%d)", pid, k.KeeperPID)
	}
	oldSandbox := k.SandboxPID
	before := c.mustCtr(t, ctrNS, "task", "exec", "--exec-id", "before", id, "cat", "/tmp/count")

	r, err := c.runscAthena("swarm", "inject", id, "kill-sandbox")
	if err != nil || r.code != 0 {
		t.Fatalf("swarm inject kill-sandbox: %v %s", err, r)
	}
	// While the keeper recovers, the task stays RUNNING with its PID.
	recovered := waitFor(60*time.Second, func() bool {
		if p, st := c.taskPidStatus(t, id); p != pid || st != "RUNNING" {
			t.Fatalf("during the recovery: task pid %d status %q, want %d RUNNING", p, st, pid)
		}
		k, err = readKeeperFile(id)
		return err == nil && k.Recoveries >= 1 && k.State == "running"
	})
	if !recovered {
		log, _ := os.ReadFile(filepath.Join("/run/athena/keeper", id+".log"))
		t.Fatalf("no recovery within 60s: keeper %+v; its log:\n%s", k, log)
	}
	// The cause is the sandbox's SIGKILL or, when the keeper saw it
	// first, the gofer's exit that followed.
	if k.SandboxPID == oldSandbox || k.LastRecoveryCause == "" {
		t.Errorf("recovery: want a new sandbox and the cause of the loss: %+v", k)
	}
	if p, st := c.taskPidStatus(t, id); p != pid || st != "RUNNING" {
		t.Fatalf("after the recovery: task pid %d status %q, want %d RUNNING", p, st, pid)
	}
	if strings.Contains(events.text(), `/tasks/exit {"container_id":"`+id+`","id":"`+id) {
		t.Fatalf("an exit was published for the recovered task:\n%s", events.text())
	}
	// The restored app carries on from the checkpoint.
	time.Sleep(time.Second)
	r, err = c.ctr(ctrNS, "task", "exec", "--exec-id", "after", id, "sh", "-c", "cat /tmp/count; exit 4")
	if err != nil {
		t.Fatal(err)
	}
	n0, _ := strconv.Atoi(strings.TrimSpace(before))
	n1, _ := strconv.Atoi(strings.TrimSpace(r.stdout))
	if r.code != 4 || n0 < 1 || n1 < 1 {
		t.Fatalf("exec after the recovery: want exit 4 and a count (was %q): %s", before, r)
	}
	t.Logf("count %d before the loss, %d after the recovery (from checkpoint, sandbox %d -> %d)", n0, n1, oldSandbox, k.SandboxPID)

	c.mustCtr(t, ctrNS, "task", "kill", id)
	if !waitFor(30*time.Second, func() bool { return c.taskStatus(t, id) == "STOPPED" }) {
		t.Fatalf("task still %s 30s after SIGTERM", c.taskStatus(t, id))
	}
	want := `/tasks/exit {"container_id":"` + id + `","id":"` + id + `","pid":` + strconv.Itoa(pid) + `,"exit_status":143`
	if !events.waitFor(10*time.Second, want) {
		t.Fatalf("no %s; events:\n%s", want, events.text())
	}
	c.mustCtr(t, ctrNS, "task", "delete", id)
	if _, err := os.Stat(filepath.Join("/run/athena/keeper", id+".json")); !os.IsNotExist(err) {
		t.Errorf("the keeper's state is left after delete: %v", err)
	}
}

// TestCtrKeptExit: a kept container that exits on its own gives ctr its
// status (the keeper's, which exits with the sandbox's).
func TestCtrKeptExit(t *testing.T) {
	c := requireSuite(t).main
	id := fmt.Sprintf("kept-exit-%d", os.Getpid())
	opts := c.keptOptions(t)
	r, err := c.ctr(ctrNS, "run", "--rm", "--runtime", runtimeType, "--runtime-config-path", opts, busyboxImage, id,
		"sh", "-c", "sleep 2; exit 3")
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 3 {
		t.Fatalf("want exit 3: %s", r)
	}
	if !strings.Contains(c.logText(), "container "+id+" is kept by runsc-athena's keeper") {
		t.Fatalf("the container was not kept (no keeper); containerd's log:\n%s", c.logText())
	}
}
