package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/runsc/container"

	"github.com/athenaos/athena/internal/atomicfile"
	"github.com/athenaos/athena/runsc-athena/internal/keeperstate"
)

// The keeper (docs/healer.md, "Sandbox recovery") is a host process per
// container that asked for checkpoints. "runsc-athena create" starts it
// and exits; the keeper runs the real create, so the sandbox and gofer
// become its children (it is a child subreaper), and it writes its own PID
// to the --pid-file. The container manager above (Docker's runc shim,
// containerd's) therefore waits on the keeper, not on the sandbox: when the
// sandbox dies, the keeper restores the container from its last good
// checkpoint under the same ID, and the manager keeps seeing one running
// container. When the app exits, the keeper exits with the sandbox's
// status, exactly as the sandbox would have.
//
// The keeper tells "the app exited" from "the sandbox was lost" by the
// answer of runsc's Wait RPC (a "runsc-athena wait" child): the sandbox
// answers it before it exits when the container's init exits; a lost
// sandbox never does.
const (
	// keeperEnv carries the keeper's settings (JSON keeperConfig) to the
	// keeper process.
	keeperEnv = "ATHENA_KEEPER"
	// keeperInnerEnv marks a runsc-athena run by a keeper: "create" for
	// its first create (no keeper of its own), "recover" for the commands
	// of a recovery (no keeper, no bundle rewrite, checkpoints kept).
	keeperInnerEnv = "ATHENA_KEEPER_INNER"
)

// keeperConfig is what a container asked of the healer for its sandbox.
type keeperConfig struct {
	// Every is the checkpoint interval; Keep how many are kept.
	Every time.Duration
	Keep  int
	// HangAfter: a sandbox whose status heartbeat is older than this is
	// hung (the keeper's watchdog) and is killed and recovered.
	HangAfter time.Duration
	// MaxRecoveries within Window: beyond it the keeper gives up and the
	// container fails (a sandbox that dies in a loop is not restored
	// forever).
	MaxRecoveries int
	Window        time.Duration
	// Rollback: a confirmed intrusion restores the newest checkpoint
	// taken before the first anomaly (policy heal.on_intrusion).
	Rollback bool
}

// keeperStatus is the keeper's state file (keeperstate: also read by
// swarm status, swarm metrics and the containerd shim).
type keeperStatus = keeperstate.Status

func keeperStatusPath(id string) string     { return keeperstate.Path(id, ".json") }
func keeperStopPath(id string) string       { return keeperstate.Path(id, ".stop") }
func keeperLogPath(id string) string        { return keeperstate.Path(id, ".log") }
func keeperSandboxPidPath(id string) string { return keeperstate.Path(id, ".sandbox.pid") }

// readKeeperStatus reads container id's keeper state (os.ErrNotExist if it
// has no keeper).
func readKeeperStatus(id string) (*keeperStatus, error) { return keeperstate.Read(id) }

// startKeeper runs in "runsc-athena create" for a container with
// checkpoints: it starts the keeper, waits until the keeper's own create
// has finished, and returns the exit code for this process (the create's,
// whose errors the keeper's create has already printed).
func startKeeper(cfg keeperConfig) int {
	data, err := json.Marshal(cfg)
	if err != nil {
		panic(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "runsc-athena: starting the keeper: %v\n", err)
		return 1
	}
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), keeperEnv+"="+string(data))
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "runsc-athena: starting the keeper: %v\n", err)
		return 1
	}
	w.Close()
	answer, _ := io.ReadAll(r)
	msg := strings.TrimSpace(string(answer))
	if msg == "ok" {
		return 0 // the keeper goes on; this process's parent adopts it
	}
	if code, ok := strings.CutPrefix(msg, "fail "); ok {
		if n, err := strconv.Atoi(code); err == nil && n != 0 {
			return n
		}
		return 1
	}
	fmt.Fprintf(os.Stderr, "runsc-athena: the container's keeper died before the container was created (answer %q)\n", msg)
	return 1
}

// keeper is the state of a keeper process.
type keeper struct {
	cfg     keeperConfig
	id      string
	bundle  string
	globals []string // runsc global flags, as given
	create  []string // create's arguments, --pid-file replaced
	pidFile string   // the manager's --pid-file ("" if none)
	root    string   // runsc's --root
	self    string
	log     *os.File
	status  keeperStatus
	// recoveries holds the times of recent recoveries (intensity).
	recoveries []time.Time
	// intrusions watches the record for a rollback (nil: no rollback);
	// rollbackBefore is the first anomaly's time when one is due;
	// pinned is the checkpoint kept for it (0: none), read by the
	// checkpoint goroutine.
	intrusions     *intrusionWatch
	rollbackBefore time.Time
	pinned         atomic.Int64
}

// runKeeper is the keeper process's main (keeperEnv is set).
func runKeeper() {
	ready := os.NewFile(3, "keeper-ready")
	answer := func(s string) {
		if ready != nil {
			fmt.Fprintln(ready, s)
			ready.Close()
			ready = nil
		}
	}
	var cfg keeperConfig
	if err := json.Unmarshal([]byte(os.Getenv(keeperEnv)), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "runsc-athena keeper: bad settings: %v\n", err)
		answer("fail 1")
		os.Exit(1)
	}
	os.Unsetenv(keeperEnv)
	k, err := newKeeper(cfg, os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "runsc-athena keeper: %v\n", err)
		answer("fail 1")
		os.Exit(1)
	}
	// The sandbox and gofer are children of the create run below; when
	// it exits they are adopted by the nearest subreaper: this process.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintf(os.Stderr, "runsc-athena keeper: %v\n", err)
		answer("fail 1")
		os.Exit(1)
	}
	if code := k.runCreate("create"); code != 0 {
		answer(fmt.Sprintf("fail %d", code))
		os.Exit(code)
	}
	if err := k.readPids(); err != nil {
		k.logf("after create: %v", err)
		fmt.Fprintf(os.Stderr, "runsc-athena keeper: %v\n", err)
		answer("fail 1")
		os.Exit(1)
	}
	if k.pidFile != "" {
		if err := atomicfile.WriteFile(k.pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "runsc-athena keeper: writing the pid file: %v\n", err)
			answer("fail 1")
			os.Exit(1)
		}
	}
	if cfg.Rollback {
		k.intrusions = &intrusionWatch{path: linkFiles(k.id).Events}
		k.intrusions.skipToEnd()
	}
	k.setState("running")
	answer("ok")
	os.Exit(k.run())
}

func newKeeper(cfg keeperConfig, args []string) (*keeper, error) {
	cmd, rest := subcommand(args)
	if cmd != "create" {
		return nil, fmt.Errorf("a keeper runs only for create, not %q", cmd)
	}
	globals := args[:len(args)-len(rest)-1]
	bundle, id := bundleAndID(rest)
	if id == "" {
		return nil, errors.New("no container ID")
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, err
	}
	k := &keeper{cfg: cfg, id: id, bundle: abs, self: self, root: globalFlagValue(args, "root")}
	// The watchdog of gVisor's kernel ends a sandbox with a stuck task
	// (a panic the keeper sees as a lost sandbox) unless told otherwise.
	k.globals = append([]string{}, globals...)
	if !hasFlag(globals, "watchdog-action") {
		k.globals = append(k.globals, "--watchdog-action=panic")
	}
	if err := os.MkdirAll(keeperstate.Dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(checkpointDir(id), 0o700); err != nil {
		return nil, err
	}
	os.Remove(keeperStopPath(id))
	k.log, err = os.OpenFile(keeperLogPath(id), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	// --pid-file is the manager's: the keeper writes its own PID there
	// and gives the create a file of its own.
	for i := 0; i < len(rest); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(rest[i], "-"), "=")
		if strings.HasPrefix(rest[i], "-") && name == "pid-file" {
			if !hasValue && i+1 < len(rest) {
				i++
				value = rest[i]
			}
			k.pidFile = value
			continue
		}
		if i == len(rest)-1 {
			break // the ID, appended below
		}
		k.create = append(k.create, rest[i])
	}
	k.create = append(k.create, "--pid-file="+k.sandboxPidFile(), id)
	k.status = keeperStatus{Container: id, KeeperPID: os.Getpid(), EverySeconds: cfg.Every.Seconds(), Keep: cfg.Keep}
	return k, nil
}

// hasFlag reports whether args set flag name (-name, --name, with or
// without =value).
func hasFlag(args []string, name string) bool {
	for _, a := range args {
		n, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && n == name {
			return true
		}
	}
	return false
}

func (k *keeper) sandboxPidFile() string { return keeperSandboxPidPath(k.id) }

// logf writes a line to the keeper's log (never to stdout or stderr:
// those are the container's).
func (k *keeper) logf(format string, args ...any) {
	fmt.Fprintf(k.log, "%s %s\n", time.Now().UTC().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
}

// record appends a "heal" line to the container's decision record, where
// swarm events shows it beside the swarm's own.
func (k *keeper) record(what string, fields map[string]any) {
	line := map[string]any{"type": "heal", "time": time.Now().UTC().Format(time.RFC3339Nano), "container": k.id, "event": what}
	for key, v := range fields {
		line[key] = v
	}
	data, err := json.Marshal(line)
	if err != nil {
		return
	}
	f, err := os.OpenFile(linkFiles(k.id).Events, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		k.logf("record %s: %v", what, err)
		return
	}
	f.Write(append(data, '\n'))
	f.Close()
}

func (k *keeper) setState(state string) {
	k.status.State = state
	k.status.Updated = time.Now().UTC()
	if err := atomicfile.WriteJSON(keeperStatusPath(k.id), &k.status); err != nil {
		k.logf("writing status: %v", err)
	}
}

// command runs runsc-athena with the keeper's global flags; mode is the
// keeperInnerEnv value. The container's stdio is passed on: a create
// gives it to the sandbox.
func (k *keeper) command(mode string, args ...string) *exec.Cmd {
	cmd := exec.Command(k.self, append(append([]string{}, k.globals...), args...)...)
	cmd.Env = append(os.Environ(), keeperInnerEnv+"="+mode)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd
}

// runCreate runs the container's create and returns its exit code.
func (k *keeper) runCreate(mode string) int {
	cmd := k.command(mode, append([]string{"create"}, k.create...)...)
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		k.logf("%s: create failed: %v", mode, err)
		return exit.ExitCode()
	default:
		k.logf("%s: create failed: %v", mode, err)
		return 1
	}
}

// readPids reads the sandbox's and gofer's PIDs after a create.
func (k *keeper) readPids() error {
	data, err := os.ReadFile(k.sandboxPidFile())
	if err != nil {
		return fmt.Errorf("reading the sandbox's pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return fmt.Errorf("bad sandbox pid %q", data)
	}
	c, err := container.Load(k.root, container.FullID{ContainerID: k.id}, container.LoadOpts{SkipCheck: true})
	if err != nil {
		return fmt.Errorf("loading container %s: %w", k.id, err)
	}
	k.status.SandboxPID, k.status.GoferPID = pid, c.GoferPid.Load()
	return nil
}

// exitInfo is how a watched process ended.
type exitInfo struct {
	pid int
	ws  unix.WaitStatus
}

// code is the exit code a process manager reports for ws.
func exitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

func reap(pid int, out chan<- exitInfo) {
	go func() {
		var ws unix.WaitStatus
		for {
			_, err := unix.Wait4(pid, &ws, 0, nil)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				ws = unix.WaitStatus(0xff00) // exit 255: status unknown
			}
			out <- exitInfo{pid, ws}
			return
		}
	}()
}

// waitAnswer is the answer of "runsc-athena wait".
type waitAnswer struct {
	// ok: runsc's Wait answered with the container's exit status (the
	// status itself is the sandbox's, which the keeper reaps).
	ok bool
}

// startWaiter runs "runsc-athena wait ID": it answers with the container's
// exit status when the app exits, and fails when the sandbox is lost.
func (k *keeper) startWaiter(out chan<- waitAnswer) {
	cmd := k.command("recover", "wait", k.id)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	stdout, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		k.logf("starting the waiter: %v", err)
		go func() { out <- waitAnswer{} }()
		return
	}
	go func() {
		var ans struct {
			ExitStatus *int `json:"exitStatus"`
		}
		sc := bufio.NewScanner(stdout)
		got := false
		for sc.Scan() {
			if json.Unmarshal(sc.Bytes(), &ans) == nil && ans.ExitStatus != nil {
				got = true
			}
		}
		err := cmd.Wait()
		if got && err == nil {
			out <- waitAnswer{ok: true}
			return
		}
		out <- waitAnswer{}
	}()
}

// run watches the sandbox until the app exits (and returns the exit code
// the manager must see) or the keeper gives up.
func (k *keeper) run() int {
	for {
		lost, code := k.watch()
		if lost == "" {
			k.setState("exited")
			return code
		}
		if k.stopRequested() {
			k.logf("sandbox ended (%s) after a stop request: not recovered", lost)
			os.Remove(keeperStopPath(k.id))
			k.setState("exited")
			return code
		}
		k.logf("sandbox lost: %s", lost)
		k.record("sandbox-lost", map[string]any{"cause": lost, "sandbox_pid": k.status.SandboxPID})
		if err := k.allowRecovery(time.Now()); err != nil {
			k.fail(err)
			return code
		}
		if err := k.recover(lost); err != nil {
			k.fail(err)
			return code
		}
	}
}

// fail reports that the container cannot be recovered.
func (k *keeper) fail(err error) {
	k.logf("container failed: %v", err)
	k.status.Failure = err.Error()
	k.setState("failed")
	k.record("recovery-failed", map[string]any{"error": err.Error()})
}

func (k *keeper) stopRequested() bool {
	_, err := os.Stat(keeperStopPath(k.id))
	return err == nil
}

// allowRecovery applies the recovery intensity.
func (k *keeper) allowRecovery(now time.Time) error {
	recent := k.recoveries[:0]
	for _, t := range k.recoveries {
		if now.Sub(t) < k.cfg.Window {
			recent = append(recent, t)
		}
	}
	k.recoveries = recent
	if len(recent) >= k.cfg.MaxRecoveries {
		return fmt.Errorf("%d recoveries within %s: giving up (the sandbox dies in a loop)", len(recent), k.cfg.Window)
	}
	k.recoveries = append(k.recoveries, now)
	return nil
}

// watch waits for the current sandbox to end. It returns lost = "" and the
// exit code when the app exited, or the cause of the loss.
func (k *keeper) watch() (lost string, code int) {
	exits := make(chan exitInfo, 2)
	reap(k.status.SandboxPID, exits)
	goferAlive := k.status.GoferPID > 0
	if goferAlive {
		reap(k.status.GoferPID, exits)
	}
	waits := make(chan waitAnswer, 1)
	k.startWaiter(waits)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	nextCheckpoint := time.Now().Add(k.cfg.Every)
	// A checkpoint runs beside the loop (a hung sandbox never answers
	// one, and the watchdog must still see the hang); the loop waits
	// for it before it returns.
	checkpointDone := make(chan struct{}, 1)
	checkpointing := false
	defer func() {
		if checkpointing {
			<-checkpointDone
		}
	}()
	var (
		answer     *waitAnswer
		sandboxEnd *exitInfo
		killedFor  string
		// A waiter that fails with the sandbox alive (not expected) is
		// started again at retryWaiter.
		waiterFailures int
		retryWaiter    time.Time
		// goferExit is a gofer that exited on its own at goferGone,
		// the sandbox still there.
		goferExit *exitInfo
		goferGone time.Time
	)
	for {
		select {
		case a := <-waits:
			answer = &a
			if !a.ok && sandboxEnd == nil && killedFor == "" {
				// The waiter failed with the sandbox still there
				// (not expected): ask again.
				if waiterFailures++; waiterFailures == 1 {
					k.logf("the waiter failed with the sandbox alive; asking again every second")
				}
				answer = nil
				retryWaiter = time.Now().Add(time.Second)
			}
		case e := <-exits:
			switch e.pid {
			case k.status.SandboxPID:
				sandboxEnd = &e
			case k.status.GoferPID:
				goferAlive = false
				if sandboxEnd != nil || answer != nil || killedFor != "" {
					break
				}
				if e.ws.Signaled() {
					killedFor = fmt.Sprintf("gofer (pid %d) died: %s", e.pid, describeWait(e.ws))
					unix.Kill(k.status.SandboxPID, unix.SIGKILL)
					break
				}
				// A gofer that exits on its own may be the first sign
				// of the sandbox's normal end (the app exited): give
				// the sandbox time to follow before calling it a fault.
				goferExit = &e
				goferGone = time.Now()
			}
		case now := <-tick.C:
			if sandboxEnd != nil || killedFor != "" {
				break
			}
			if goferExit != nil && now.Sub(goferGone) > goferGrace {
				killedFor = fmt.Sprintf("gofer (pid %d) %s and the sandbox went on without it", goferExit.pid, describeWait(goferExit.ws))
				unix.Kill(k.status.SandboxPID, unix.SIGKILL)
				break
			}
			if !retryWaiter.IsZero() && !now.Before(retryWaiter) {
				retryWaiter = time.Time{}
				k.startWaiter(waits)
			}
			if hung := k.hung(now); hung != "" {
				killedFor = hung
				unix.Kill(k.status.SandboxPID, unix.SIGKILL)
				break
			}
			if rb := k.rollbackDue(); rb != "" {
				killedFor = rb
				unix.Kill(k.status.SandboxPID, unix.SIGKILL)
				break
			}
			if !checkpointing && !now.Before(nextCheckpoint) {
				checkpointing = true
				go func() {
					k.checkpoint()
					checkpointDone <- struct{}{}
				}()
			}
		case <-checkpointDone:
			checkpointing = false
			nextCheckpoint = time.Now().Add(k.cfg.Every)
		}
		if sandboxEnd == nil {
			continue
		}
		if answer == nil && killedFor == "" && sandboxEnd.ws.Exited() && sandboxEnd.ws.ExitStatus() == goPanicStatus && retryWaiter.IsZero() {
			// Only status 2 needs Wait's word (appExited). The
			// app's exit is answered before the sandbox exits, but
			// the waiter's output may still be on its way.
			select {
			case a := <-waits:
				answer = &a
			case <-time.After(5 * time.Second):
				answer = &waitAnswer{}
			}
		}
		if goferAlive {
			unix.Kill(k.status.GoferPID, unix.SIGKILL)
			<-exits
		}
		if killedFor != "" {
			return killedFor, exitCode(sandboxEnd.ws)
		}
		if appExited(sandboxEnd.ws, answer != nil && answer.ok) {
			// The app ended; if an intrusion ended it (the swarm
			// killed its init), roll back rather than exit.
			if rb := k.rollbackDue(); rb != "" {
				return rb, exitCode(sandboxEnd.ws)
			}
			return "", exitCode(sandboxEnd.ws)
		}
		return fmt.Sprintf("sandbox (pid %d) %s", sandboxEnd.pid, describeWait(sandboxEnd.ws)), exitCode(sandboxEnd.ws)
	}
}

// goferGrace is how long a sandbox may outlive a gofer that exited on its
// own before the keeper calls it a fault.
const goferGrace = 3 * time.Second

// appExited tells the app's exit from the sandbox's loss. runsc's sandbox
// exits with the app's status when the app ends; it dies by a signal when
// it is killed (by the host, by the keeper's watchdog), and a sentry panic
// (gVisor's watchdog included) exits with Go's status 2. So: killed means
// lost; any other status but 2 means the app exited; 2 is the app's exit
// only if runsc's Wait answered for it.
func appExited(ws unix.WaitStatus, waitAnswered bool) bool {
	switch {
	case ws.Signaled():
		return false
	case ws.ExitStatus() == goPanicStatus:
		return waitAnswered
	default:
		return true
	}
}

// goPanicStatus is the exit status of a Go program that panics.
const goPanicStatus = 2

// describeWait says how a process ended.
func describeWait(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + unix.SignalName(ws.Signal())
	}
	return fmt.Sprintf("exited with status %d", ws.ExitStatus())
}

// hung reports a sandbox whose status heartbeat is older than HangAfter
// while its process is not stopped by runsc pause (which stops the app,
// not the heartbeat).
func (k *keeper) hung(now time.Time) string {
	if k.cfg.HangAfter <= 0 {
		return ""
	}
	fi, err := os.Stat(linkFiles(k.id).Status)
	if err != nil {
		return ""
	}
	if age := now.Sub(fi.ModTime()); age > k.cfg.HangAfter {
		return fmt.Sprintf("sandbox (pid %d) hung: no heartbeat for %s", k.status.SandboxPID, age.Round(time.Second))
	}
	return ""
}

// checkpoint takes one checkpoint, leaving the container running, and
// keeps the newest cfg.Keep. A failure (a full disk, say) is logged,
// counted and recorded; the older checkpoints stay.
func (k *keeper) checkpoint() {
	c, err := container.Load(k.root, container.FullID{ContainerID: k.id}, container.LoadOpts{SkipCheck: true})
	if err != nil || c.Status != container.Running {
		return // not started yet, or paused: nothing to do now
	}
	dir := checkpointDir(k.id)
	seq := k.status.LastCheckpointSeq + 1
	if cks, _ := listCheckpoints(dir); len(cks) > 0 && cks[0].Seq >= seq {
		seq = cks[0].Seq + 1
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".tmp-%d", seq))
	os.RemoveAll(tmp)
	start := time.Now()
	// A checkpoint longer than the hang limit will not finish: the
	// watchdog has killed the sandbox by then.
	ctx, cancel := context.WithTimeout(context.Background(), k.cfg.HangAfter+5*time.Second)
	defer cancel()
	cmd := k.command("recover", "checkpoint", "--leave-running", "--image-path="+tmp, k.id)
	cmd = exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...)
	cmd.Env = append(os.Environ(), keeperInnerEnv+"=recover")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	took := time.Since(start)
	var final string
	if err == nil {
		m := checkpointManifest{Container: k.id, Seq: seq, Taken: start.UTC(), Millis: took.Milliseconds()}
		if _, _, digest, derr := readStoredPolicy(k.id); derr == nil {
			m.PolicyDigest = digest
		}
		final, err = sealCheckpoint(tmp, m)
	} else {
		err = fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if err != nil {
		os.RemoveAll(tmp)
		k.status.CheckpointErrors++
		k.status.LastCheckpointError = err.Error()
		k.logf("checkpoint %d failed: %v", seq, err)
		k.record("checkpoint-failed", map[string]any{"seq": seq, "error": err.Error()})
		k.setState("running")
		return
	}
	var size int64
	if m, err := verifyCheckpoint(final, k.id); err == nil {
		for _, f := range m.Files {
			size += f.Size
		}
	}
	k.status.Checkpoints++
	taken := start.UTC()
	k.status.LastCheckpointSeq, k.status.LastCheckpoint = seq, &taken
	k.status.LastCheckpointMilli, k.status.LastCheckpointBytes = took.Milliseconds(), size
	k.status.LastCheckpointError = ""
	pruneCheckpoints(dir, k.cfg.Keep, int(k.pinned.Load()))
	k.record("checkpoint", map[string]any{"seq": seq, "millis": took.Milliseconds(), "bytes": size})
	k.setState("running")
}

// recover restores the container from its newest whole checkpoint into a
// new sandbox under the same ID. Every checkpoint is verified before
// anything is torn down; with none whole, the container fails and nothing
// is half-restored.
func (k *keeper) recover(cause string) error {
	start := time.Now()
	k.setState("recovering")
	cks, err := listCheckpoints(checkpointDir(k.id))
	if err != nil {
		return fmt.Errorf("listing checkpoints: %w", err)
	}
	var from *checkpointInfo
	for i := range cks {
		m, err := verifyCheckpoint(cks[i].Path, k.id)
		if err == nil && !k.rollbackBefore.IsZero() && !m.Taken.Before(k.rollbackBefore) {
			continue // taken after the first anomaly: not a rollback target
		}
		if err != nil {
			k.status.SkippedCorruptions++
			k.logf("skipping checkpoint: %v", err)
			k.record("checkpoint-corrupt", map[string]any{"seq": cks[i].Seq, "error": err.Error()})
			continue
		}
		from = &cks[i]
		break
	}
	if from == nil && !k.rollbackBefore.IsZero() {
		return fmt.Errorf("%s, but no whole checkpoint was taken before the first anomaly (%s): the container cannot be rolled back", cause, k.rollbackBefore.Format(time.RFC3339Nano))
	}
	if from == nil {
		if len(cks) == 0 {
			return fmt.Errorf("sandbox lost (%s) and no checkpoint was taken yet: the container cannot be recovered", cause)
		}
		return fmt.Errorf("sandbox lost (%s) and none of its %d checkpoints is whole: the container cannot be recovered", cause, len(cks))
	}
	// The dead sandbox's state goes; the new one is created from the
	// same bundle, under the host's current policy and long memory, and
	// restored into.
	del := k.command("recover", "delete", "--force", k.id)
	del.Stdin, del.Stdout, del.Stderr = nil, nil, nil
	if out, err := del.CombinedOutput(); err != nil {
		k.logf("delete of the lost sandbox: %v: %s", err, out)
	}
	if code := k.runCreate("recover"); code != 0 {
		return fmt.Errorf("creating the new sandbox failed (exit %d; see %s)", code, keeperLogPath(k.id))
	}
	restore := k.command("recover", "restore", "--detach", "--image-path="+from.Path, "--bundle="+k.bundle, k.id)
	var stderr strings.Builder
	restore.Stdout, restore.Stderr = nil, &stderr
	if err := restore.Run(); err != nil {
		del := k.command("recover", "delete", "--force", k.id)
		del.Stdin, del.Stdout, del.Stderr = nil, nil, nil
		del.Run()
		return fmt.Errorf("restoring checkpoint %d failed: %v: %s", from.Seq, err, strings.TrimSpace(stderr.String()))
	}
	if err := k.readPids(); err != nil {
		return err
	}
	took := time.Since(start)
	k.status.Recoveries++
	at := start.UTC()
	k.status.LastRecovery, k.status.LastRecoveryCause = &at, cause
	k.status.LastRecoveryMilli, k.status.LastRecoveryFrom = took.Milliseconds(), from.Seq
	k.logf("recovered from checkpoint %d in %s (cause: %s)", from.Seq, took, cause)
	what := "recovered"
	if !k.rollbackBefore.IsZero() {
		what = "rolled-back"
		k.rollbackBefore = time.Time{}
		k.pinned.Store(0)
		k.intrusions.skipToEnd()
	}
	k.record(what, map[string]any{"cause": cause, "from": from.Seq, "millis": took.Milliseconds(), "sandbox_pid": k.status.SandboxPID})
	k.setState("running")
	return nil
}

// stopKeeper tells container id's keeper, if any, that the container is
// being deleted: it must not recover a sandbox that ends from now on.
// The checkpoints go.
func stopKeeper(id string) {
	st, err := readKeeperStatus(id)
	if err == nil && st.KeeperPID > 0 && syscall.Kill(st.KeeperPID, 0) == nil {
		// A delete --force of a live container: runsc kills its
		// sandbox, and the keeper must not bring it back. The keeper
		// removes the stop file when it exits.
		os.WriteFile(keeperStopPath(id), nil, 0o600)
	} else {
		os.Remove(keeperStopPath(id))
		if err == nil {
			// The keeper is gone (killed: the manager's last resort
			// when a container does not stop) and so is the
			// container, for the manager. Its sandbox and gofer must
			// go with it, or runsc refuses to delete a running one.
			for _, pid := range []int{st.SandboxPID, st.GoferPID} {
				if pid > 0 && processOf(pid, id) {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
	}
	os.RemoveAll(checkpointDir(id))
	os.Remove(keeperStatusPath(id))
	os.Remove(keeperLogPath(id))
	os.Remove(keeperSandboxPidPath(id))
}

// processOf reports whether pid is a process of container id's sandbox
// (its command line names the container): a PID read from a state file
// may have been reused.
func processOf(pid int, id string) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(cmdline), id)
}

// rollbackDue scans the record for a confirmed intrusion; it pins the
// checkpoint a rollback would restore as soon as an anomaly is seen (so
// that pruning keeps it), and returns the cause of a due rollback ("":
// none).
func (k *keeper) rollbackDue() string {
	w := k.intrusions
	if w == nil {
		return ""
	}
	intrusion := w.scan()
	if !w.firstAnomaly.IsZero() && k.pinned.Load() == 0 {
		cks, _ := listCheckpoints(checkpointDir(k.id))
		for _, c := range cks {
			if m, err := verifyCheckpoint(c.Path, k.id); err == nil && m.Taken.Before(w.firstAnomaly) {
				k.pinned.Store(int64(c.Seq))
				k.logf("anomaly at %s: checkpoint %d is kept for a rollback", w.firstAnomaly.Format(time.RFC3339Nano), c.Seq)
				break
			}
		}
	}
	if !intrusion {
		return ""
	}
	k.rollbackBefore = w.firstAnomaly
	return w.intrusion + "; rolling back to the last checkpoint before the first anomaly"
}
