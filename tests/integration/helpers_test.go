package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	busybox = "athena-test/busybox"
	// debianImage is built by bench/images-debian.sh (make images-debian).
	debianImage = "athena-test/debian"
	athena      = "athena"
	runc        = "runc"
	// commandTimeout bounds every docker or runsc-athena call, so a hung
	// runtime fails the test instead of eating CI's time.
	commandTimeout = 2 * time.Minute
)

// runtimes are compared side by side: runc is real Linux, the reference.
var runtimes = []string{runc, athena}

// requireIntegration skips the test unless the integration environment was
// asked for; once asked for, missing prerequisites fail loudly.
func requireIntegration(t *testing.T) {
	t.Helper()
	if os.Getenv("ATHENA_INTEGRATION") != "1" {
		t.Skip("integration test: set ATHENA_INTEGRATION=1 (make test does)")
	}
	if os.Geteuid() != 0 {
		t.Fatal("integration tests need root")
	}
	out, err := exec.Command("docker", "info", "--format", "{{json .Runtimes}}").CombinedOutput()
	if err != nil {
		t.Fatalf("docker does not answer: %v: %s", err, out)
	}
	if !strings.Contains(string(out), `"athena"`) {
		t.Fatalf("runtime athena is not registered with dockerd (run make install): %s", out)
	}
	if err := exec.Command("docker", "image", "inspect", busybox).Run(); err != nil {
		t.Fatalf("image %s missing (run make images): %v", busybox, err)
	}
}

// result is what a command did.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
}

// runCmd runs a command with optional stdin and returns its output and exit
// code. Only a failure to start (or a timeout) fails the test: a non-zero exit
// is data.
func runCmd(t *testing.T, stdin string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	// A command may leave a child holding its stdout (runsc-athena create
	// starts a sandbox that inherits it): stop reading 5s after it exits
	// instead of waiting for the child.
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		t.Fatalf("%s %s: timed out after %v", name, strings.Join(args, " "), commandTimeout)
	}
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if errors.Is(err, exec.ErrWaitDelay) {
		// Exited; only the inherited output pipe was still open.
		err = nil
		r.code = cmd.ProcessState.ExitCode()
	}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

func docker(t *testing.T, args ...string) result {
	t.Helper()
	return runCmd(t, "", "docker", args...)
}

// mustDocker runs docker and fails the test on a non-zero exit.
func mustDocker(t *testing.T, args ...string) string {
	t.Helper()
	r := docker(t, args...)
	if r.code != 0 {
		t.Fatalf("docker %s: %v", strings.Join(args, " "), r)
	}
	return r.stdout
}

// runIn runs `docker run --rm --runtime=RT [opts...] busybox cmd...`.
// opts and cmd are separated by the image name: pass opts first, then "--",
// then the command.
func runIn(t *testing.T, rt string, optsAndCmd ...string) result {
	t.Helper()
	opts, cmd := splitDashDash(optsAndCmd)
	args := append([]string{"run", "--rm", "--runtime=" + rt}, opts...)
	args = append(args, busybox)
	return docker(t, append(args, cmd...)...)
}

func splitDashDash(args []string) (before, after []string) {
	for i, a := range args {
		if a == "--" {
			return args[:i], args[i+1:]
		}
	}
	return nil, args
}

// uniqueName returns a container or volume name that no other test uses.
func uniqueName(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return "athena-it-" + prefix + "-" + hex.EncodeToString(b)
}

// startDetached runs a detached container and removes it when the test ends.
func startDetached(t *testing.T, rt, name string, optsAndCmd ...string) string {
	t.Helper()
	opts, cmd := splitDashDash(optsAndCmd)
	args := append([]string{"run", "-d", "--name", name, "--runtime=" + rt}, opts...)
	args = append(append(args, busybox), cmd...)
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", name).Run() })
	return strings.TrimSpace(mustDocker(t, args...))
}

// eventually polls cond until it holds or the deadline passes. It is for
// waiting on asynchronous state (a server listening, a container exiting),
// never for asserting how long something took.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", within, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func inspect(t *testing.T, name, format string) string {
	t.Helper()
	return strings.TrimSpace(mustDocker(t, "inspect", "-f", format, name))
}

// hostProcsMatching lists host processes whose command line contains s.
func hostProcsMatching(s string) []string {
	var found []string
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	self := fmt.Sprint(os.Getpid())
	for _, f := range dirs {
		data, err := os.ReadFile(f)
		if err != nil || len(data) == 0 {
			continue
		}
		pid := filepath.Base(filepath.Dir(f))
		if pid == self {
			continue
		}
		cmdline := strings.ReplaceAll(string(data), "\x00", " ")
		if strings.Contains(cmdline, s) {
			found = append(found, pid+": "+cmdline)
		}
	}
	return found
}

// hostMountsMatching lists lines of the host's /proc/mounts containing s.
func hostMountsMatching(t *testing.T, s string) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, s) {
			found = append(found, l)
		}
	}
	return found
}

// athenaBinary is the installed runtime binary the tests drive directly.
func athenaBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("runsc-athena")
	if err != nil {
		t.Fatalf("runsc-athena not in PATH (run make install): %v", err)
	}
	return p
}
