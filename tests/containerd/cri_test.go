package containerd

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// noMkdirPolicy denies creating directories (docs/policy.md's first
// example); the other container of the pod runs under the built-in
// default policy, which allows it.
const noMkdirPolicy = `version: 1
mode: enforce
default: allow
rules:
  - name: no new directories
    action: errno(EPERM)
    syscalls: [mkdir, mkdirat]
`

// pod is a CRI pod the tests run with crictl.
type pod struct {
	c      *containerd
	id     string
	config string // the pod config file
}

// runPod runs a pod sandbox with the runtime handler "athena" in the
// host's network namespace (there are no CNI plugins here).
func (c *containerd) runPod(t *testing.T, name string) *pod {
	t.Helper()
	dir := filepath.Join(c.dir, "pods", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &pod{c: c, config: filepath.Join(dir, "pod.json")}
	writeJSON(t, p.config, map[string]any{
		"metadata":      map[string]any{"name": name, "namespace": "default", "uid": "uid-" + name, "attempt": 0},
		"log_directory": dir,
		"linux": map[string]any{
			"security_context": map[string]any{"namespace_options": map[string]any{"network": 2}}, // NODE
		},
	})
	p.id = strings.TrimSpace(c.mustCrictl(t, "runp", "--runtime", criHandler, p.config))
	t.Cleanup(func() {
		_, _ = c.crictl("stopp", p.id)
		_, _ = c.crictl("rmp", "-f", p.id)
	})
	return p
}

// create creates (and does not start) a container of the pod running sh
// -c script, with the given annotations.
func (p *pod) create(t *testing.T, name, script string, annotations map[string]string) string {
	t.Helper()
	cfg := filepath.Join(filepath.Dir(p.config), name+".json")
	writeJSON(t, cfg, map[string]any{
		"metadata":    map[string]any{"name": name},
		"image":       map[string]any{"image": busyboxImage},
		"command":     []string{"sh", "-c", script},
		"log_path":    name + ".log",
		"annotations": annotations,
	})
	return strings.TrimSpace(p.c.mustCrictl(t, "create", p.id, cfg, p.config))
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCRIPod runs, through containerd's CRI plugin and crictl, a pod with
// the handler "athena" and two containers: both live in the pod's one
// sandbox (one gVisor kernel: each sees the other's processes, and there is
// one sandbox process on the host), each under its own policy (one may not
// create directories, the other may); then exec, logs, stop and removal.
func TestCRIPod(t *testing.T) {
	c := requireSuite(t).main
	policy := filepath.Join(c.dir, "nomkdir.yaml")
	if err := os.WriteFile(policy, []byte(noMkdirPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	p := c.runPod(t, "shared")
	c1 := p.create(t, "c1", "echo marker-c1; mkdir /tmp/d1 && echo c1-mkdir-ok; exec sleep 1001",
		map[string]string{"dev.athena.policy": policy})
	c2 := p.create(t, "c2", "echo marker-c2; mkdir /tmp/d2 && echo c2-mkdir-ok; exec sleep 1002", nil)
	c.mustCrictl(t, "start", c1, c2)

	logs := func(id string) string {
		r, err := c.crictl("logs", id)
		if err != nil {
			t.Fatal(err)
		}
		return r.stdout + r.stderr
	}
	if !waitFor(30*time.Second, func() bool {
		return strings.Contains(logs(c1), "mkdir") && strings.Contains(logs(c2), "c2-mkdir-ok")
	}) {
		t.Fatalf("logs: c1 %q, c2 %q", logs(c1), logs(c2))
	}
	if l := logs(c1); !strings.Contains(l, "marker-c1") || !strings.Contains(l, "Operation not permitted") || strings.Contains(l, "c1-mkdir-ok") {
		t.Fatalf("c1 runs under the policy that denies mkdir; its log: %q", l)
	}
	if l := logs(c2); !strings.Contains(l, "marker-c2") {
		t.Fatalf("c2's log: %q", l)
	}

	// exec: output and exit status (crictl exits 1 and names the status).
	r, err := c.crictl("exec", c1, "sh", "-c", "echo exec-in-c1; exit 6")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.stdout, "exec-in-c1") || r.code == 0 || !strings.Contains(r.stderr, "exit code 6") {
		t.Fatalf("exec in c1: want its output and exit 6: %s", r)
	}
	// One kernel: c2 sees c1's process.
	if out := c.mustCrictl(t, "exec", c2, "ps"); !strings.Contains(out, "sleep 1001") || !strings.Contains(out, "sleep 1002") {
		t.Fatalf("c2 does not see c1's processes (not one kernel?): %q", out)
	}
	// One sandbox: the runtime lists the pod's three containers (the
	// sandbox's first, c1, c2) with one pid, and one sandbox process runs
	// on the host for the pod.
	r, err = c.runscAthena("--root", c.runscRoot+"/"+criNS, "list", "--format", "json")
	if err != nil || r.code != 0 {
		t.Fatalf("runsc-athena list: %v %s", err, r)
	}
	var list []struct {
		ID  string `json:"id"`
		Pid int    `json:"pid"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("runsc-athena list: %v: %s", err, r.stdout)
	}
	pids := map[string]int{}
	for _, s := range list {
		pids[s.ID] = s.Pid
	}
	if pids[p.id] == 0 || pids[c1] != pids[p.id] || pids[c2] != pids[p.id] {
		t.Fatalf("pod %s, c1 %s, c2 %s: want one sandbox pid for all: %s", p.id, c1, c2, r.stdout)
	}
	if n := sandboxProcesses(c.dir, p.id); n != 1 {
		t.Fatalf("%d sandbox processes for the pod, want 1", n)
	}
	// A pod that asked for the host's network gets a network of its own,
	// with loopback alone: gVisor's sandbox never takes the host's.
	out := c.mustCrictl(t, "exec", c2, "cat", "/proc/net/dev")
	for _, line := range strings.Split(out, "\n")[2:] {
		if name, _, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && name != "lo" {
			t.Fatalf("pod sees interface %q: %q", name, out)
		}
	}
	// Each container's policy is its own.
	for _, tc := range []struct {
		id   string
		want bool
	}{{c1, true}, {c2, false}} {
		r, err := c.runscAthena("swarm", "policy", "show", tc.id)
		if err != nil || r.code != 0 {
			t.Fatalf("swarm policy show %s: %v %s", tc.id, err, r)
		}
		if got := strings.Contains(r.stdout, "no new directories"); got != tc.want {
			t.Fatalf("policy of %s: has the no-mkdir rule %v, want %v:\n%s", tc.id, got, tc.want, r.stdout)
		}
	}
	// The swarm's status, through the container's ID.
	if r, err := c.runscAthena("swarm", "status", c2); err != nil || r.code != 0 || !strings.Contains(r.stdout, "sandbox    "+p.id) {
		t.Fatalf("swarm status %s: %v %s", c2, err, r)
	}

	// Stop and remove.
	c.mustCrictl(t, "stop", c1, c2)
	out = c.mustCrictl(t, "ps", "-a", "-o", "json")
	if strings.Count(out, `"CONTAINER_EXITED"`) != 2 {
		t.Fatalf("after stop, want both containers exited: %s", out)
	}
	c.mustCrictl(t, "rm", c1, c2)
	c.mustCrictl(t, "stopp", p.id)
	c.mustCrictl(t, "rmp", p.id)
	if out := c.mustCrictl(t, "pods", "-q"); strings.Contains(out, p.id) {
		t.Fatalf("pod still listed after rmp: %q", out)
	}
	if !waitFor(10*time.Second, func() bool { return sandboxProcesses(c.dir, p.id) == 0 && len(c.shimsOf(p.id, c1, c2)) == 0 }) {
		t.Fatalf("after rmp: %d sandbox processes, shims %v", sandboxProcesses(c.dir, p.id), c.shimsOf(p.id, c1, c2))
	}
}

// sandboxProcesses counts the host's runsc sandbox processes started under
// dir for sandbox id.
func sandboxProcesses(dir, id string) int {
	n := 0
	for _, pid := range processesUnder(dir) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if len(args) > 1 && args[0] == "runsc-sandbox" && args[len(args)-1] == id {
			n++
		}
	}
	return n
}

// shimsOf returns the shims of c serving any of ids.
func (c *containerd) shimsOf(ids ...string) []int {
	var out []int
	for _, pid := range c.shimPids() {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		for _, id := range ids {
			if strings.Contains(string(cmdline), "\x00"+id+"\x00") || strings.HasSuffix(string(cmdline), "\x00"+id) {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// TestStartFailure: a command that exists but cannot be executed fails
// at start (runsc-athena's create only checks that it exists); the task
// is then removable, through ctr and through the CRI, and nothing is
// left running.
func TestStartFailure(t *testing.T) {
	c := requireSuite(t).main
	r, err := c.ctr(ctrNS, c.ctrRun("--rm", busyboxImage, "badexec", "/etc/passwd")...)
	if err != nil {
		t.Fatal(err)
	}
	if r.code == 0 || !strings.Contains(r.stderr, "permission denied") {
		t.Fatalf("want the start to fail with permission denied: %s", r)
	}
	c.mustCtr(t, ctrNS, "task", "delete", "-f", "badexec")
	c.mustCtr(t, ctrNS, "container", "rm", "badexec")

	p := c.runPod(t, "badexec")
	cfg := filepath.Join(filepath.Dir(p.config), "bad.json")
	writeJSON(t, cfg, map[string]any{
		"metadata": map[string]any{"name": "bad"},
		"image":    map[string]any{"image": busyboxImage},
		"command":  []string{"/etc/passwd"},
		"log_path": "bad.log",
	})
	bad := strings.TrimSpace(c.mustCrictl(t, "create", p.id, cfg, p.config))
	if r, err := c.crictl("start", bad); err != nil || r.code == 0 || !strings.Contains(r.stderr, "permission denied") {
		t.Fatalf("want the start to fail with permission denied: %v %s", err, r)
	}
	c.mustCrictl(t, "rm", bad)
	c.mustCrictl(t, "stopp", p.id)
	c.mustCrictl(t, "rmp", p.id)
	if !waitFor(10*time.Second, func() bool {
		return sandboxProcesses(c.dir, p.id) == 0 && len(c.shimsOf(p.id, bad, "badexec")) == 0
	}) {
		t.Fatalf("left running: %d sandbox processes, shims %v", sandboxProcesses(c.dir, p.id), c.shimsOf(p.id, bad, "badexec"))
	}
}
