package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The healer (docs/healer.md): in-sandbox restarts by athena init, and
// sandbox recovery from checkpoints by the keeper, each fault injected
// with swarm inject.

const healPolicy = "version: 1\nmode: enforce\ndefault: allow\nheal:\n"

// counterScript keeps a counter in memory (the shell's variable) and in a
// file of the container's root file system, and prints it.
const counterScript = `i=$(cat /tmp/count 2>/dev/null || echo 0); while true; do i=$((i+1)); echo $i > /tmp/count; echo "count $i"; sleep 0.1; done`

// TestHealRestartOnFailure: a main process that fails is restarted in the
// same sandbox (same address, same files) until the intensity is spent;
// then the container exits with the process's status and the give-up is
// reported in the logs and in the swarm's record.
func TestHealRestartOnFailure(t *testing.T) {
	requireIntegration(t)
	const rt = "athena-it-heal-restart"
	events := t.TempDir()
	registerRuntime(t, rt, "--athena-events-dir="+events, "--athena-policy="+writePolicy(t, healPolicy+"  restart: on-failure\n  backoff: 10ms..40ms\n  intensity: 3/60s\n"))
	name := uniqueName("heal-restart")
	t.Cleanup(func() { docker(t, "rm", "-f", name) })
	r := docker(t, "run", "--name", name, "--runtime="+rt, busybox, "sh", "-c",
		`n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/n; echo "run $n $(hostname -i)"; exit 3`)
	if r.code != 3 {
		t.Fatalf("exit code %d, want 3 (the main process's status): %v", r.code, r)
	}
	runs := regexp.MustCompile(`run (\d+) (\S+)`).FindAllStringSubmatch(r.stdout, -1)
	if len(runs) != 4 {
		t.Fatalf("%d runs, want 4 (1 + 3 restarts): %v", len(runs), r)
	}
	for i, m := range runs {
		if m[1] != strconv.Itoa(i+1) {
			t.Errorf("run %d saw counter %s: the file did not survive the restart", i+1, m[1])
		}
		if m[2] != runs[0][2] {
			t.Errorf("run %d has address %s, the first had %s: not the same sandbox", i+1, m[2], runs[0][2])
		}
	}
	if !strings.Contains(r.stderr, "3 restarts within 1m: giving up") {
		t.Errorf("no give-up message in the logs: %v", r)
	}
	id := inspect(t, name, "{{.Id}}")
	rec := readFile(t, filepath.Join(events, id+".jsonl"))
	for _, want := range []string{`"agent":"healer"`, `giving up`} {
		if !strings.Contains(rec, want) {
			t.Errorf("record lacks %s:\n%s", want, rec)
		}
	}
}

// TestHealCrashProcess: swarm inject crash-process sends SIGSEGV to the
// main process; athena init restarts it and the container keeps running;
// swarm status shows the restart and its cause.
func TestHealCrashProcess(t *testing.T) {
	requireIntegration(t)
	const rt = "athena-it-heal-crash"
	registerRuntime(t, rt, "--athena-restart=on-failure")
	name := uniqueName("heal-crash")
	id := startDetached(t, rt, name, "--", "sh", "-c", counterScript)
	bin := athenaBinary(t)
	eventually(t, 30*time.Second, "the counter to start", func() bool { return strings.Contains(docker(t, "logs", name).stdout, "count 3") })
	if r := runCmd(t, "", bin, "swarm", "inject", id, "crash-process"); r.code != 0 {
		t.Fatalf("inject crash-process: %v", r)
	}
	eventually(t, 30*time.Second, "the restart", func() bool {
		return strings.Contains(docker(t, "logs", name).stderr, "killed by SIGSEGV; restart 1")
	})
	if s := inspect(t, name, "{{.State.Status}}"); s != "running" {
		t.Fatalf("container %s after the crash, want running", s)
	}
	before := lastCount(t, name)
	eventually(t, 30*time.Second, "the restarted process to count on", func() bool { return lastCount(t, name) > before })
	eventually(t, 30*time.Second, "swarm status to show the restart", func() bool {
		r := runCmd(t, "", bin, "swarm", "status", "--json", id)
		var st struct {
			Swarm struct {
				Heal struct {
					Containers []struct {
						Processes []struct {
							Name      string `json:"name"`
							Restarts  int    `json:"restarts"`
							LastCause string `json:"last_cause"`
						} `json:"processes"`
					} `json:"containers"`
				} `json:"heal"`
			} `json:"swarm"`
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || len(st.Swarm.Heal.Containers) == 0 {
			return false
		}
		p := st.Swarm.Heal.Containers[0].Processes[0]
		return p.Name == "main" && p.Restarts == 1 && p.LastCause == "killed by SIGSEGV"
	})
	if r := runCmd(t, "", bin, "swarm", "status", id); r.code != 0 || !strings.Contains(r.stdout, "healer (in-sandbox restarts") {
		t.Errorf("swarm status has no healer section: %v", r)
	}
}

// keeperStatus is the part of the keeper's state file the tests read.
type keeperStatus struct {
	State             string `json:"state"`
	SandboxPID        int    `json:"sandbox_pid"`
	Checkpoints       int    `json:"checkpoints"`
	Recoveries        int    `json:"recoveries"`
	LastRecoveryCause string `json:"last_recovery_cause"`
	Failure           string `json:"failure"`
}

func readKeeper(t *testing.T, id string) keeperStatus {
	t.Helper()
	var st keeperStatus
	data, err := os.ReadFile(filepath.Join("/run/athena/keeper", id+".json"))
	if err == nil {
		json.Unmarshal(data, &st)
	}
	return st
}

// lastCount returns the newest counter the container printed.
func lastCount(t *testing.T, name string) int {
	t.Helper()
	m := regexp.MustCompile(`count (\d+)`).FindAllStringSubmatch(docker(t, "logs", "--tail", "5", name).stdout, -1)
	if len(m) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(m[len(m)-1][1])
	return n
}

// countFile reads the counter file through docker exec.
func countFile(t *testing.T, name string) int {
	t.Helper()
	r := docker(t, "exec", name, "cat", "/tmp/count")
	n, err := strconv.Atoi(strings.TrimSpace(r.stdout))
	if r.code != 0 || err != nil {
		t.Fatalf("reading /tmp/count: %v", r)
	}
	return n
}

// startKept starts the counter in a container checkpointed every second
// and waits for two checkpoints.
func startKept(t *testing.T, rt, prefix string) (name, id string) {
	t.Helper()
	name = uniqueName(prefix)
	id = startDetached(t, rt, name, "--", "sh", "-c", counterScript)
	eventually(t, 60*time.Second, "two checkpoints", func() bool { return readKeeper(t, id).Checkpoints >= 2 })
	return name, id
}

// recoverAfter injects fault and checks that the container came back under
// the same ID and the same process for Docker, with its counter (memory
// and file) at least where it was before the last checkpoint.
func recoverAfter(t *testing.T, rt, fault, wantCause string, within time.Duration) {
	t.Helper()
	name, id := startKept(t, rt, "heal-"+fault)
	dockerPid := inspect(t, name, "{{.State.Pid}}")
	before := readKeeper(t, id)
	saved := countFile(t, name)
	// A checkpoint taken after that read holds at least that count.
	eventually(t, 30*time.Second, "a checkpoint after the read", func() bool { return readKeeper(t, id).Checkpoints > before.Checkpoints })
	if r := runCmd(t, "", athenaBinary(t), "swarm", "inject", id, fault); r.code != 0 {
		t.Fatalf("inject %s: %v", fault, r)
	}
	eventually(t, within, "the recovery", func() bool { return readKeeper(t, id).Recoveries == before.Recoveries+1 })
	after := readKeeper(t, id)
	if !strings.Contains(after.LastRecoveryCause, wantCause) {
		t.Errorf("recovery cause %q, want it to mention %q", after.LastRecoveryCause, wantCause)
	}
	if after.SandboxPID == before.SandboxPID {
		t.Errorf("the sandbox process is still %d: not a new sandbox", after.SandboxPID)
	}
	if s, p := inspect(t, name, "{{.State.Status}}"), inspect(t, name, "{{.State.Pid}}"); s != "running" || p != dockerPid {
		t.Fatalf("Docker sees the container %s with pid %s, want running with pid %s (one container throughout)", s, p, dockerPid)
	}
	if n := countFile(t, name); n < saved {
		t.Errorf("counter file %d after the recovery, below %d read before the last checkpoint", n, saved)
	}
	restored := lastCount(t, name)
	eventually(t, 30*time.Second, "the restored counter to go on", func() bool { return lastCount(t, name) > restored })
	if n := lastCount(t, name); n <= saved {
		t.Errorf("in-memory counter %d after the recovery, not above %d read before the last checkpoint", n, saved)
	}
	// Docker stops it as any container, and the keeper goes with it.
	if r := docker(t, "stop", "-t", "1", name); r.code != 0 {
		t.Fatalf("docker stop: %v", r)
	}
	if s := inspect(t, name, "{{.State.Status}}"); s != "exited" {
		t.Errorf("container %s after docker stop", s)
	}
	eventually(t, 30*time.Second, "the keeper to exit", func() bool {
		for _, p := range hostProcsMatching(id) {
			if strings.Contains(p, "runsc-athena") {
				return false
			}
		}
		return true
	})
}

// registerKept registers a runtime whose containers are checkpointed
// every second (the hang limit short, for the hang test); it returns the
// runtime's record directory.
func registerKept(t *testing.T, rt string, extra ...string) string {
	t.Helper()
	events := t.TempDir()
	registerRuntime(t, rt, append([]string{"--athena-events-dir=" + events, "--athena-checkpoint=1s", "--athena-hang-after=10s"}, extra...)...)
	return events
}

// healRecords returns the "heal" lines of a container's record (they
// outlive the container).
func healRecords(t *testing.T, events, id string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(readFile(t, filepath.Join(events, id+".jsonl")), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["type"] == "heal" {
			out = append(out, rec)
		}
	}
	return out
}

// failedWith checks that the container's keeper recorded a failed
// recovery whose error mentions want.
func failedWith(t *testing.T, events, id, want string) {
	t.Helper()
	for _, rec := range healRecords(t, events, id) {
		if e, _ := rec["error"].(string); rec["event"] == "recovery-failed" && strings.Contains(e, want) {
			return
		}
	}
	t.Errorf("no recovery-failed record mentioning %q in %v", want, healRecords(t, events, id))
}

// TestHealSandboxFaults: the sandbox process killed, the file server
// killed (the sandbox can no longer reach its files: the keeper ends it),
// and the sandbox stopped (its heartbeat stops: the keeper's watchdog
// kills it); each time the keeper restores the container from its last
// checkpoint.
func TestHealSandboxFaults(t *testing.T) {
	requireIntegration(t)
	for _, tc := range []struct {
		fault, cause string
		within       time.Duration
	}{
		{"kill-sandbox", "killed by SIGKILL", 60 * time.Second},
		{"kill-gofer", "gofer", 60 * time.Second},
		{"hang-sandbox", "hung", 90 * time.Second},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			rt := "athena-it-heal-" + tc.fault
			registerKept(t, rt)
			recoverAfter(t, rt, tc.fault, tc.cause, tc.within)
		})
	}
}

// TestHealCorruptCheckpoints: with every checkpoint corrupt, a lost
// sandbox is not restored: the container fails, and says why.
func TestHealCorruptCheckpoints(t *testing.T) {
	requireIntegration(t)
	const rt = "athena-it-heal-corrupt"
	events := registerKept(t, rt, "--athena-checkpoint=1h")
	name := uniqueName("heal-corrupt")
	id := startDetached(t, rt, name, "--", "sh", "-c", counterScript)
	// A checkpoint every hour: none before the fault.
	eventually(t, 30*time.Second, "the keeper", func() bool { return readKeeper(t, id).State == "running" })
	t.Run("no checkpoint", func(t *testing.T) {
		if r := runCmd(t, "", athenaBinary(t), "swarm", "inject", id, "kill-sandbox"); r.code != 0 {
			t.Fatalf("inject: %v", r)
		}
		eventually(t, 30*time.Second, "the container to fail", func() bool { return inspect(t, name, "{{.State.Status}}") == "exited" })
		failedWith(t, events, id, "no checkpoint was taken")
	})

	const rt2 = "athena-it-heal-corrupt2"
	events2 := registerKept(t, rt2, "--athena-checkpoint=5s")
	name2 := uniqueName("heal-corrupt2")
	id2 := startDetached(t, rt2, name2, "--", "sh", "-c", counterScript)
	eventually(t, 60*time.Second, "a checkpoint", func() bool { return readKeeper(t, id2).Checkpoints >= 1 })
	dir := filepath.Join("/var/lib/athena/checkpoints", id2)
	// Corrupt every checkpoint, then kill the sandbox at once. A
	// checkpoint taken in between (one in 5 s) is whole and restored
	// from: then try again, at most 3 times.
	for try := 0; ; try++ {
		recoveries := readKeeper(t, id2).Recoveries
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		corrupted := 0
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "ck-") {
				if err := os.WriteFile(filepath.Join(dir, e.Name(), "checkpoint.img"), []byte("corrupt"), 0o600); err == nil {
					corrupted++
				}
			}
		}
		if corrupted == 0 {
			t.Fatalf("no checkpoint in %s", dir)
		}
		if r := runCmd(t, "", athenaBinary(t), "swarm", "inject", id2, "kill-sandbox"); r.code != 0 {
			t.Fatalf("inject: %v", r)
		}
		eventually(t, 30*time.Second, "the container to fail or recover", func() bool {
			return inspect(t, name2, "{{.State.Status}}") == "exited" || readKeeper(t, id2).Recoveries > recoveries
		})
		if inspect(t, name2, "{{.State.Status}}") == "exited" {
			break
		}
		if try == 2 {
			t.Fatalf("recovered from a fresh checkpoint three times running: cannot test corrupt ones")
		}
	}
	failedWith(t, events2, id2, "is whole")
	corrupt := 0
	for _, rec := range healRecords(t, events2, id2) {
		if rec["event"] == "checkpoint-corrupt" {
			corrupt++
		}
	}
	if corrupt == 0 {
		t.Errorf("no checkpoint-corrupt record")
	}
	if code := inspect(t, name2, "{{.State.ExitCode}}"); code != "137" {
		t.Errorf("exit code %s, want 137 (the sandbox's, killed)", code)
	}
}

// TestHealTerminalRefused: checkpoints with a terminal cannot be kept: the
// create fails and says so.
func TestHealTerminalRefused(t *testing.T) {
	requireIntegration(t)
	const rt = "athena-it-heal-tty"
	registerKept(t, rt)
	r := docker(t, "run", "--rm", "-t", "--runtime="+rt, busybox, "true")
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "terminal") {
		t.Fatalf("docker run -t with checkpoints: %v, want a failure naming the terminal", r)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestHealRollbackOnIntrusion: under heal.on_intrusion: rollback, a kill
// by the policy's rules (a confirmed intrusion) rolls the container back
// to its last checkpoint taken before the first anomaly.
func TestHealRollbackOnIntrusion(t *testing.T) {
	requireIntegration(t)
	const rt = "athena-it-heal-rollback"
	events := t.TempDir()
	registerRuntime(t, rt, "--athena-events-dir="+events, "--athena-policy="+writePolicy(t, policyHeader+
		"  - syscalls: [mkdir, mkdirat]\n    action: kill\nheal:\n  checkpoint:\n    every: 1s\n  on_intrusion: rollback\n"))
	name, id := startKept(t, rt, "heal-rollback")
	before := readKeeper(t, id)
	// The intruder: a process that makes a directory the policy forbids.
	docker(t, "exec", name, "mkdir", "/tmp/evil")
	attacked := countFile(t, name)
	eventually(t, 60*time.Second, "the rollback", func() bool { return readKeeper(t, id).Recoveries == before.Recoveries+1 })
	after := readKeeper(t, id)
	if !strings.Contains(after.LastRecoveryCause, "intrusion") {
		t.Errorf("recovery cause %q, want an intrusion", after.LastRecoveryCause)
	}
	var rolled bool
	for _, rec := range healRecords(t, events, id) {
		rolled = rolled || rec["event"] == "rolled-back"
	}
	if !rolled {
		t.Errorf("no rolled-back record: %v", healRecords(t, events, id))
	}
	// The printed counter jumps back: the restored app goes on from
	// the checkpoint, taken before the attack.
	eventually(t, 30*time.Second, "the restored counter in the logs", func() bool {
		m := regexp.MustCompile(`count (\d+)`).FindAllStringSubmatch(docker(t, "logs", name).stdout, -1)
		prev := 0
		for _, c := range m {
			n, _ := strconv.Atoi(c[1])
			if n < prev && n <= attacked {
				return true
			}
			prev = n
		}
		return false
	})
	if s := inspect(t, name, "{{.State.Status}}"); s != "running" {
		t.Errorf("container %s after the rollback", s)
	}
}

// TestHealRestoreUsesCurrentPolicy: a restored sandbox runs under the
// host's current policy, not the one in force when the checkpoint was
// taken: the policy file the runtime names is tightened after the
// checkpoints, and after the recovery the container is held to it.
func TestHealRestoreUsesCurrentPolicy(t *testing.T) {
	requireIntegration(t)
	const rt = "athena-it-heal-policy"
	path := writePolicy(t, policyHeader+"  - syscalls: [chdir]\n    action: allow\n")
	registerKept(t, rt, "--athena-policy="+path)
	name, id := startKept(t, rt, "heal-policy")
	if r := docker(t, "exec", name, "mkdir", "/tmp/before"); r.code != 0 {
		t.Fatalf("mkdir under the first policy: %v", r)
	}
	if err := os.WriteFile(path, []byte(policyHeader+"  - syscalls: [mkdir, mkdirat]\n    action: errno(EPERM)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := readKeeper(t, id)
	if r := runCmd(t, "", athenaBinary(t), "swarm", "inject", id, "kill-sandbox"); r.code != 0 {
		t.Fatalf("inject: %v", r)
	}
	eventually(t, 60*time.Second, "the recovery", func() bool { return readKeeper(t, id).Recoveries == before.Recoveries+1 })
	r := docker(t, "exec", name, "mkdir", "/tmp/after")
	if r.code == 0 || !strings.Contains(r.stdout+r.stderr, "not permitted") {
		t.Errorf("mkdir after the recovery: %v, want EPERM from the current policy", r)
	}
	if p := runCmd(t, "", athenaBinary(t), "swarm", "policy", "show", id); !strings.Contains(p.stdout, "mkdirat") {
		t.Errorf("policy in force after the recovery: %v", p)
	}
}
