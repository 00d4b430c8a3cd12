package containerd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestCtrRun: `ctr run` of an imported image prints what the container
// printed, from gVisor's kernel, and exits with the container's status,
// also for a container that exits at once (its sandbox is gone before the
// shim asks for the status).
func TestCtrRun(t *testing.T) {
	c := requireSuite(t).main
	r, err := c.ctr(ctrNS, c.ctrRun("--rm", busyboxImage, "run-out", "sh", "-c", "echo hello from athena; uname -r; exit 3")...)
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 3 || !strings.Contains(r.stdout, "hello from athena") || !strings.Contains(r.stdout, "gvisor") {
		t.Fatalf("want exit 3 and the output from gVisor's kernel: %s", r)
	}
	for i, want := range []int{0, 7, 0} {
		r, err := c.ctr(ctrNS, c.ctrRun("--rm", busyboxImage, "run-quick", "sh", "-c", "exit "+strconv.Itoa(want))...)
		if err != nil {
			t.Fatal(err)
		}
		if r.code != want {
			t.Fatalf("run %d: want exit %d: %s", i, want, r)
		}
	}
}

// TestCtrTaskLifecycle drives a detached container through exec, pause,
// resume, metrics, the swarm's status, kill and delete, and checks the
// events the shim published on the way.
func TestCtrTaskLifecycle(t *testing.T) {
	c := requireSuite(t).main
	const id = "lifecycle"
	events := c.watchEvents(t, ctrNS)
	c.mustCtr(t, ctrNS, c.ctrRun("-d", busyboxImage, id, "sleep", "1000")...)
	t.Cleanup(func() {
		_, _ = c.ctr(ctrNS, "task", "delete", "-f", id)
		_, _ = c.ctr(ctrNS, "container", "rm", id)
	})
	if st := c.taskStatus(t, id); st != "RUNNING" {
		t.Fatalf("task status %q, want RUNNING", st)
	}

	r, err := c.ctr(ctrNS, "task", "exec", "--exec-id", "e1", id, "sh", "-c", "echo in-exec; ps; exit 5")
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 5 || !strings.Contains(r.stdout, "in-exec") || !strings.Contains(r.stdout, "sleep 1000") {
		t.Fatalf("exec: want exit 5, its output and the container's processes: %s", r)
	}

	// The swarm's status of a shim's container: runsc-athena finds it by
	// the container's ID alone.
	r, err = c.runscAthena("swarm", "status", id)
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 0 || !strings.Contains(r.stdout, "container  "+id) || !strings.Contains(r.stdout, "agents") {
		t.Fatalf("swarm status: %s", r)
	}
	// The same through the shim's runsc root.
	r, err = c.runscAthena("--root", c.runscRoot+"/"+ctrNS, "list")
	if err != nil || r.code != 0 || !strings.Contains(r.stdout, id) {
		t.Fatalf("runsc-athena list in the shim's root: %v %s", err, r)
	}

	c.mustCtr(t, ctrNS, "task", "pause", id)
	if st := c.taskStatus(t, id); st != "PAUSED" {
		t.Fatalf("after pause: task status %q, want PAUSED", st)
	}
	c.mustCtr(t, ctrNS, "task", "resume", id)
	if st := c.taskStatus(t, id); st != "RUNNING" {
		t.Fatalf("after resume: task status %q, want RUNNING", st)
	}

	var m struct {
		Pids   struct{ Current uint64 }
		CPU    struct{ Usage struct{ Total uint64 } }
		Memory struct{ Usage struct{ Usage uint64 } }
	}
	out := c.mustCtr(t, ctrNS, "task", "metrics", "--format", "json", id)
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("metrics: %v: %s", err, out)
	}
	if m.Pids.Current < 1 || m.Memory.Usage.Usage == 0 || m.CPU.Usage.Total == 0 {
		t.Fatalf("metrics: want pids, memory and CPU usage: %s", out)
	}

	c.mustCtr(t, ctrNS, "task", "kill", "-s", "SIGTERM", id)
	if !waitFor(20*time.Second, func() bool { return c.taskStatus(t, id) == "STOPPED" }) {
		t.Fatalf("task still %s 20s after SIGTERM", c.taskStatus(t, id))
	}
	c.mustCtr(t, ctrNS, "task", "delete", id)
	c.mustCtr(t, ctrNS, "container", "rm", id)
	if out := c.mustCtr(t, ctrNS, "task", "ls", "-q"); strings.Contains(out, id) {
		t.Fatalf("task still listed after delete: %q", out)
	}

	for _, want := range []string{
		`/tasks/start {"container_id":"` + id,
		`/tasks/exec-added {"container_id":"` + id + `","exec_id":"e1"`,
		`/tasks/exec-started {"container_id":"` + id + `","exec_id":"e1"`,
		`/tasks/paused {"container_id":"` + id,
		`/tasks/resumed {"container_id":"` + id,
		`"exit_status":143`, // SIGTERM
		`/tasks/delete {"container_id":"` + id,
	} {
		if !events.waitFor(10*time.Second, want) {
			t.Errorf("no event %s; events:\n%s", want, events.text())
		}
	}
}

// TestCtrTTY: a container with a terminal gets one (sized as ctr's) and
// reads what is typed.
func TestCtrTTY(t *testing.T) {
	c := requireSuite(t).main
	args := append([]string{"-a", c.sock, "-n", ctrNS}, c.ctrRun("--rm", "-t", busyboxImage, "tty", "sh")...)
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ctr", args...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 33, Cols: 77})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	out := &eventLog{}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(out, tty) // ends with EIO when the command exits
		close(done)
	}()
	// Wait for the shell's prompt before typing.
	if !out.waitFor(30*time.Second, "#") {
		t.Fatalf("no prompt from the container's shell: %q", out.text())
	}
	if _, err := io.WriteString(tty, "[ -t 0 ] && [ -t 1 ] && echo IS-A-$((6*7))-TTY; stty size; exit 9\n"); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	<-done
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 9 {
		t.Fatalf("want exit 9, got %v; output %q", err, out.text())
	}
	text := strings.ReplaceAll(out.text(), "\r", "")
	if !strings.Contains(text, "IS-A-42-TTY") || !strings.Contains(text, "33 77") {
		t.Fatalf("want a terminal of 33x77 rows and columns: %q", text)
	}
}

// taskStatus is the status ctr lists for task id ("" if none).
func (c *containerd) taskStatus(t *testing.T, id string) string {
	t.Helper()
	out := c.mustCtr(t, ctrNS, "task", "ls")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == id {
			return f[2]
		}
	}
	return ""
}

// eventLog collects a command's output (`ctr events`, a terminal) for
// reading while it runs.
type eventLog struct {
	mu sync.Mutex
	// +checklocks:mu
	buf bytes.Buffer
}

func (l *eventLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *eventLog) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *eventLog) waitFor(d time.Duration, s string) bool {
	return waitFor(d, func() bool { return strings.Contains(l.text(), s) })
}

// watchEvents follows c's events in namespace ns until the test ends.
func (c *containerd) watchEvents(t *testing.T, ns string) *eventLog {
	t.Helper()
	l := &eventLog{}
	cmd := exec.Command("ctr", "-a", c.sock, "-n", ns, "events")
	cmd.Stdout, cmd.Stderr = l, l
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	// Let the subscription reach containerd before anything happens.
	time.Sleep(500 * time.Millisecond)
	return l
}

// TestCtrOOM: a container that outgrows its memory limit (the sandbox's
// cgroup) is killed by the host's OOM killer; the shim publishes
// /tasks/oom and the task exits with 137.
func TestCtrOOM(t *testing.T) {
	c := requireSuite(t).main
	events := c.watchEvents(t, ctrNS)
	// tail keeps the whole newline-free input in memory.
	r, err := c.ctr(ctrNS, c.ctrRun("--rm", "--memory-limit", "134217728", busyboxImage, "oom",
		"sh", "-c", "head -c 600000000 /dev/zero | tail >/dev/null; echo survived")...)
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 137 || strings.Contains(r.stdout, "survived") {
		t.Fatalf("want the container killed (137): %s", r)
	}
	if !events.waitFor(10*time.Second, `/tasks/oom {"container_id":"oom"}`) {
		t.Fatalf("no /tasks/oom event; events:\n%s", events.text())
	}
	if !events.waitFor(10*time.Second, `"id":"oom","pid"`) || !strings.Contains(events.text(), `"exit_status":137`) {
		t.Fatalf("no /tasks/exit with status 137; events:\n%s", events.text())
	}
}
