package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMain runs the tests, then checks that they leaked no containerd shim:
// a shim whose container Docker no longer knows is a leftover that nothing
// will ever clean up (it happened once: a runtime unregistered while its
// container was still being deleted).
func TestMain(m *testing.M) {
	code := m.Run()
	if os.Getenv("ATHENA_INTEGRATION") == "1" {
		before := time.Now()
		var leaked []string
		for time.Since(before) < 30*time.Second {
			if leaked = orphanShims(); len(leaked) == 0 {
				break
			}
			time.Sleep(time.Second)
		}
		if len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: containerd shims left without a container:\n  %s\n", strings.Join(leaked, "\n  "))
			if code == 0 {
				code = 1
			}
		}
	}
	os.Exit(code)
}

// orphanShims lists shim processes of Docker's containerd namespace whose
// container Docker does not list.
func orphanShims() []string {
	out, err := exec.Command("docker", "ps", "-aq", "--no-trunc").Output()
	if err != nil {
		return []string{"docker ps failed: " + err.Error()}
	}
	known := map[string]bool{}
	for _, id := range strings.Fields(string(out)) {
		known[id] = true
	}
	var orphans []string
	files, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		if len(args) == 0 || !strings.HasPrefix(filepath.Base(args[0]), "containerd-shim") {
			continue
		}
		for i := 0; i+1 < len(args); i++ {
			if args[i] == "-namespace" && args[i+1] != "moby" {
				break // not Docker's
			}
			if args[i] == "-id" && !known[args[i+1]] {
				orphans = append(orphans, filepath.Base(filepath.Dir(f))+": "+strings.Join(args, " "))
			}
		}
	}
	return orphans
}
