package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/athenaos/athena/runsc-athena/internal/keeperstate"
)

// Containers kept by runsc-athena's keeper (docs/healer.md, "Sandbox
// recovery"): a container that asks for checkpoints gets a keeper, a host
// process that runs the real create and writes its own PID to the pid file.
// gVisor's shim therefore takes the keeper's PID for the container's, and
// the keeper (orphaned by "runsc create") is reparented to the shim, a
// child subreaper: the shim's reaper collects its status. When the sandbox
// dies, the keeper restores the container from its last checkpoint under
// the same ID, in a new sandbox.
//
// gVisor's shim knows nothing of this. It learns a container's exit from
// "runsc wait ID", which fails as soon as the sandbox dies: the shim would
// then report the task exited (status 128) although the keeper is bringing
// it back. And its State asks "runsc state ID", which during a recovery
// says "stopped" (dead sandbox) or "does not exist" (state deleted before
// the new create), and the task would turn STOPPED for good.
//
// So gVisor's shim does not run runsc-athena directly: its "runsc" is this
// binary (a link to it, first in PATH, see installRunscWrapper), which
// hands every command to runsc-athena (exec, same process) except, for a
// container with a live keeper,
//
//   - "wait ID": a wait that fails while the keeper lives is asked again
//     once the keeper has restored the sandbox; an answer (the app exited)
//     is given once the keeper has exited (it may roll the container back
//     instead). The keeper's status is authoritative: the shim replaces
//     whatever the wait said by the status its reaper collected for the
//     keeper (sandboxExits.fix).
//   - "state ID": "stopped", "created" during a recovery, or no state at
//     all are reported as "running" while the keeper lives.

const (
	// runscEnv names, for the wrapper, the runsc it wraps (the
	// runsc-athena link).
	runscEnv = "ATHENA_SHIM_RUNSC"
	// wrapperDir holds the "runsc" links to shim binaries, one directory
	// per binary (named by its path's digest).
	wrapperDir = "/run/athena/shim"
)

// keeperState is a keeper's state file, as runsc-athena's keeper writes it.
type keeperState = keeperstate.Status

// readKeeper returns container id's keeper state, nil if it has none.
func readKeeper(id string) *keeperState {
	k, err := keeperstate.Read(id)
	if err != nil || k.Container != id || k.KeeperPID <= 0 {
		return nil
	}
	return k
}

// alive reports whether pid is a process that has not exited (a zombie
// has).
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// liveKeeper returns container id's keeper state if its keeper runs.
func liveKeeper(id string) *keeperState {
	if k := readKeeper(id); k != nil && alive(k.KeeperPID) {
		return k
	}
	return nil
}

// installRunscWrapper makes this binary gVisor's shim's "runsc": a link
// "runsc" to it, in a directory put first in PATH, with the runsc found so
// far (the runsc-athena link) in runscEnv.
func installRunscWrapper() error {
	real, err := exec.LookPath("runsc")
	if err != nil {
		return err
	}
	if real, err = filepath.Abs(real); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	sum := sha256.Sum256([]byte(self))
	dir := filepath.Join(wrapperDir, hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	link := filepath.Join(dir, "runsc")
	if target, err := os.Readlink(link); err != nil || target != self {
		tmp := fmt.Sprintf("%s.%d", link, os.Getpid())
		os.Remove(tmp)
		if err := os.Symlink(self, tmp); err != nil {
			return err
		}
		if err := os.Rename(tmp, link); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	if err := os.Setenv(runscEnv, real); err != nil {
		return err
	}
	return os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// isRunscWrapper reports whether this process runs as gVisor's shim's
// "runsc".
func isRunscWrapper() bool {
	return filepath.Base(os.Args[0]) == "runsc" && os.Getenv(runscEnv) != ""
}

// runscWrapper is main for the wrapper: args are runsc's (global flags,
// command, arguments).
func runscWrapper(args []string) int {
	real := os.Getenv(runscEnv)
	if n := len(args); n >= 2 {
		cmd, id := args[n-2], args[n-1]
		if cmd == "wait" || cmd == "state" {
			if k := liveKeeper(id); k != nil {
				if cmd == "wait" {
					return keptWait(real, args, id, k)
				}
				return keptState(real, args, id)
			}
		}
	}
	err := syscall.Exec(real, append([]string{real}, args...), os.Environ())
	fmt.Fprintf(os.Stderr, "containerd-shim-athena-v1: running %s: %v\n", real, err)
	return 1
}

// runReal runs runsc-athena with args and returns its stdout, stderr and
// exit code (-1: it could not run).
func runReal(real string, args []string) ([]byte, []byte, int) {
	cmd := exec.Command(real, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.Bytes(), stderr.Bytes(), 0
	case errors.As(err, &exit):
		return stdout.Bytes(), stderr.Bytes(), exit.ExitCode()
	default:
		return stdout.Bytes(), []byte(err.Error()), -1
	}
}

// keptWait is "runsc wait ID" for a container with a live keeper k.
func keptWait(real string, args []string, id string, k *keeperState) int {
	for {
		out, _, code := runReal(real, args)
		if code == 0 {
			// The app exited; the keeper exits with its status,
			// unless it rolls the container back.
			if keeperRestored(id, k, false) {
				k = readKeeper(id)
				continue
			}
			os.Stdout.Write(out)
			return 0
		}
		// The sandbox is gone (or the wait could not be answered).
		if keeperRestored(id, k, true) {
			k = readKeeper(id)
			continue
		}
		// The keeper exited (it gave up, or the container is being
		// deleted): the shim takes the keeper's status from its
		// reaper in place of this one.
		fmt.Printf("{\"id\":%q,\"exitStatus\":%d}\n", id, internalError)
		return 0
	}
}

// keeperRestored waits until container id's keeper (whose state was k
// when the wait started) either exits (false) or runs a sandbox it
// restored since (true). After a failed wait (failed), a keeper that still
// runs the same, live sandbox is asked again a second later (true).
func keeperRestored(id string, k *keeperState, failed bool) bool {
	since := time.Now()
	for {
		if !alive(k.KeeperPID) {
			return false
		}
		cur := readKeeper(id)
		if cur != nil && cur.KeeperPID == k.KeeperPID && cur.State == "running" {
			if cur.Recoveries > k.Recoveries {
				return true
			}
			if failed && cur.SandboxPID == k.SandboxPID && alive(cur.SandboxPID) && time.Since(since) >= time.Second {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// keptState is "runsc state ID" for a container with a live keeper.
func keptState(real string, args []string, id string) int {
	out, errOut, code := runReal(real, args)
	k := liveKeeper(id)
	if k == nil || k.State == "exited" || k.State == "failed" {
		// The container really ends: runsc's answer as it is.
		os.Stdout.Write(out)
		os.Stderr.Write(errOut)
		return exitOf(code)
	}
	if out, ok := keptStateAnswer(id, k, out, code == 0); ok {
		os.Stdout.Write(out)
		return 0
	}
	os.Stdout.Write(out)
	os.Stderr.Write(errOut)
	return exitOf(code)
}

// keptStateAnswer returns the state to report for container id, whose
// keeper k lives, given runsc's answer out (ok: runsc answered): a
// sandbox that has died ("stopped"), one being restored ("created" while
// the keeper recovers) or none (runsc has no state between the lost
// sandbox's delete and the new create) is "running" as far as the
// container's manager is concerned.
func keptStateAnswer(id string, k *keeperState, out []byte, ok bool) ([]byte, bool) {
	var st map[string]any
	if !ok || json.Unmarshal(out, &st) != nil {
		st = map[string]any{"ociVersion": "1.0.0", "id": id, "pid": k.SandboxPID}
	}
	switch s, _ := st["status"].(string); {
	case s == "stopped", s == "", s == "created" && k.State == "recovering":
		st["status"] = "running"
	}
	data, err := json.Marshal(st)
	if err != nil {
		return nil, false
	}
	return append(data, '\n'), true
}

// exitOf is this process's exit code for runReal's code.
func exitOf(code int) int {
	if code < 0 {
		return 1
	}
	return code
}

// keptBy reports whether pid (container id's PID as gVisor's shim read it
// from the pid file) is the PID of the container's keeper.
func keptBy(id string, pid int) bool {
	k := readKeeper(id)
	return k != nil && k.KeeperPID == pid
}
