package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// reloadDockerd makes dockerd re-read daemon.json and waits until the
// runtime list matches want.
func reloadDockerd(t *testing.T, runtime string, present bool) {
	t.Helper()
	out, err := exec.Command("pgrep", "-xo", "dockerd").Output()
	if err != nil {
		t.Fatalf("finding dockerd: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "dockerd to reload its runtimes", func() bool {
		r := docker(t, "info", "--format", "{{json .Runtimes}}")
		return r.code == 0 && strings.Contains(r.stdout, `"`+runtime+`"`) == present
	})
}

// registerRuntime adds a Docker runtime running runsc-athena with extra
// runtime arguments, reloads dockerd, and removes it when the test ends.
func registerRuntime(t *testing.T, name string, runtimeArgs ...string) {
	t.Helper()
	state := filepath.Join(t.TempDir(), "state.json")
	bin := athenaBinary(t)
	args := append([]string{"docker-install", "--runtime=" + name, "--state-file=" + state, "--"}, runtimeArgs...)
	if r := runCmd(t, "", bin, args...); r.code != 0 {
		t.Fatalf("registering %s: %v", name, r)
	}
	t.Cleanup(func() {
		// docker run --rm returns before dockerd has deleted the
		// container. Unregistering the runtime under a container still
		// being deleted leaves its shim behind, so wait for them.
		eventually(t, 30*time.Second, "containers of runtime "+name+" to be gone", func() bool {
			return len(containersOfRuntime(t, name)) == 0
		})
		exec.Command(bin, "docker-uninstall", "--runtime="+name, "--state-file="+state).Run()
		reloadDockerd(t, name, false)
	})
	reloadDockerd(t, name, true)
}

// containersOfRuntime lists the containers (any state) that use runtime.
func containersOfRuntime(t *testing.T, runtime string) []string {
	t.Helper()
	var found []string
	for _, id := range strings.Fields(docker(t, "ps", "-aq").stdout) {
		if r := docker(t, "inspect", "-f", "{{.HostConfig.Runtime}}", id); r.code == 0 && strings.TrimSpace(r.stdout) == runtime {
			found = append(found, id)
		}
	}
	return found
}

// TestUnknownRuntimeFlag registers a runtime whose daemon.json entry passes
// a flag runsc-athena does not know: docker run must fail with an error that
// names the flag, and leave no container or process behind.
func TestUnknownRuntimeFlag(t *testing.T) {
	requireIntegration(t)
	const rt = "athena-it-badflag"
	registerRuntime(t, rt, "--no-such-flag=1")

	name := uniqueName("badflag")
	r := docker(t, "run", "--rm", "--name", name, "--runtime="+rt, busybox, "echo", "must-not-run")
	if r.code == 0 || strings.Contains(r.stdout, "must-not-run") {
		t.Fatalf("container ran despite a bad runtime flag: %v", r)
	}
	if !strings.Contains(r.stderr, "no-such-flag") {
		t.Errorf("error does not name the bad flag: %q", r.stderr)
	}
	eventually(t, 30*time.Second, "no container or process left", func() bool {
		return docker(t, "inspect", name).code != 0 && len(hostProcsMatching(name)) == 0
	})
}

// TestBundleWithoutConfig drives runsc-athena directly on a bundle with no
// config.json: a clear error, and no container state left in its root.
func TestBundleWithoutConfig(t *testing.T) {
	requireIntegration(t)
	bin := athenaBinary(t)
	root := t.TempDir()
	bundle := t.TempDir()
	noconfigID := uniqueName("noconfig")
	for _, cmd := range []string{"create", "run"} {
		r := runCmd(t, "", bin, "--root="+root, "--network=none", cmd, "--bundle="+bundle, noconfigID)
		if r.code == 0 {
			t.Fatalf("%s succeeded without config.json: %v", cmd, r)
		}
		if !strings.Contains(r.stderr, "config.json") {
			t.Errorf("%s: error does not mention config.json: %q", cmd, r.stderr)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("state left in --root after failed create: %v", names)
	}
	if r := runCmd(t, "", bin, "--root="+root, "list", "-quiet"); r.code != 0 || strings.TrimSpace(r.stdout) != "" {
		t.Errorf("list after failed create: %v", r)
	}
	if procs := hostProcsMatching(noconfigID); len(procs) != 0 {
		t.Errorf("processes left: %v", procs)
	}
}

// TestMissingCommand runs a command that is not in the image. Docker maps
// "no such file" from the runtime to exit code 127, as with runc.
func TestMissingCommand(t *testing.T) {
	requireIntegration(t)
	want := runIn(t, runc, "/no/such/cmd")
	for _, rt := range runtimes {
		t.Run(rt, func(t *testing.T) {
			name := uniqueName("nocmd")
			r := docker(t, "run", "--rm", "--name", name, "--runtime="+rt, busybox, "/no/such/cmd")
			if r.code != want.code || r.code == 0 {
				t.Errorf("exit code %d, runc gives %d: %v", r.code, want.code, r)
			}
			if !strings.Contains(r.stderr, "/no/such/cmd") || !strings.Contains(r.stderr, "no such file") {
				t.Errorf("error does not say what is missing: %q", r.stderr)
			}
			eventually(t, 30*time.Second, "no container or process left", func() bool {
				return docker(t, "inspect", name).code != 0 && len(hostProcsMatching(name)) == 0
			})
			// Not a path: resolved through PATH, and missing there too.
			r = runIn(t, rt, "no-such-cmd")
			if r.code != want.code || !strings.Contains(r.stderr, "no-such-cmd") {
				t.Errorf("command not in PATH: %v", r)
			}
		})
	}
}

// TestMissingImage: a clear error, nothing created.
func TestMissingImage(t *testing.T) {
	requireIntegration(t)
	name := uniqueName("noimage")
	r := docker(t, "run", "--rm", "--name", name, "--runtime="+athena, "--pull=never", "athena-test/does-not-exist:1", "true")
	if r.code == 0 || !strings.Contains(r.stderr, "athena-test/does-not-exist") {
		t.Errorf("missing image: %v", r)
	}
	if docker(t, "inspect", name).code == 0 {
		t.Error("a container was created for a missing image")
	}
}
