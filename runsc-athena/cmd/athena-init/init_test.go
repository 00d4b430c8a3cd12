package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// initBin is athena-init built by TestMain, static, as the runtime
// mounts it.
var initBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "athena-init-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	initBin = filepath.Join(dir, "athena-init")
	build := exec.Command("go", "build", "-o", initBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build athena-init: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run is one athena-init run.
type initRun struct {
	t      *testing.T
	cmd    *exec.Cmd
	dir    string // working directory and files of the run
	stderr string // file init's stderr goes to
}

// start starts athena-init with args in a fresh directory, where the
// commands find it as $D. stderr goes to a file, so that orphans that
// hold it open do not hold up the test.
func start(t *testing.T, args ...string) *initRun {
	t.Helper()
	r := &initRun{t: t, dir: t.TempDir()}
	r.stderr = filepath.Join(r.dir, "stderr")
	f, err := os.Create(r.stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r.cmd = exec.Command(initBin, args...)
	r.cmd.Dir = r.dir
	r.cmd.Env = append(os.Environ(), "D="+r.dir)
	r.cmd.Stdout, r.cmd.Stderr = f, f
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
			r.cmd.Wait()
		}
	})
	return r
}

// wait waits for init to exit, at most timeout, and returns its exit
// status and stderr.
func (r *initRun) wait(timeout time.Duration) (int, string) {
	r.t.Helper()
	done := make(chan error, 1)
	go func() { done <- r.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(timeout):
		r.cmd.Process.Kill()
		<-done
		r.t.Fatalf("athena-init still running after %s:\n%s", timeout, r.log())
	}
	return r.cmd.ProcessState.ExitCode(), r.log()
}

func (r *initRun) log() string {
	b, _ := os.ReadFile(r.stderr)
	return string(b)
}

// lines counts the lines of a file of the run (0 when it is absent).
func (r *initRun) lines(name string) int {
	b, _ := os.ReadFile(filepath.Join(r.dir, name))
	return bytes.Count(b, []byte("\n"))
}

// waitLines waits until a file of the run has at least n lines.
func (r *initRun) waitLines(name string, n int) {
	r.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); r.lines(name) < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			r.t.Fatalf("%s has %d lines, want %d:\n%s", name, r.lines(name), n, r.log())
		}
	}
}

func (r *initRun) signal(sig syscall.Signal) {
	r.t.Helper()
	if err := r.cmd.Process.Signal(sig); err != nil {
		r.t.Fatal(err)
	}
}

// expect checks that the log has a line matching each pattern, in order.
func expect(t *testing.T, log string, patterns ...string) {
	t.Helper()
	rest := log
	for _, p := range patterns {
		loc := regexp.MustCompile(`(?m)^` + p + `$`).FindStringIndex(rest)
		if loc == nil {
			t.Errorf("no line matching %q (in order) in:\n%s", p, log)
			return
		}
		rest = rest[loc[1]:]
	}
}

const fast = "--backoff=10ms..50ms"

func TestOnFailureGivesUp(t *testing.T) {
	r := start(t, "--restart=on-failure", fast, "--intensity=3/10s", "--", "/bin/sh", "-c", `echo run >> "$D/count"; exit 3`)
	code, log := r.wait(10 * time.Second)
	if code != 3 {
		t.Errorf("exit status %d, want main's 3:\n%s", code, log)
	}
	if n := r.lines("count"); n != 4 {
		t.Errorf("main ran %d times, want 4 (3 restarts)", n)
	}
	expect(t, log,
		`athena-init: main \(pid \d+\) exited with status 3; restart 1 in 10ms`,
		`athena-init: main restarted \(pid \d+\)`,
		`athena-init: main \(pid \d+\) exited with status 3; restart 2 in 20ms`,
		`athena-init: main \(pid \d+\) exited with status 3; restart 3 in 40ms`,
		`athena-init: main \(pid \d+\) exited with status 3; 3 restarts within 10s: giving up`,
		`athena-init: exiting with status 3`)
}

func TestCleanExitNotRestartedOnFailure(t *testing.T) {
	r := start(t, "--restart=on-failure", fast, "--", "/bin/sh", "-c", `echo run >> "$D/count"; exit 0`)
	code, log := r.wait(10 * time.Second)
	if code != 0 || r.lines("count") != 1 {
		t.Errorf("exit status %d, %d runs; want 0, 1:\n%s", code, r.lines("count"), log)
	}
	expect(t, log, `athena-init: main \(pid \d+\) exited with status 0; not restarted under on-failure`)
}

func TestRestartNo(t *testing.T) {
	r := start(t, "--", "/bin/sh", "-c", `echo run >> "$D/count"; exit 4`)
	code, log := r.wait(10 * time.Second)
	if code != 4 || r.lines("count") != 1 {
		t.Errorf("exit status %d, %d runs; want 4, 1:\n%s", code, r.lines("count"), log)
	}
	expect(t, log, `athena-init: main \(pid \d+\) exited with status 4; not restarted \(restart: no\)`)
}

func TestAlwaysRestartsCleanExit(t *testing.T) {
	r := start(t, "--restart=always", fast, "--intensity=2/10s", "--", "/bin/sh", "-c", `echo run >> "$D/count"; exit 0`)
	code, log := r.wait(10 * time.Second)
	if code != 0 || r.lines("count") != 3 {
		t.Errorf("exit status %d, %d runs; want 0, 3:\n%s", code, r.lines("count"), log)
	}
	expect(t, log,
		`athena-init: main \(pid \d+\) exited with status 0; restart 1 in 10ms`,
		`athena-init: main \(pid \d+\) exited with status 0; restart 2 in 20ms`,
		`athena-init: main \(pid \d+\) exited with status 0; 2 restarts within 10s: giving up`)
}

// TestSegfaultRestarted: a crash (fatal signal) is a failure; the
// restarted process runs again (its counter file shows it) and its clean
// exit ends the container.
func TestSegfaultRestarted(t *testing.T) {
	r := start(t, "--restart=on-failure", fast, "--", "/bin/sh", "-c",
		`echo run >> "$D/count"; if [ "$(wc -l < "$D/count")" -lt 2 ]; then kill -SEGV $$; fi; exit 0`)
	code, log := r.wait(10 * time.Second)
	if code != 0 || r.lines("count") != 2 {
		t.Errorf("exit status %d, %d runs; want 0, 2:\n%s", code, r.lines("count"), log)
	}
	expect(t, log,
		`athena-init: main \(pid \d+\) killed by SIGSEGV( \(core dumped\))?; restart 1 in 10ms`,
		`athena-init: main \(pid \d+\) exited with status 0; not restarted under on-failure`)
}

// TestSegfaultGivesUpWith139: a main that keeps crashing is given up and
// init exits 128+SIGSEGV.
func TestSegfaultGivesUpWith139(t *testing.T) {
	r := start(t, "--restart=always", fast, "--intensity=1/10s", "--", "/bin/sh", "-c", `kill -SEGV $$`)
	code, log := r.wait(10 * time.Second)
	if code != 128+11 {
		t.Errorf("exit status %d, want 139:\n%s", code, log)
	}
	expect(t, log, `athena-init: main \(pid \d+\) killed by SIGSEGV( \(core dumped\))?; 1 restart within 10s: giving up`)
}

// TestSIGTERMStops: docker stop sends SIGTERM to init: main and the
// services get it, nothing is restarted, init exits with main's status.
func TestSIGTERMStops(t *testing.T) {
	r := start(t, "--restart=always", fast,
		`--service=worker:always:["/bin/sh","-c","echo run >> \"$D/worker\"; exec sleep 30"]`,
		"--", "/bin/sh", "-c", `echo run >> "$D/count"; exec sleep 30`)
	r.waitLines("count", 1)
	r.waitLines("worker", 1)
	begin := time.Now()
	r.signal(syscall.SIGTERM)
	code, log := r.wait(10 * time.Second)
	if code != 128+15 {
		t.Errorf("exit status %d, want 143:\n%s", code, log)
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("stopping took %s: the worker needed SIGKILL?\n%s", d, log)
	}
	time.Sleep(100 * time.Millisecond) // a restart would have run by now
	if r.lines("count") != 1 || r.lines("worker") != 1 {
		t.Errorf("restarted after SIGTERM: main ran %d times, worker %d:\n%s", r.lines("count"), r.lines("worker"), log)
	}
	expect(t, log,
		`athena-init: SIGTERM: shutting down, nothing is restarted any more`,
		`athena-init: (main|worker) \(pid \d+\) killed by SIGTERM; not restarted: stopping`,
		`athena-init: (main|worker) \(pid \d+\) killed by SIGTERM; not restarted: stopping`,
		`athena-init: exiting with status 143`)
}

// TestSIGINTDuringBackoff: a stop while main waits for its restart ends
// the container at once, with main's last status.
func TestSIGINTDuringBackoff(t *testing.T) {
	r := start(t, "--restart=on-failure", "--backoff=20s", "--", "/bin/sh", "-c", `echo run >> "$D/count"; exit 7`)
	r.waitLines("count", 1)
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(r.log(), "restart 1 in 20s"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no restart planned:\n%s", r.log())
		}
	}
	r.signal(syscall.SIGINT)
	code, log := r.wait(5 * time.Second)
	if code != 7 || r.lines("count") != 1 {
		t.Errorf("exit status %d, %d runs; want 7, 1:\n%s", code, r.lines("count"), log)
	}
	expect(t, log, `athena-init: SIGINT: shutting down, nothing is restarted any more`, `athena-init: exiting with status 7`)
}

// TestSignalsForwarded: SIGUSR1 reaches main (which traps it) and does not
// stop restarts.
func TestSignalsForwarded(t *testing.T) {
	r := start(t, "--restart=on-failure", fast, "--", "/bin/sh", "-c",
		`echo run >> "$D/count"; [ "$(wc -l < "$D/count")" -ge 2 ] && exit 0
		trap 'echo usr1 >> "$D/usr1"; exit 5' USR1
		echo ready >> "$D/ready"
		while :; do sleep 0.01; done`)
	r.waitLines("ready", 1)
	r.signal(syscall.SIGUSR1)
	code, log := r.wait(10 * time.Second)
	if code != 0 || r.lines("usr1") != 1 || r.lines("count") != 2 {
		t.Errorf("exit status %d, usr1 %d, runs %d; want 0, 1, 2:\n%s", code, r.lines("usr1"), r.lines("count"), log)
	}
	expect(t, log,
		`athena-init: main \(pid \d+\) exited with status 5; restart 1 in 10ms`,
		`athena-init: main \(pid \d+\) exited with status 0; not restarted under on-failure`)
}

// TestOrphansReaped: processes orphaned inside the container come to init
// (PID 1 in a container, a subreaper natively) and are reaped: no zombie
// is left.
func TestOrphansReaped(t *testing.T) {
	r := start(t, "--", "/bin/sh", "-c",
		`for i in 1 2 3 4 5; do /bin/sh -c 'sleep 0.05 & echo $! >> "$D/orphans"'; done
		/bin/sh -c '(exit 3) & echo $! >> "$D/orphans"'
		echo ready >> "$D/ready"; sleep 1`)
	r.waitLines("ready", 1)
	time.Sleep(400 * time.Millisecond) // the orphans are over
	initPid := r.cmd.Process.Pid
	if z := zombies(t, initPid); len(z) > 0 {
		t.Errorf("zombie children of init: %v\n%s", z, r.log())
	}
	b, _ := os.ReadFile(filepath.Join(r.dir, "orphans"))
	for _, f := range strings.Fields(string(b)) {
		if st, err := os.ReadFile("/proc/" + f + "/stat"); err == nil {
			if fields := statFields(string(st)); len(fields) > 2 && fields[2] == "Z" {
				t.Errorf("orphan %s is a zombie: %s", f, st)
			}
		}
	}
	if code, log := r.wait(10 * time.Second); code != 0 {
		t.Errorf("exit status %d:\n%s", code, log)
	}
}

// zombies lists the zombie children of pid.
func zombies(t *testing.T, pid int) []string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		f := statFields(string(b))
		if len(f) > 3 && f[3] == strconv.Itoa(pid) && f[2] == "Z" {
			out = append(out, string(b))
		}
	}
	return out
}

// statFields splits /proc/PID/stat: pid, comm, state, ppid, pgrp,
// session, tty_nr, tpgid, ...
func statFields(s string) []string {
	i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if i < 0 || j < i {
		return nil
	}
	return append([]string{strings.TrimSpace(s[:i]), s[i+1 : j]}, strings.Fields(s[j+1:])...)
}

// TestServiceRestartedIndependently: a failing service is restarted on
// its own while main runs on; main's clean exit ends the container.
func TestServiceRestartedIndependently(t *testing.T) {
	r := start(t, "--restart=on-failure", fast, "--intensity=10/10s",
		`--service=worker::["/bin/sh","-c","echo run >> \"$D/worker\"; exit 1"]`,
		`--service=idle:always:["/bin/sh","-c","echo run >> \"$D/idle\"; exec sleep 30"]`,
		"--", "/bin/sh", "-c",
		`echo run >> "$D/count"; i=0
		while [ "$(cat "$D/worker" 2>/dev/null | wc -l)" -lt 4 ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done
		exit 0`)
	code, log := r.wait(10 * time.Second)
	if code != 0 {
		t.Errorf("exit status %d, want 0:\n%s", code, log)
	}
	if r.lines("count") != 1 || r.lines("worker") < 4 || r.lines("idle") != 1 {
		t.Errorf("main ran %d times (want 1), worker %d (want >= 4), idle %d (want 1):\n%s", r.lines("count"), r.lines("worker"), r.lines("idle"), log)
	}
	expect(t, log,
		`athena-init: worker \(pid \d+\) exited with status 1; restart 1 in 10ms`,
		`athena-init: worker restarted \(pid \d+\)`,
		`athena-init: worker \(pid \d+\) exited with status 1; restart 3 in 40ms`,
		`athena-init: main \(pid \d+\) exited with status 0; not restarted under on-failure`,
		`athena-init: stopping idle \(pid \d+\): SIGTERM`,
		`athena-init: exiting with status 0`)
	if strings.Contains(log, "main restarted") {
		t.Errorf("main was restarted:\n%s", log)
	}
}

// TestServiceGivesUpMainRunsOn: a service over its intensity stays down.
func TestServiceGivesUpMainRunsOn(t *testing.T) {
	r := start(t, "--restart=no", fast, "--intensity=1/10s",
		`--service=crash:always:["/bin/sh","-c","echo run >> \"$D/crash\"; kill -SEGV $$"]`,
		"--", "/bin/sh", "-c", `while ! grep -q giving "$D/stderr"; do sleep 0.01; done; sleep 0.1; exit 9`)
	code, log := r.wait(10 * time.Second)
	if code != 9 || r.lines("crash") != 2 {
		t.Errorf("exit status %d, crash ran %d times; want 9, 2:\n%s", code, r.lines("crash"), log)
	}
	expect(t, log,
		`athena-init: crash \(pid \d+\) killed by SIGSEGV( \(core dumped\))?; restart 1 in 10ms`,
		`athena-init: crash \(pid \d+\) killed by SIGSEGV( \(core dumped\))?; 1 restart within 10s: giving up`,
		`athena-init: main \(pid \d+\) exited with status 9; not restarted \(restart: no\)`)
}

// TestServiceKilledAfterGrace: a service that ignores SIGTERM is killed 5
// seconds after main is over.
func TestServiceKilledAfterGrace(t *testing.T) {
	r := start(t, `--service=stubborn:always:["/bin/sh","-c","trap '' TERM; echo up >> \"$D/up\"; while :; do sleep 0.05; done"]`,
		"--", "/bin/sh", "-c", `while [ ! -s "$D/up" ]; do sleep 0.01; done; exit 0`)
	begin := time.Now()
	code, log := r.wait(15 * time.Second)
	d := time.Since(begin)
	if code != 0 {
		t.Errorf("exit status %d, want 0:\n%s", code, log)
	}
	if d < killAfter || d > killAfter+3*time.Second {
		t.Errorf("init exited after %s, want about %s", d, killAfter)
	}
	expect(t, log,
		`athena-init: stopping stubborn \(pid \d+\): SIGTERM`,
		`athena-init: stubborn \(pid \d+\) still running 5s after SIGTERM: SIGKILL`,
		`athena-init: stubborn \(pid \d+\) killed by SIGKILL; not restarted: stopping`,
		`athena-init: exiting with status 0`)
}

func TestCannotStart(t *testing.T) {
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		argv []string
		code int
		want string
	}{
		{[]string{"/nonexistent/cmd"}, 127, `athena-init: cannot start main: /nonexistent/cmd: no such file or directory`},
		{[]string{"no-such-command-here"}, 127, `athena-init: cannot start main: no-such-command-here: executable file not found in \$PATH`},
		{[]string{noexec}, 126, `athena-init: cannot start main: .*/noexec: permission denied`},
		{[]string{dir}, 126, `athena-init: cannot start main: .*: permission denied`},
	} {
		r := start(t, append([]string{"--restart=always", fast, "--"}, tc.argv...)...)
		code, log := r.wait(5 * time.Second)
		if code != tc.code {
			t.Errorf("%q: exit status %d, want %d:\n%s", tc.argv, code, tc.code, log)
		}
		expect(t, log, tc.want)
		if strings.Contains(log, "restart") && !strings.Contains(log, "--restart") {
			t.Errorf("%q: restarted:\n%s", tc.argv, log)
		}
	}
	// A command found in PATH runs.
	r := start(t, "--", "sh", "-c", "exit 6")
	if code, log := r.wait(5 * time.Second); code != 6 {
		t.Errorf("sh from PATH: exit status %d:\n%s", code, log)
	}
}

// TestBadFlags: a bad command line starts nothing and exits 127.
func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--restart=sometimes"}, `athena-init: invalid value "sometimes" for flag -restart: bad restart mode "sometimes" \(want no, on-failure or always\)`},
		{[]string{"--backoff=1s..10ms"}, `athena-init: invalid value "1s..10ms" for flag -backoff: bad backoff "1s..10ms": maximum delay 10ms is below the first delay 1s`},
		{[]string{"--intensity=5"}, `athena-init: invalid value "5" for flag -intensity: bad intensity "5": want RESTARTS/WINDOW such as 5/60s`},
		{[]string{"--bogus"}, `athena-init: flag provided but not defined: -bogus`},
		{[]string{`--service=main:always:["/bin/true"]`}, `athena-init: invalid value .* for flag -service: service name "main" is reserved for the container's command`},
		{[]string{`--service=w:always:/bin/true`}, `athena-init: invalid value .* for flag -service: service w: the command must be a JSON array of strings, .*`},
	} {
		r := start(t, append(tc.args, "--", "/bin/sh", "-c", `echo ran > "$D/ran"`)...)
		code, log := r.wait(5 * time.Second)
		if code != 127 {
			t.Errorf("%q: exit status %d, want 127:\n%s", tc.args, code, log)
		}
		expect(t, log, tc.want, `usage: athena-init .*`)
		if _, err := os.Stat(filepath.Join(r.dir, "ran")); err == nil {
			t.Errorf("%q: the command ran", tc.args)
		}
	}
	r := start(t, "--restart=always")
	if code, log := r.wait(5 * time.Second); code != 127 || !strings.Contains(log, "athena-init: no command to run") {
		t.Errorf("no command: exit status %d:\n%s", code, log)
	}
}

// TestTTYForeground: with a terminal as stdin, main runs in its own
// process group, which is the terminal's foreground group (tini's model),
// also after a restart.
func TestTTYForeground(t *testing.T) {
	ptm, pts, err := pty.Open()
	if err != nil {
		t.Skipf("no pty: %v", err)
	}
	defer ptm.Close()
	dir := t.TempDir()
	cmd := exec.Command(initBin, "--restart=on-failure", fast, "--", "/bin/sh", "-c",
		`read -r s < /proc/self/stat; echo "$s" >> "$D/stat"; [ "$(wc -l < "$D/stat")" -ge 2 ] && exit 0; exit 1`)
	cmd.Env = append(os.Environ(), "D="+dir)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = pts, pts, pts
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pts.Close()
	go func() { // drain the terminal
		b := make([]byte, 4096)
		for {
			if _, err := ptm.Read(b); err != nil {
				return
			}
		}
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("athena-init: %v", err)
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("athena-init still running")
	}
	b, _ := os.ReadFile(filepath.Join(dir, "stat"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("main ran %d times, want 2: %q", len(lines), b)
	}
	for _, l := range lines {
		f := statFields(l)
		if len(f) < 8 {
			t.Fatalf("bad stat %q", l)
		}
		pid, pgrp, tpgid := f[0], f[4], f[7]
		if pgrp != pid || tpgid != pgrp || f[3] != strconv.Itoa(cmd.Process.Pid) {
			t.Errorf("main: pid %s, ppid %s, pgrp %s, terminal's foreground group %s; want its own group in the foreground under init %d", pid, f[3], pgrp, tpgid, cmd.Process.Pid)
		}
	}
}
