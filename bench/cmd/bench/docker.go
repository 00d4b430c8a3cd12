package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"time"
)

// command runs name args with a deadline and returns stdout. The error
// carries stderr's tail, which is usually where docker or a tool says why.
func command(ctx context.Context, timeout time.Duration, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// Kill the whole child (docker CLI) promptly when the deadline passes;
	// WaitDelay stops a stuck pipe from holding Wait forever.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return stdout.Bytes(), fmt.Errorf("%s %s: timed out after %v", name, short(args), timeout)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		if len(msg) > 400 {
			msg = "..." + msg[len(msg)-400:]
		}
		return stdout.Bytes(), fmt.Errorf("%s %s: %v: %s", name, short(args), err, msg)
	}
	return stdout.Bytes(), nil
}

func short(args []string) string {
	s := strings.Join(args, " ")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}

func docker(ctx context.Context, timeout time.Duration, args ...string) ([]byte, error) {
	return command(ctx, timeout, "docker", args...)
}

// removeContainer force-removes a container by exact name, ignoring "no
// such container": cleanup must never stop at the first one already gone.
func removeContainer(ctx context.Context, name string) {
	_, _ = docker(ctx, 60*time.Second, "rm", "-f", name)
}

// publishedPort returns the 127.0.0.1:PORT that docker published for the
// container's port. Anything but a loopback address is refused: the
// benchmarks must never send load anywhere else.
func publishedPort(ctx context.Context, container, port string) (string, error) {
	out, err := docker(ctx, 30*time.Second, "port", container, port)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		addr := strings.TrimSpace(line)
		host, p, err := net.SplitHostPort(addr)
		if err != nil {
			continue
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return net.JoinHostPort(host, p), nil
		}
	}
	return "", fmt.Errorf("docker port %s %s: no loopback address in %q", container, port, out)
}
