package main

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/athenaos/athena/bench/internal/dockerrt"
)

// cmdResult is a finished command.
type cmdResult struct {
	stdout, stderr string
	code           int
}

// command runs name with args, waiting at most timeout. A command that
// could not start, or ran past its deadline, is an error; a non-zero exit
// is not (the caller reads code).
func command(ctx context.Context, timeout time.Duration, name string, args ...string) (cmdResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Its own process group, so that an interrupt of this program does
	// not reach the docker CLI before cleanup has used it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err := cmd.Run()
	r := cmdResult{stdout: stdout.String(), stderr: stderr.String()}
	if ctx.Err() != nil {
		return r, fmt.Errorf("%s %s: %w after %s", name, short(args), ctx.Err(), timeout)
	}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("%s %s: %w", name, short(args), err)
	}
	return r, nil
}

// must runs a command that has to succeed.
func must(ctx context.Context, timeout time.Duration, name string, args ...string) (string, error) {
	r, err := command(ctx, timeout, name, args...)
	if err != nil {
		return "", err
	}
	if r.code != 0 {
		return "", fmt.Errorf("%s %s: exit %d: %s", name, short(args), r.code, strings.TrimSpace(tail(r.stderr+r.stdout, 1500)))
	}
	return r.stdout, nil
}

func docker(ctx context.Context, timeout time.Duration, args ...string) (cmdResult, error) {
	return command(ctx, timeout, "docker", args...)
}

func mustDocker(ctx context.Context, timeout time.Duration, args ...string) (string, error) {
	return must(ctx, timeout, "docker", args...)
}

func short(args []string) string {
	s := strings.Join(args, " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// runtimeReg is a Docker runtime this program registered.
type runtimeReg struct {
	name  string
	state string // docker-install's --state-file
}

// registerRuntimes adds Docker runtimes running bin with extra arguments
// and reloads dockerd once for all of them. Each gets its own state file
// under stateDir, so a later run (or cleanup) removes exactly it.
func (h *harness) registerRuntimes(ctx context.Context, rts map[string][]string) error {
	var names []string
	for name, args := range rts {
		state := filepath.Join(h.stateDir, name+".json")
		if err := h.installer().Register(ctx, name, state, args); err != nil {
			return err
		}
		h.runtimes = append(h.runtimes, runtimeReg{name, state})
		names = append(names, name)
	}
	return h.installer().Reload(ctx, names, true)
}

// installer registers runtimes running this run's runsc-athena.
func (h *harness) installer() dockerrt.Installer {
	return dockerrt.Installer{Run: func(ctx context.Context, timeout time.Duration, name string, args ...string) ([]byte, error) {
		out, err := must(ctx, timeout, name, args...)
		return []byte(out), err
	}, Bin: h.bin, Root: h.root}
}

// unregisterStale removes runtimes that an earlier run registered and
// did not remove (it was killed): their state files are in stateDir.
func (h *harness) unregisterStale(ctx context.Context) {
	files, _ := filepath.Glob(filepath.Join(h.stateDir, "*.json"))
	var names []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		h.removeContainersOf(ctx, name)
		if err := h.installer().Unregister(ctx, name, f); err != nil {
			log.Printf("cleanup: %v", err)
			continue
		}
		names = append(names, name)
	}
	if len(names) > 0 {
		log.Printf("cleanup: removed runtimes left by an earlier run: %v", names)
		if err := h.installer().Reload(ctx, names, false); err != nil {
			log.Printf("cleanup: %v", err)
		}
	}
}

// unregisterRuntimes removes the runtimes this run registered, after the
// containers that use them are gone (removing a runtime under a container
// still being deleted leaves its shim behind).
func (h *harness) unregisterRuntimes(ctx context.Context) {
	if len(h.runtimes) == 0 {
		return
	}
	var names []string
	for _, rt := range h.runtimes {
		h.removeContainersOf(ctx, rt.name)
		if err := h.installer().Unregister(ctx, rt.name, rt.state); err != nil {
			log.Printf("cleanup: %v", err)
			continue
		}
		names = append(names, rt.name)
	}
	h.runtimes = nil
	if err := h.installer().Reload(ctx, names, false); err != nil {
		log.Printf("cleanup: %v", err)
	}
}

// removeContainersOf removes the containers (any state) of this
// program's that use runtime, and waits until they are gone. Only
// containers named like this program's (athena-eval-*, and the
// conformance runner's conf-athena-eval-*, the gosuite runner's gos-*) are looked at: other people's
// containers are none of its business.
func (h *harness) removeContainersOf(ctx context.Context, runtime string) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		var mine []string
		for _, prefix := range []string{"athena-eval-", "conf-athena-eval-", "gos-"} {
			r, err := docker(ctx, 30*time.Second, "ps", "-a", "--filter", "name="+prefix, "--format", "{{.ID}} {{.Names}}")
			if err != nil || r.code != 0 {
				return
			}
			for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
				f := strings.Fields(line)
				if len(f) != 2 || !strings.HasPrefix(f[1], prefix) {
					continue
				}
				ri, err := docker(ctx, 30*time.Second, "inspect", "-f", "{{.HostConfig.Runtime}}", f[0])
				if err == nil && ri.code == 0 && strings.TrimSpace(ri.stdout) == runtime {
					mine = append(mine, f[0])
				}
			}
		}
		if len(mine) == 0 {
			return
		}
		if time.Now().After(deadline) {
			log.Printf("cleanup: containers of runtime %s still there: %v", runtime, mine)
			return
		}
		docker(ctx, 60*time.Second, append([]string{"rm", "-f"}, mine...)...)
		sleep(ctx, time.Second)
	}
}

// removeContainer removes a container this program made, by name.
func removeContainer(ctx context.Context, name string) {
	docker(ctx, 60*time.Second, "rm", "-f", name)
}

// container is a running container this program started.
type container struct {
	name, id, runtime string
}

// startDetached starts a container and returns it; a container that
// does not start, or exits at once, is an error with its logs.
func (h *harness) startDetached(ctx context.Context, name, runtime string, opts []string, cmd ...string) (*container, error) {
	removeContainer(ctx, name) // a leftover of an interrupted run
	args := append([]string{"run", "-d", "--name", name, "--runtime", runtime}, opts...)
	args = append(append(args, h.image), cmd...)
	h.containers[name] = true
	out, err := mustDocker(ctx, 2*time.Minute, args...)
	if err != nil {
		return nil, fmt.Errorf("starting %s under %s: %w", name, runtime, err)
	}
	return &container{name: name, id: strings.TrimSpace(out), runtime: runtime}, nil
}

// running reports whether the container is still running, and its logs
// when it is not.
func (c *container) running(ctx context.Context) (bool, string) {
	r, err := docker(ctx, 30*time.Second, "inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", c.name)
	if err != nil || r.code != 0 {
		return false, "container is gone"
	}
	if strings.HasPrefix(r.stdout, "true") {
		return true, ""
	}
	logs, _ := docker(ctx, 30*time.Second, "logs", "--tail", "30", c.name)
	return false, fmt.Sprintf("exited (%s): %s", strings.TrimSpace(strings.TrimPrefix(r.stdout, "false")), strings.TrimSpace(tail(logs.stdout+logs.stderr, 1500)))
}

// hostPort is the host port Docker published for the container's port.
func (c *container) hostPort(ctx context.Context, port string) (string, error) {
	out, err := mustDocker(ctx, 30*time.Second, "port", c.name, port)
	if err != nil {
		return "", err
	}
	line := strings.TrimSpace(strings.Split(out, "\n")[0])
	i := strings.LastIndexByte(line, ':')
	if i < 0 {
		return "", fmt.Errorf("docker port %s %s: %q", c.name, port, out)
	}
	return line[i+1:], nil
}

// stop stops and removes the container, saving its logs under logDir.
// It returns the exit code.
func (h *harness) stop(ctx context.Context, c *container) int {
	docker(ctx, time.Minute, "stop", "-t", "10", c.name)
	code := -1
	if r, err := docker(ctx, 30*time.Second, "inspect", "-f", "{{.State.ExitCode}}", c.name); err == nil && r.code == 0 {
		fmt.Sscan(strings.TrimSpace(r.stdout), &code)
	}
	h.saveLogs(ctx, c.name)
	removeContainer(ctx, c.name)
	delete(h.containers, c.name)
	return code
}

// saveLogs keeps a container's output in the work directory.
func (h *harness) saveLogs(ctx context.Context, name string) {
	if r, err := docker(ctx, 30*time.Second, "logs", name); err == nil {
		os.WriteFile(filepath.Join(h.logDir, name+".log"), []byte(r.stdout+r.stderr), 0o644)
	}
}

// bridgeGateway is the IPv4 address of Docker's default bridge on the
// host: what a container reaches the host at.
func bridgeGateway(ctx context.Context) (string, error) {
	out, err := mustDocker(ctx, 30*time.Second, "network", "inspect", "bridge", "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}")
	if err != nil {
		return "", err
	}
	for _, f := range strings.Fields(out) {
		if !strings.Contains(f, ":") {
			return f, nil
		}
	}
	return "", fmt.Errorf("docker's bridge network has no IPv4 gateway (%q)", out)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
