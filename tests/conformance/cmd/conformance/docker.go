package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"
)

// containerSpec is one program run in one container.
type containerSpec struct {
	Name    string // container name, conf-*
	Runtime string
	Image   string
	BinDir  string // host directory mounted read-only at /conf
	Program string
	Extra   []string // extra docker run arguments
	Timeout time.Duration
}

// outcome is what came back from the container.
type outcome struct {
	Stdout   []byte
	Stderr   []byte
	ExitCode int
	TimedOut bool
	Duration time.Duration
}

// executor runs containers; tests substitute a fake.
type executor interface {
	Run(ctx context.Context, spec containerSpec) (outcome, error)
}

type dockerExec struct {
	docker string
}

// dockerArgs builds the docker run command line. The network is "none" (the
// suite needs loopback only) and IPv6 is re-enabled on it, because Docker
// disables IPv6 in containers by default and the socket cases cover ::1.
// A runtime that ignores these sysctls shows up as such in the results.
func dockerArgs(spec containerSpec) []string {
	args := []string{
		"run", "--rm",
		"--name", spec.Name,
		"--runtime", spec.Runtime,
		"--network", "none",
		"--sysctl", "net.ipv6.conf.all.disable_ipv6=0",
		"--sysctl", "net.ipv6.conf.lo.disable_ipv6=0",
		"-v", spec.BinDir + ":/conf:ro",
	}
	args = append(args, spec.Extra...)
	return append(args, spec.Image, "/conf/"+spec.Program)
}

func (d dockerExec) Run(ctx context.Context, spec containerSpec) (outcome, error) {
	var out outcome
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(d.docker, dockerArgs(spec)...)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return out, fmt.Errorf("starting %s: %w", d.docker, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(spec.Timeout)
	defer timer.Stop()
	var err error
	select {
	case err = <-done:
	case <-timer.C:
		out.TimedOut = true
		err = d.stop(spec.Name, done, cmd)
	case <-ctx.Done():
		err = d.stop(spec.Name, done, cmd)
		if err == nil {
			err = ctx.Err()
		}
	}
	out.Duration = time.Since(start)
	out.Stdout, out.Stderr = stdout.Bytes(), stderr.Bytes()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		out.ExitCode = 0
	case errors.As(err, &exitErr):
		out.ExitCode = exitErr.ExitCode()
		err = nil
	}
	return out, err
}

// stop removes the container by name (killing the docker client would leave
// the container running) and then waits for the client to return.
func (d dockerExec) stop(name string, done <-chan error, cmd *exec.Cmd) error {
	// Its error does not matter: waiting for the client below decides.
	_ = exec.Command(d.docker, "rm", "-f", name).Run()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return <-done
	}
}
