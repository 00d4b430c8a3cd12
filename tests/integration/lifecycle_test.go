package integration

import (
	"strings"
	"testing"
	"time"
)

// trapScript logs start, answers SIGTERM by logging and exiting 0, and
// otherwise runs until killed.
const trapScript = `trap 'echo got-term; exit 0' TERM; echo started; while true; do sleep 0.2; done`

func TestLifecycle(t *testing.T) {
	requireIntegration(t)
	for _, rt := range runtimes {
		t.Run(rt, func(t *testing.T) {
			name := uniqueName("life")
			id := startDetached(t, rt, name, "--", "sh", "-c", trapScript)

			eventually(t, 30*time.Second, "container running", func() bool {
				return inspect(t, name, "{{.State.Status}}") == "running"
			})
			if ps := mustDocker(t, "ps", "--filter", "name="+name, "--format", "{{.Names}} {{.Status}}"); !strings.HasPrefix(ps, name+" Up") {
				t.Errorf("docker ps: %q", ps)
			}

			// exec: output and exit status.
			if r := docker(t, "exec", name, "echo", "in-exec"); r.code != 0 || r.stdout != "in-exec\n" {
				t.Errorf("exec: %v", r)
			}
			if r := docker(t, "exec", name, "sh", "-c", "exit 5"); r.code != 5 {
				t.Errorf("exec exit status: %v, want 5", r)
			}
			if r := docker(t, "exec", "-u", "1000", "-w", "/tmp", name, "sh", "-c", "id -u; pwd"); r.stdout != "1000\n/tmp\n" {
				t.Errorf("exec -u -w: %v", r)
			}
			// exec sees the main process in the same pid namespace.
			if r := docker(t, "exec", name, "sh", "-c", "ps -o comm | grep -c '^sleep$\\|^sh$'"); r.code != 0 {
				t.Errorf("exec ps: %v", r)
			}

			eventually(t, 10*time.Second, "logs to show start", func() bool {
				return strings.Contains(docker(t, "logs", name).stdout, "started")
			})

			// stop: SIGTERM must reach the app, which exits 0 on it (a
			// SIGKILL after the grace period would give 137).
			mustDocker(t, "stop", "-t", "30", name)
			if code := inspect(t, name, "{{.State.ExitCode}}"); code != "0" {
				t.Errorf("exit code after stop = %s, want 0 (the app's TERM handler)", code)
			}
			if logs := docker(t, "logs", name).stdout; !strings.Contains(logs, "got-term") {
				t.Errorf("app did not see SIGTERM; logs: %q", logs)
			}
			if st := inspect(t, name, "{{.State.Status}}"); st != "exited" {
				t.Errorf("status after stop = %s", st)
			}

			// restart: runs again in the same container.
			mustDocker(t, "restart", "-t", "30", name)
			eventually(t, 30*time.Second, "container running again", func() bool {
				return inspect(t, name, "{{.State.Status}}") == "running" &&
					strings.Count(docker(t, "logs", name).stdout, "started") == 2
			})

			// kill: SIGKILL by default.
			mustDocker(t, "kill", name)
			eventually(t, 30*time.Second, "container exited after kill", func() bool {
				return inspect(t, name, "{{.State.Status}}") == "exited"
			})
			if code := inspect(t, name, "{{.State.ExitCode}}"); code != "137" {
				t.Errorf("exit code after kill = %s, want 137", code)
			}

			// Signals other than KILL reach the app too.
			mustDocker(t, "start", name)
			eventually(t, 30*time.Second, "running after start", func() bool {
				return inspect(t, name, "{{.State.Status}}") == "running"
			})
			mustDocker(t, "kill", "-s", "TERM", name)
			eventually(t, 30*time.Second, "exit after kill -s TERM", func() bool {
				return inspect(t, name, "{{.State.Status}}") == "exited"
			})
			if code := inspect(t, name, "{{.State.ExitCode}}"); code != "0" {
				t.Errorf("exit code after kill -s TERM = %s, want 0", code)
			}

			// rm -f of a running container leaves no processes or mounts.
			mustDocker(t, "start", name)
			eventually(t, 30*time.Second, "running before rm -f", func() bool {
				return inspect(t, name, "{{.State.Status}}") == "running"
			})
			if rt == athena && len(hostProcsMatching(id)) == 0 {
				t.Errorf("no host process mentions container %s while it runs: the check below would prove nothing", id)
			}
			mustDocker(t, "rm", "-f", name)
			eventually(t, 30*time.Second, "no processes or mounts left for "+id, func() bool {
				return len(hostProcsMatching(id)) == 0 && len(hostMountsMatching(t, id)) == 0
			})
			if r := docker(t, "inspect", name); r.code == 0 {
				t.Errorf("container still exists after rm -f")
			}
		})
	}
}

// TestPauseUnpause checks the freezer path: a paused container makes no
// progress and resumes afterwards.
func TestPauseUnpause(t *testing.T) {
	requireIntegration(t)
	for _, rt := range runtimes {
		t.Run(rt, func(t *testing.T) {
			name := uniqueName("pause")
			startDetached(t, rt, name, "--", "sh", "-c", "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done")
			eventually(t, 30*time.Second, "counter running", func() bool {
				return docker(t, "exec", name, "cat", "/tmp/count").code == 0
			})
			mustDocker(t, "pause", name)
			if st := inspect(t, name, "{{.State.Status}}"); st != "paused" {
				t.Fatalf("status %s, want paused", st)
			}
			mustDocker(t, "unpause", name)
			first := docker(t, "exec", name, "cat", "/tmp/count").stdout
			eventually(t, 30*time.Second, "counter to advance after unpause", func() bool {
				return docker(t, "exec", name, "cat", "/tmp/count").stdout != first
			})
		})
	}
}
