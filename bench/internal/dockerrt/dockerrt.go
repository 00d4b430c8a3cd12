package dockerrt

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Run runs a command that must succeed, waiting at most timeout, and
// returns its standard output.
type Run func(ctx context.Context, timeout time.Duration, name string, args ...string) ([]byte, error)

// Installer registers runtimes running Bin; Root is the repository (for
// scripts/dockerd.sh).
type Installer struct {
	Run  Run
	Bin  string
	Root string
}

// Register adds runtime name, running Bin with args, recording what it
// added in state. dockerd does not see it before Reload.
func (in Installer) Register(ctx context.Context, name, state string, args []string) error {
	a := append([]string{"docker-install", "--runtime=" + name, "--path=" + in.Bin, "--state-file=" + state, "--"}, args...)
	if _, err := in.Run(ctx, time.Minute, in.Bin, a...); err != nil {
		return fmt.Errorf("registering runtime %s: %w", name, err)
	}
	return nil
}

// Unregister removes what Register added for runtime name, and its state
// file.
func (in Installer) Unregister(ctx context.Context, name, state string) error {
	if _, err := in.Run(ctx, time.Minute, in.Bin, "docker-uninstall", "--runtime="+name, "--state-file="+state); err != nil {
		return err
	}
	os.Remove(state)
	return nil
}

// reloadWait bounds how long dockerd may take to list a reload's runtimes.
const reloadWait = 45 * time.Second

// Reload makes dockerd re-read daemon.json and waits until the named
// runtimes are listed (present) or gone (!present).
func (in Installer) Reload(ctx context.Context, names []string, present bool) error {
	if _, err := in.Run(ctx, 2*time.Minute, filepath.Join(in.Root, "scripts", "dockerd.sh"), "reload"); err != nil {
		return err
	}
	deadline := time.Now().Add(reloadWait)
	for {
		out, err := in.Run(ctx, 20*time.Second, "docker", "info", "--format", "{{json .Runtimes}}")
		if err == nil && listed(out, names, present) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("dockerd does not list runtimes %v (want present=%v) %s after reload", names, present, reloadWait)
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// listed reports whether docker info's runtimes (JSON) hold each of names
// (present) or none of them (!present).
func listed(runtimes []byte, names []string, present bool) bool {
	var rts map[string]json.RawMessage
	if json.Unmarshal(runtimes, &rts) != nil {
		return false
	}
	for _, n := range names {
		if _, has := rts[n]; has != present {
			return false
		}
	}
	return true
}
