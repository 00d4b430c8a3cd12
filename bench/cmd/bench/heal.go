package main

// The "heal" group (bench -group heal, make bench-heal): what the healer
// (issue 8) buys and costs, measured against real containers.
//
//  1. Recovery from injected faults under athena: kill-sandbox,
//     kill-gofer and hang-sandbox (the keeper restores the newest
//     checkpoint), crash-process (athena init restarts the main process
//     in the same sandbox) and agent-panic (the swarm's supervisor
//     restarts the agent). The workload is a python3 HTTP service that
//     counts in memory and in a file of the container's root file system;
//     the host polls it every 10 ms and records how long it was gone and
//     which counts were lost.
//  2. Availability of a service that aborts after every N requests:
//     runc, runsc-baseline and athena restarted by Docker
//     (--restart=on-failure:1000) against athena restarting it in the
//     sandbox (athena-heal), one host client sending requests in a row.
//  3. What checkpoints cost: duration and size of one checkpoint (keeper
//     state) for an idle service and for one with touched memory, and the
//     service's latency with and without checkpoints every 2 s.
//
// The group registers its own Docker runtimes (bench-heal-*) with
// runsc-athena docker-install and scripts/dockerd.sh reload, names every
// container bench-heal-*, and removes both at the end, also after a
// failure or an interrupt; an earlier run's leftovers are removed first.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/athenaos/athena/bench/internal/dockerrt"
	"github.com/athenaos/athena/bench/internal/result"
)

var (
	healReps       = flag.Int("heal-reps", 5, "heal group: repetitions of each injected fault (recovery figures are median and max over them)")
	healCrashReps  = flag.Int("heal-crash-reps", 2, "heal group: repetitions of the crash-every-N availability run per variant (interleaved)")
	healCrashN     = flag.Int("heal-crash-n", 50, "heal group: the crashing service aborts after every N requests")
	healCrashDur   = flag.Duration("heal-crash-duration", 20*time.Second, "heal group: how long the host client sends requests to the crashing service, per variant and repetition")
	healLatDur     = flag.Duration("heal-latency-duration", 20*time.Second, "heal group: how long the counter service is polled with and without checkpoints")
	healParts      = flag.String("heal-parts", "recovery,crash,checkpoint", "heal group: which parts to run (comma-separated: recovery, crash, checkpoint)")
	healFaults     = flag.String("heal-faults", strings.Join(healFaultList, ","), "heal group: the faults the recovery part injects")
	healAgent      = flag.String("heal-agent", "selfmodel", "heal group: the swarm agent agent-panic targets")
	healHangAfter  = flag.Duration("heal-hang-after", 10*time.Second, "heal group: --athena-hang-after of the checkpointed runtime (the hang watchdog's limit)")
	healMemMB      = flag.Int("heal-mem-mb", 200, "heal group: MiB of memory the large container touches before its checkpoints are measured")
	healRunscBin   = flag.String("heal-runsc-athena", "/usr/local/bin/runsc-athena", "heal group: the installed runsc-athena (registered as the bench-heal-* runtimes, runs swarm inject/status)")
	healStateDir   = flag.String("heal-state-dir", "/var/tmp/athena-bench-heal", "heal group: where the policy file and the docker-install state files live (fixed, so a later run removes what a killed one left)")
	healPollPeriod = 10 * time.Millisecond
)

// The faults the recovery part knows, in report order.
var healFaultList = []string{"crash-process", "agent-panic", "kill-sandbox", "kill-gofer", "hang-sandbox"}

const (
	healPrefix     = "bench-heal-"
	rtCheckpointed = "bench-heal-ckpt"    // --athena-checkpoint=2s --athena-hang-after=...
	rtRestarting   = "bench-heal-restart" // --athena-policy with heal: restart on-failure
	athenaHeal     = "athena-heal"        // the variant name of rtRestarting in the crash part
	keeperStateDir = "/run/athena/keeper"
	checkpointSecs = 2
	probeTimeout   = 200 * time.Millisecond
	crashTimeout   = 500 * time.Millisecond
)

// healPolicy is the policy of rtRestarting: athena init restarts the main
// process when it fails, quickly, and practically without limit.
const healPolicy = `version: 1
mode: enforce
default: allow
heal:
  restart: on-failure
  backoff: 10ms..1s
  intensity: 1000/60s
`

// counterScript is the recovery and checkpoint workload: a thread counts
// every 10 ms in memory (mem, from 0 in each process) and in a file of the
// container's root file system (/data/count, continued from the file by a
// restarted process: start_file; written to a temporary file and renamed,
// so a reader never sees it half written); GET returns both and the pid.
// When the thread or a request finds more than 100 ms passed since the
// previous tick or request (the process was frozen: a checkpoint's pause,
// or the time from a checkpoint to its restore) it notes both counts as
// they were (gap_mem, gap_file): after a restore, the counts the restored
// checkpoint held. With MB set it
// first holds MB MiB of random bytes (touched, incompressible).
const counterScript = `import http.server, threading, time, os, json
hold = os.urandom(int(os.environ.get('MB', '0')) << 20)
os.makedirs('/data', exist_ok=True)
try:
    fc = int(open('/data/count').read().strip() or 0)
except Exception:
    fc = 0
start_file = fc
mem = 0
gap_mem = gap_file = -1
lock = threading.Lock()
last = time.time()
def check():
    global last, gap_mem, gap_file
    now = time.time()
    if now - last > 0.1:
        gap_mem, gap_file = mem, fc
    last = now
def tick():
    global mem, fc
    while True:
        time.sleep(0.01)
        with lock:
            check()
            mem += 1
            fc += 1
            with open('/data/count.tmp', 'w') as f:
                f.write(str(fc))
            os.replace('/data/count.tmp', '/data/count')
threading.Thread(target=tick, daemon=True).start()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with lock:
            check()
        try:
            disk = int(open('/data/count').read().strip() or -1)
        except Exception:
            disk = -1
        body = json.dumps({"mem": mem, "file": disk, "pid": os.getpid(), "start_file": start_file,
                           "gap_mem": gap_mem, "gap_file": gap_file}).encode()
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(('', 8080), H).serve_forever()
`

// crashScript serves GET / and aborts (SIGABRT) right after answering the
// N-th; /ready answers without counting (the driver's readiness probe).
const crashScript = `import http.server, os
N = int(os.environ['N'])
n = 0
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        global n
        if self.path != '/ready':
            n += 1
        body = b'%d\n' % n
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        if n >= N:
            os.abort()
    def log_message(self, *a):
        pass
http.server.HTTPServer(('', 8080), H).serve_forever()
`

// reply is what the counter service answers.
type reply struct {
	Mem       int64 `json:"mem"`
	File      int64 `json:"file"`
	PID       int   `json:"pid"`
	StartFile int64 `json:"start_file"`
	GapMem    int64 `json:"gap_mem"`
	GapFile   int64 `json:"gap_file"`
}

// resumedFrom is the counts the service went on from after a recovery:
// for a new process (a restart) 0 in memory and the file's count at its
// start; for the same process restored from a checkpoint, the counts at
// its last freeze (the checkpoint's). ok is false when the reply carries
// no freeze.
func resumedFrom(before, after reply) (mem, file int64, ok bool) {
	if after.PID != before.PID {
		return 0, after.StartFile, true
	}
	if after.GapMem < 0 || after.GapFile < 0 {
		return 0, 0, false
	}
	return after.GapMem, after.GapFile, true
}

// keeperState is the part of the keeper's state file the group reads.
type keeperState struct {
	State               string     `json:"state"`
	SandboxPID          int        `json:"sandbox_pid"`
	Checkpoints         uint64     `json:"checkpoints"`
	LastCheckpointSeq   int        `json:"last_checkpoint_seq"`
	LastCheckpoint      *time.Time `json:"last_checkpoint"`
	LastCheckpointMilli int64      `json:"last_checkpoint_ms"`
	LastCheckpointBytes int64      `json:"last_checkpoint_bytes"`
	Recoveries          uint64     `json:"recoveries"`
	LastRecoveryCause   string     `json:"last_recovery_cause"`
	LastRecoveryMilli   int64      `json:"last_recovery_ms"`
	Failure             string     `json:"failure"`
}

func parseKeeperState(data []byte) (*keeperState, error) {
	var st keeperState
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("keeper state: %w", err)
	}
	return &st, nil
}

// agentState is one agent as swarm status --json shows it.
type agentState struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Restarts uint64 `json:"restarts"`
	Panics   uint64 `json:"panics"`
}

// parseAgentStatus finds agent name in swarm status --json output; it
// also returns the time the sandbox wrote that status.
func parseAgentStatus(data []byte, name string) (agentState, time.Time, error) {
	var st struct {
		Updated time.Time `json:"updated"`
		Swarm   struct {
			Agents []agentState `json:"agents"`
		} `json:"swarm"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return agentState{}, time.Time{}, fmt.Errorf("swarm status: %w", err)
	}
	for _, a := range st.Swarm.Agents {
		if a.Name == name {
			return a, st.Updated, nil
		}
	}
	return agentState{}, st.Updated, fmt.Errorf("swarm status lists no agent %q", name)
}

// percentile of sorted-or-not values by the nearest-rank method (p in
// 0..100); NaN for none.
func percentile(vs []float64, p float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	k := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[min(max(k, 0), len(s)-1)]
}

// lost is how many increments a recovery lost: the count seen last before
// the fault minus the first one after (0 when the count went on).
func lost(before, after int64) int64 {
	return max(before-after, 0)
}

// attempt is one request of the availability client.
type attempt struct {
	start time.Time
	dur   time.Duration
	ok    bool
}

// availability summarises a run of attempts over window: the share of
// attempts that succeeded, the share of the window not spent in outages
// (an outage runs from the start of a failed attempt that follows a
// success, or the window's start, to the start of the next successful
// one, or the window's end), successes per second and the latency of the
// successes.
type availStats struct {
	Attempts, OK        int
	ReqAvail, TimeAvail float64
	OKPerSec            float64
	P50, P99            float64 // ms, successes only
	Down                time.Duration
	Outages             int
}

// MeanOutage is the mean length of an outage in ms (NaN without one).
func (st availStats) MeanOutage() float64 {
	if st.Outages == 0 {
		return math.NaN()
	}
	return float64(st.Down) / float64(time.Millisecond) / float64(st.Outages)
}

func availability(as []attempt, start time.Time, window time.Duration) availStats {
	var st availStats
	st.Attempts = len(as)
	var lat []float64
	var downSince time.Time
	for _, a := range as {
		if a.ok {
			st.OK++
			lat = append(lat, float64(a.dur)/float64(time.Millisecond))
			if !downSince.IsZero() {
				st.Down += a.start.Sub(downSince)
				downSince = time.Time{}
			}
		} else if downSince.IsZero() {
			downSince = a.start
			st.Outages++
		}
	}
	end := start.Add(window)
	if !downSince.IsZero() && end.After(downSince) {
		st.Down += end.Sub(downSince)
	}
	if st.Attempts > 0 {
		st.ReqAvail = float64(st.OK) / float64(st.Attempts)
	}
	if window > 0 {
		st.TimeAvail = 1 - float64(st.Down)/float64(window)
		st.OKPerSec = float64(st.OK) / window.Seconds()
	}
	st.P50, st.P99 = percentile(lat, 50), percentile(lat, 99)
	return st
}

// healer owns what one heal run registers and starts.
type healer struct {
	bin        string // runsc-athena
	root       string // repository root (scripts/dockerd.sh)
	dir        string // state dir: policy, docker-install state files
	regs       map[string]string
	containers map[string]string // name -> full ID
	lastLogs   string            // the failed container's log tail
	leaks      []string
	run        *result.Run
	// bench holds the metrics while they are measured (pointers stay
	// valid as metrics are added); run.Benchmarks gets them at the end.
	bench  []*result.Benchmark
	client *http.Client
}

// runHeal runs the heal group and writes bench/results/<date>-heal.json
// and .md; it prints the tables.
func runHeal(ctx context.Context, commandStr, resultsDir, goTool string, timeout time.Duration) error {
	if timeout == 0 {
		timeout = 30 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	parts := map[string]bool{}
	for _, p := range strings.Split(*healParts, ",") {
		switch p = strings.TrimSpace(p); p {
		case "recovery", "crash", "checkpoint":
			parts[p] = true
		case "":
		default:
			return fmt.Errorf("-heal-parts: unknown part %q", p)
		}
	}
	var faults []string
	for _, f := range strings.Split(*healFaults, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		known := false
		for _, k := range healFaultList {
			known = known || k == f
		}
		if !known {
			return fmt.Errorf("-heal-faults: unknown fault %q (want some of %s)", f, strings.Join(healFaultList, ","))
		}
		faults = append(faults, f)
	}
	if *healReps < 1 || *healCrashReps < 1 || *healCrashN < 1 {
		return errors.New("-heal-reps, -heal-crash-reps and -heal-crash-n must be at least 1")
	}
	if commandStr == "" {
		commandStr = strings.Join(os.Args, " ")
	}
	h := &healer{
		bin: *healRunscBin, root: root, dir: *healStateDir,
		regs: map[string]string{}, containers: map[string]string{},
		client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true, Proxy: nil}},
	}
	if err := h.preflight(ctx); err != nil {
		return err
	}
	h.run = &result.Run{
		Date:     time.Now().UTC().Format(time.RFC3339),
		Command:  commandStr,
		Mode:     "heal",
		Reps:     *healReps,
		Runtimes: []string{result.Runc, result.Baseline, result.Athena, athenaHeal},
		Machine:  describeMachine(ctx, goTool),
		Notes:    healNotes(),
	}
	t0 := time.Now()
	runErr := h.measure(ctx, parts, faults)
	h.cleanup()
	for _, l := range h.leaks {
		h.run.Notes = append(h.run.Notes, "Cleanup problem: "+l)
	}
	for _, b := range h.bench {
		h.run.Benchmarks = append(h.run.Benchmarks, *b)
	}
	h.run.Duration = time.Since(t0).Seconds()
	h.run.Machine.LoadAfter = loadavg()
	suffix := ""
	if runErr != nil {
		suffix = "-partial"
	}
	jsonPath, mdPath, err := saveHeal(h.run, resultsDir, suffix)
	if err != nil {
		return errors.Join(runErr, err)
	}
	md, _ := os.ReadFile(mdPath)
	fmt.Print(string(md))
	log.Printf("results in %s and %s (%s)", jsonPath, mdPath, time.Since(t0).Round(time.Second))
	return runErr
}

func (h *healer) measure(ctx context.Context, parts map[string]bool, faults []string) error {
	rts := map[string][]string{}
	needCkpt := parts["checkpoint"]
	needRestart := parts["crash"]
	for _, f := range faults {
		switch {
		case !parts["recovery"]:
		case f == "crash-process":
			needRestart = true
		case f != "agent-panic":
			needCkpt = true
		}
	}
	if needCkpt {
		rts[rtCheckpointed] = []string{fmt.Sprintf("--athena-checkpoint=%ds", checkpointSecs), "--athena-hang-after=" + healHangAfter.String()}
	}
	if needRestart {
		policy := filepath.Join(h.dir, "policy.yaml")
		if err := os.WriteFile(policy, []byte(healPolicy), 0o644); err != nil {
			return err
		}
		rts[rtRestarting] = []string{"--athena-policy=" + policy}
	}
	if err := h.register(ctx, rts); err != nil {
		return err
	}
	if parts["recovery"] {
		for _, f := range faults {
			if err := h.recovery(ctx, f); err != nil {
				return err
			}
		}
	}
	if parts["crash"] {
		if err := h.crashEveryN(ctx); err != nil {
			return err
		}
	}
	if parts["checkpoint"] {
		if err := h.checkpointCost(ctx); err != nil {
			return err
		}
	}
	return nil
}

// ---- registration, containers, cleanup ----

func (h *healer) preflight(ctx context.Context) error {
	if st, err := os.Stat(h.bin); err != nil || st.Mode()&0o111 == 0 {
		return fmt.Errorf("%s missing or not executable (make install)", h.bin)
	}
	if _, err := os.Stat(filepath.Join(h.root, "scripts", "dockerd.sh")); err != nil {
		return fmt.Errorf("run from the repository root: %v", err)
	}
	out, err := docker(ctx, 30*time.Second, "info", "--format", "{{json .Runtimes}}")
	if err != nil {
		return err
	}
	for _, rt := range []string{result.Runc, result.Baseline, result.Athena} {
		if !strings.Contains(string(out), `"`+rt+`"`) {
			return fmt.Errorf("docker has no runtime %q (make install install-baseline)", rt)
		}
	}
	if _, err := docker(ctx, 30*time.Second, "image", "inspect", debianImage); err != nil {
		return fmt.Errorf("image %s missing (make images-debian): %v", debianImage, err)
	}
	if err := os.MkdirAll(h.dir, 0o755); err != nil {
		return err
	}
	h.removeStale(ctx)
	return nil
}

// removeStale removes the containers and runtimes a killed earlier run
// left: containers named bench-heal-*, runtimes whose docker-install state
// file is in the state dir.
func (h *healer) removeStale(ctx context.Context) {
	if out, err := docker(ctx, 30*time.Second, "ps", "-a", "--no-trunc", "--filter", "name=^/?"+healPrefix, "--format", "{{.Names}} {{.ID}}"); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if f := strings.Fields(line); len(f) == 2 && strings.HasPrefix(f[0], healPrefix) {
				log.Printf("heal: removing container %s left by an earlier run", f[0])
				h.containers[f[0]] = f[1]
				h.remove(ctx, f[0])
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(h.dir, healPrefix+"*.json"))
	for _, f := range files {
		h.regs[strings.TrimSuffix(filepath.Base(f), ".json")] = f
	}
	if len(h.regs) > 0 {
		log.Printf("heal: removing runtimes left by an earlier run")
		h.unregister(ctx)
	}
}

func (h *healer) register(ctx context.Context, rts map[string][]string) error {
	if len(rts) == 0 {
		return nil
	}
	var names []string
	for name, args := range rts {
		state := filepath.Join(h.dir, name+".json")
		h.regs[name] = state
		if err := h.installer().Register(ctx, name, state, args); err != nil {
			return err
		}
		names = append(names, name)
		log.Printf("heal: runtime %s: %s", name, strings.Join(args, " "))
	}
	return h.installer().Reload(ctx, names, true)
}

func (h *healer) unregister(ctx context.Context) {
	var names []string
	for name, state := range h.regs {
		if err := h.installer().Unregister(ctx, name, state); err != nil {
			log.Printf("heal: cleanup: %v", err)
			continue
		}
		names = append(names, name)
		delete(h.regs, name)
	}
	if len(names) > 0 {
		if err := h.installer().Reload(ctx, names, false); err != nil {
			log.Printf("heal: cleanup: %v", err)
		}
	}
}

// installer registers runtimes running the installed runsc-athena.
func (h *healer) installer() dockerrt.Installer {
	return dockerrt.Installer{Run: command, Bin: h.bin, Root: h.root}
}

// cleanup removes every container, then every runtime, of this run, with
// a fresh context so that it runs after an interrupt or timeout too.
func (h *healer) cleanup() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for n := range h.containers {
		h.remove(ctx, n)
	}
	h.unregister(ctx)
	os.Remove(filepath.Join(h.dir, "policy.yaml"))
}

// start runs a detached container named name and returns its full ID.
func (h *healer) start(ctx context.Context, name, rt string, args ...string) (string, error) {
	removeContainer(ctx, name)
	h.containers[name] = ""
	a := append([]string{"run", "-d", "--name", name, "--runtime=" + rt, "--label", "dev.athena.bench=heal"}, args...)
	out, err := docker(ctx, 2*time.Minute, a...)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(out))
	h.containers[name] = id
	return id, nil
}

// runscRoot is the runtime state root Docker's containerd gives its
// runtimes (the sandboxes' --root), for runsc-athena delete --force.
const runscRoot = "/var/run/docker/runtime-runc/moby"

// remove force-removes a container and checks that none of its runtime
// processes outlive it. docker rm -f can fail for a container whose
// keeper has exited ("PID ... is zombie and can not be killed"), and the
// sandbox can survive the container: then the removal is retried and the
// leftovers are deleted with runsc-athena delete --force; the report
// lists every such case.
func (h *healer) remove(ctx context.Context, name string) {
	ctx = context.WithoutCancel(ctx)
	id := h.containers[name]
	var lastErr error
	for try := 0; try < 4; try++ {
		_, err := docker(ctx, 60*time.Second, "rm", "-f", name)
		if err == nil || strings.Contains(err.Error(), "No such container") {
			lastErr = nil
			break
		}
		lastErr = err
		_ = sleepCtx(ctx, time.Second)
	}
	if lastErr != nil {
		h.leak(fmt.Sprintf("docker rm -f %s failed 4 times: %v", name, lastErr))
	}
	if id != "" {
		pids := runtimeProcs(id)
		for wait := 0; wait < 30 && len(pids) > 0; wait++ { // 3 s to exit on their own
			_ = sleepCtx(ctx, 100*time.Millisecond)
			pids = runtimeProcs(id)
		}
		if len(pids) > 0 {
			_, err := command(ctx, time.Minute, h.bin, "--root="+runscRoot, "delete", "--force", id)
			res := "exit 0"
			if err != nil {
				res = err.Error()
				if i := strings.Index(res, ": exit status"); i >= 0 {
					res = res[i+2:] // the command line is known; keep the status and message
				}
			}
			left := runtimeProcs(id)
			h.leak(fmt.Sprintf("container %s (%s): runtime processes (pids %v: sandbox, gofer, runsc-athena) still ran 3 s after docker rm -f returned; then runsc-athena delete --force: %s; processes of it left after that: %v",
				name, id[:min(12, len(id))], pids, res, left))
		}
	}
	delete(h.containers, name)
}

// leak records a cleanup problem for the report.
func (h *healer) leak(msg string) {
	log.Printf("heal: cleanup: %s", msg)
	h.leaks = append(h.leaks, msg)
}

// runtimeProcs lists the host processes of container id's runtime
// (sandbox, gofer, keeper: their command line names the container ID),
// not containerd's shim.
func runtimeProcs(id string) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !strings.Contains(string(data), id) {
			continue
		}
		if args := strings.Split(string(data), "\x00"); strings.Contains(args[0], "containerd-shim") {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

func containerIP(ctx context.Context, id string) (string, error) {
	out, err := docker(ctx, 30*time.Second, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", id)
	if err != nil {
		return "", err
	}
	for _, f := range strings.Fields(string(out)) {
		if ip := net.ParseIP(f); ip != nil && ip.IsPrivate() {
			return f, nil
		}
	}
	return "", fmt.Errorf("container %s has no private IP address (%q)", id, out)
}

// freePort picks a free loopback port for -p 127.0.0.1:PORT:8080; a fixed
// host port stays the same across Docker's restarts of the container.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func readKeeper(id string) (*keeperState, error) {
	data, err := os.ReadFile(filepath.Join(keeperStateDir, id+".json"))
	if err != nil {
		return nil, err
	}
	return parseKeeperState(data)
}

// get asks the counter service once.
func (h *healer) get(ctx context.Context, url string, timeout time.Duration) (reply, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return reply{}, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return reply{}, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	var r reply
	if err := json.Unmarshal(body, &r); err != nil {
		return reply{}, fmt.Errorf("counter reply %q: %w", body, err)
	}
	return r, nil
}

// waitUp polls url until the service answers or the deadline passes.
func (h *healer) waitUp(ctx context.Context, url string, within time.Duration) (reply, error) {
	deadline := time.Now().Add(within)
	for {
		r, err := h.get(ctx, url, time.Second)
		if err == nil {
			return r, nil
		}
		if time.Now().After(deadline) {
			return reply{}, fmt.Errorf("%s not answering after %v: %v", url, within, err)
		}
		if err := sleepCtx(ctx, 50*time.Millisecond); err != nil {
			return reply{}, err
		}
	}
}

// ---- results ----

func (h *healer) metric(group, name, unit string, higher, info bool, desc string) *result.Benchmark {
	if b := h.find(name); b != nil {
		return b
	}
	b := &result.Benchmark{Group: group, Name: name, Unit: unit, HigherIsBetter: higher, Info: info, Desc: desc}
	h.bench = append(h.bench, b)
	return b
}

func (h *healer) find(name string) *result.Benchmark {
	for _, b := range h.bench {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// ---- part 1: recovery ----

const recGroup = "heal: recovery from injected faults (athena)"

func faultKey(f string) string { return strings.ReplaceAll(f, "-", "_") }

// recovery runs one fault -heal-reps times and records its figures.
func (h *healer) recovery(ctx context.Context, fault string) error {
	k := faultKey(fault)
	var how string
	switch fault {
	case "kill-sandbox", "kill-gofer", "hang-sandbox":
		how = fmt.Sprintf("runtime %s (--athena-checkpoint=%ds --athena-hang-after=%s): the keeper restores the newest checkpoint", rtCheckpointed, checkpointSecs, *healHangAfter)
	case "crash-process":
		how = "runtime " + rtRestarting + " (policy heal: restart on-failure, backoff 10ms..1s, intensity 1000/60s): athena init restarts the main process in the same sandbox"
	case "agent-panic":
		how = "runtime athena: the swarm's supervisor restarts agent " + *healAgent
	}
	var mRec *result.Benchmark
	if fault == "agent-panic" {
		mRec = h.metric(recGroup, "heal_"+k+"_ms", "ms", false, false,
			fmt.Sprintf("`swarm inject ID agent-panic %s` (%s); from the inject command's return until `runsc-athena swarm status --json ID` (polled back to back, each call ~100-200 ms) shows the agent running with its restart count one higher.", *healAgent, how))
	} else {
		mRec = h.metric(recGroup, "heal_"+k+"_ms", "ms", false, false,
			fmt.Sprintf("`swarm inject ID %s` (%s); from the inject command's return until the counter service first answers from the recovered sandbox/process (host polls the container's IP every 10 ms, 200 ms timeout).", fault, how))
	}
	for rep := 1; rep <= *healReps; rep++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		switch fault {
		case "agent-panic":
			err = h.agentPanic(ctx, rep)
		default:
			err = h.faultOnce(ctx, fault, rep)
		}
		if h.lastLogs != "" {
			err = fmt.Errorf("%w (container log: %s)", err, h.lastLogs)
			h.lastLogs = ""
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			mRec.Fail(result.Athena, err)
			log.Printf("heal: %s rep %d/%d FAILED: %v", fault, rep, *healReps, err)
		}
	}
	return nil
}

// faultOnce: a fresh counter container, a fault, the wait for its return.
func (h *healer) faultOnce(ctx context.Context, fault string, rep int) (err error) {
	k := faultKey(fault)
	ckpt := fault != "crash-process"
	rt := rtCheckpointed
	if !ckpt {
		rt = rtRestarting
	}
	name := healPrefix + "rec-" + fault
	id, err := h.start(ctx, name, rt, debianImage, "python3", "-c", counterScript)
	if err != nil {
		return err
	}
	defer h.remove(ctx, name)
	defer func() {
		if err != nil {
			out, _ := command(context.WithoutCancel(ctx), 30*time.Second, "sh", "-c", "docker logs --tail 5 "+id+" 2>&1")
			h.lastLogs = strings.Join(strings.Fields(string(out)), " ")
		}
	}()
	ip, err := containerIP(ctx, id)
	if err != nil {
		return err
	}
	url := "http://" + net.JoinHostPort(ip, "8080") + "/"
	if _, err = h.waitUp(ctx, url, 60*time.Second); err != nil {
		return err
	}
	var pre reply        // read before the last checkpoint before the fault began
	var ks0 *keeperState // keeper state at the fault
	if ckpt {
		// C0, then a read of the service, then two more checkpoints: the
		// second of them began after that read, so a restore from it (or
		// anything newer) must not go below it.
		var c0 uint64
		if err := h.until(ctx, 30*time.Second, "a first checkpoint", func() (bool, error) {
			st, err := readKeeper(id)
			if err != nil || st.Checkpoints == 0 {
				return false, nil
			}
			c0 = st.Checkpoints
			return true, nil
		}); err != nil {
			return err
		}
		if pre, err = h.get(ctx, url, time.Second); err != nil {
			return err
		}
		if err := h.until(ctx, 30*time.Second, "two more checkpoints", func() (bool, error) {
			st, err := readKeeper(id)
			if err != nil {
				return false, nil
			}
			if st.failed() {
				return false, fmt.Errorf("keeper state: %s", st.Failure)
			}
			ks0 = st
			return st.Checkpoints >= c0+2, nil
		}); err != nil {
			return err
		}
	} else {
		// Let the process run a moment, so its memory count is worth losing.
		if err := sleepCtx(ctx, time.Second); err != nil {
			return err
		}
	}
	// The count just before the fault. A new container's address can
	// stall for a moment right after an earlier one's was released (seen
	// after hang-sandbox), so a few tries.
	var before reply
	for try := 0; ; try++ {
		if before, err = h.get(ctx, url, time.Second); err == nil {
			break
		}
		if try == 4 || ctx.Err() != nil {
			return fmt.Errorf("reading the count before the fault: %w", err)
		}
		_ = sleepCtx(ctx, 500*time.Millisecond)
	}
	if _, err := command(ctx, 30*time.Second, h.bin, "swarm", "inject", id, fault); err != nil {
		return err
	}
	tInject := time.Now()
	var ckptAge time.Duration
	if ckpt && ks0 != nil && ks0.LastCheckpoint != nil {
		ckptAge = tInject.Sub(*ks0.LastCheckpoint)
	}
	// Poll until an answer comes from the recovered sandbox or process:
	// a new pid (restart), a count below the last one seen (a restore
	// rolled it back), or the keeper has counted the recovery. Answers
	// before that (kill-gofer: the old sandbox serves until the keeper
	// ends it) only move "last seen".
	last := before
	deadline := tInject.Add(90*time.Second + *healHangAfter)
	failed := 0
	var after reply
	var tUp time.Time
	for {
		t := time.Now()
		if t.After(deadline) {
			return fmt.Errorf("no answer from the recovered container %v after the fault (%d polls failed)", deadline.Sub(tInject).Round(time.Second), failed)
		}
		r, err := h.get(ctx, url, probeTimeout)
		if err == nil {
			recovered := r.PID != before.PID || r.Mem < last.Mem
			if !recovered && ckpt {
				if st, err := readKeeper(id); err == nil && ks0 != nil && st.Recoveries > ks0.Recoveries {
					recovered = true
				}
			}
			if recovered {
				after, tUp = r, time.Now()
				break
			}
			last = r
		} else {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed++
		}
		if err := sleepCtx(ctx, time.Until(t.Add(healPollPeriod))); err != nil {
			return err
		}
	}
	recMs := float64(tUp.Sub(tInject)) / float64(time.Millisecond)
	resMem, resFile, ok := resumedFrom(before, after)
	if !ok {
		return fmt.Errorf("the recovered service reports no freeze (reply %+v)", after)
	}
	rt0 := result.Athena
	h.find("heal_"+k+"_ms").Add(rt0, recMs)
	h.metric(recGroup, "heal_"+k+"_mem_lost", "increments", false, false,
		"memory counter (one increment per ~10 ms): last value read before the service went away minus the value the recovered service went on from (a restarted process: 0; a restored sandbox: the count at the checkpoint's freeze, which the counter thread notes when it sees time jump by more than 100 ms).").Add(rt0, float64(lost(last.Mem, resMem)))
	h.metric(recGroup, "heal_"+k+"_file_lost", "increments", false, false,
		"the same for the counter in /data/count in the container's root file system (a restarted process goes on from the file's count at its start).").Add(rt0, float64(lost(last.File, resFile)))
	h.metric(recGroup, "heal_"+k+"_failed_polls", "polls", false, true,
		"polls (10 ms apart, 200 ms timeout) that failed between the inject and the first answer from the recovered container.").Add(rt0, float64(failed))
	msg := fmt.Sprintf("heal: %s rep %d/%d: back after %.0f ms (%d failed polls); mem %d -> resumed from %d (first reply %d), file %d -> resumed from %d (first reply %d)",
		fault, rep, *healReps, recMs, failed, last.Mem, resMem, after.Mem, last.File, resFile, after.File)
	if ckpt {
		// The service answers before the keeper has written down the
		// recovery; wait for its figures.
		var st *keeperState
		if err := h.until(ctx, 20*time.Second, "the keeper to record the recovery", func() (bool, error) {
			s, err := readKeeper(id)
			if err != nil {
				return false, nil
			}
			st = s
			return s.Recoveries > ks0.Recoveries && s.State == "running", nil
		}); err != nil {
			return err
		}
		h.metric(recGroup, "heal_"+k+"_keeper_ms", "ms", false, false,
			"the keeper's own figure for the recovery (keeper state last_recovery_ms: from its noticing the loss to the restored sandbox running).").Add(rt0, float64(st.LastRecoveryMilli))
		h.metric(recGroup, "heal_"+k+"_ckpt_age_ms", "ms", false, true,
			"age of the newest checkpoint when the inject command returned (keeper state last_checkpoint): the work a restore from it loses, at ~100 increments/s.").Add(rt0, float64(ckptAge)/float64(time.Millisecond))
		good := 0.0
		if resMem >= pre.Mem && resFile >= pre.File {
			good = 1
		}
		h.metric(recGroup, "heal_"+k+"_restored_ge_pre", "ok", true, true,
			"1 if the counts the restored service went on from were at least those read before the newest checkpoint began (memory and file), else 0.").Add(rt0, good)
		msg += fmt.Sprintf("; keeper %d ms, cause %q; checkpoint age at fault %v; restored >= pre-checkpoint read (mem %d, file %d): %v",
			st.LastRecoveryMilli, st.LastRecoveryCause, ckptAge.Round(time.Millisecond), pre.Mem, pre.File, good == 1)
	} else {
		msg += fmt.Sprintf("; pid %d -> %d", before.PID, after.PID)
	}
	log.Print(msg)
	return nil
}

// failed reports a keeper that has given up.
func (st *keeperState) failed() bool { return st.State == "failed" }

// until calls f every 100 ms until it says done, fails, or within passes.
func (h *healer) until(ctx context.Context, within time.Duration, what string, f func() (bool, error)) error {
	deadline := time.Now().Add(within)
	for {
		done, err := f()
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", within, what)
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

func (h *healer) agentStatus(ctx context.Context, id string) (agentState, time.Time, error) {
	out, err := command(ctx, 20*time.Second, h.bin, "swarm", "status", "--json", id)
	if err != nil {
		return agentState{}, time.Time{}, err
	}
	return parseAgentStatus(out, *healAgent)
}

// agentPanic: a fresh counter container under athena per repetition; the
// service is polled meanwhile, to see whether the app noticed.
func (h *healer) agentPanic(ctx context.Context, rep int) error {
	name := healPrefix + "rec-agent-panic"
	id, err := h.start(ctx, name, result.Athena, debianImage, "python3", "-c", counterScript)
	if err != nil {
		return err
	}
	defer h.remove(ctx, name)
	ip, err := containerIP(ctx, id)
	if err != nil {
		return err
	}
	url := "http://" + net.JoinHostPort(ip, "8080") + "/"
	if _, err := h.waitUp(ctx, url, 60*time.Second); err != nil {
		return err
	}
	var a0 agentState
	if err := h.until(ctx, 30*time.Second, "agent "+*healAgent+" running in swarm status", func() (bool, error) {
		a, _, err := h.agentStatus(ctx, id)
		if err != nil {
			return false, nil
		}
		a0 = a
		return a.State == "running", nil
	}); err != nil {
		return err
	}
	// The service, polled while the agent is down and back.
	pollCtx, stopPoll := context.WithCancel(ctx)
	type pollResult struct{ ok, failed int }
	done := make(chan pollResult, 1)
	go func() {
		var pr pollResult
		for pollCtx.Err() == nil {
			t := time.Now()
			if _, err := h.get(pollCtx, url, probeTimeout); err == nil {
				pr.ok++
			} else if pollCtx.Err() == nil {
				pr.failed++
			}
			_ = sleepCtx(pollCtx, time.Until(t.Add(healPollPeriod)))
		}
		done <- pr
	}()
	var pr pollResult
	stopped := false
	stop := func() {
		if !stopped {
			stopPoll()
			pr, stopped = <-done, true
		}
	}
	defer stop()
	if _, err := command(ctx, 30*time.Second, h.bin, "swarm", "inject", id, "agent-panic", *healAgent); err != nil {
		return err
	}
	tInject := time.Now()
	var tSeen, tWritten time.Time
	var a1 agentState
	if err := h.until(ctx, 30*time.Second, "agent "+*healAgent+" restarted", func() (bool, error) {
		a, upd, err := h.agentStatus(ctx, id)
		if err != nil {
			return false, nil
		}
		if a.State == "running" && a.Restarts > a0.Restarts {
			a1, tSeen, tWritten = a, time.Now(), upd
			return true, nil
		}
		return false, nil
	}); err != nil {
		return err
	}
	// Keep polling the service a second past the restart.
	if err := sleepCtx(ctx, time.Second); err != nil {
		return err
	}
	stop()
	ms := float64(tSeen.Sub(tInject)) / float64(time.Millisecond)
	h.find("heal_agent_panic_ms").Add(result.Athena, ms)
	written := float64(tWritten.Sub(tInject)) / float64(time.Millisecond)
	h.metric(recGroup, "heal_agent_panic_status_written_ms", "ms", false, false,
		"as above, to the `updated` time of the status file (written by the sandbox) that first showed the restart: closer to the restart itself, still an upper bound.").Add(result.Athena, written)
	h.metric(recGroup, "heal_agent_panic_failed_polls", "polls", false, true,
		"counter-service polls (10 ms apart, 200 ms timeout) that failed from the inject until 1 s after the restart was seen: whether the app noticed the agent's panic.").Add(result.Athena, float64(pr.failed))
	log.Printf("heal: agent-panic rep %d/%d: %s restarts %d -> %d (panics %d), seen after %.0f ms, status written %.0f ms after the inject; service polls ok %d, failed %d",
		rep, *healReps, *healAgent, a0.Restarts, a1.Restarts, a1.Panics, ms, written, pr.ok, pr.failed)
	return nil
}

// ---- part 2: crash every N requests ----

const crashGroup = "heal: availability of a service that aborts every N requests"

type crashVariant struct {
	name    string // column
	runtime string
	docker  bool // Docker's restart policy restarts it (else athena init)
}

func (h *healer) crashEveryN(ctx context.Context) error {
	vs := []crashVariant{
		{result.Runc, result.Runc, true},
		{result.Baseline, result.Baseline, true},
		{result.Athena, result.Athena, true},
		{athenaHeal, rtRestarting, false},
	}
	n, d := *healCrashN, *healCrashDur
	base := fmt.Sprintf("python3 http.server (%s) that calls os.abort() right after answering every %d-th request (the count is in memory, so each process life serves %d); `sh -c 'python3 -c SCRIPT; exit $?'` so a non-init process aborts in every variant, `--ulimit core=0`. runc, runsc-baseline, athena: `docker run --restart=on-failure:1000` (Docker restarts the container, with its backoff); athena-heal: runtime %s (policy heal: restart on-failure, backoff 10ms..1s, intensity 1000/60s; no Docker restart policy: athena init restarts it in the sandbox). One host client sends GET requests one at a time for %v to the port published on 127.0.0.1 (fixed host port, the same across Docker's restarts), %v timeout, each starting 10 ms after the previous one started (or when it ended, if later): ~100 requests/s offered, so each process life lasts about N/100 s.",
		"athena-test/debian", n, n, rtRestarting, d, crashTimeout)
	mAvail := h.metric(crashGroup, "crash_availability_req", "%", true, false, base+" Successful requests / attempted requests.")
	mTime := h.metric(crashGroup, "crash_availability_time", "%", true, false, "as above, the share of the window not spent in an outage (an outage runs from the first failed request after a success to the next success).")
	mRate := h.metric(crashGroup, "crash_ok_per_s", "req/s", true, false, "as above, successful requests per second of the window.")
	mP50 := h.metric(crashGroup, "crash_p50_ms", "ms", false, false, "as above, median latency of the successful requests.")
	mP99 := h.metric(crashGroup, "crash_p99_ms", "ms", false, false, "as above, 99th-percentile latency of the successful requests.")
	mOut := h.metric(crashGroup, "crash_outage_ms", "ms", false, false, "as above, mean length of an outage (the time from a crash to the service answering again, as the client sees it at its 10 ms spacing).")
	mRestarts := h.metric(crashGroup, "crash_restarts", "restarts", true, true, "as above, restarts during the run: Docker's RestartCount (docker restart policy), or athena init's `restart N` lines in docker logs (athena-heal), from the start of the container to the end of the window.")
	for rep := 1; rep <= *healCrashReps; rep++ {
		for _, v := range vs {
			if err := ctx.Err(); err != nil {
				return err
			}
			st, restarts, err := h.crashOnce(ctx, v, n, d)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				for _, m := range []*result.Benchmark{mAvail, mTime, mRate, mP50, mP99, mOut, mRestarts} {
					m.Fail(v.name, err)
				}
				log.Printf("heal: crash-every-%d %s rep %d FAILED: %v", n, v.name, rep, err)
				continue
			}
			mAvail.Add(v.name, st.ReqAvail*100)
			mTime.Add(v.name, st.TimeAvail*100)
			mRate.Add(v.name, st.OKPerSec)
			mP50.Add(v.name, st.P50)
			mP99.Add(v.name, st.P99)
			if st.Outages > 0 {
				mOut.Add(v.name, st.MeanOutage())
			}
			mRestarts.Add(v.name, float64(restarts))
			log.Printf("heal: crash-every-%d %-15s rep %d/%d: %d/%d ok (%.1f%%), up %.1f%% of %v, %.1f ok/s, p50 %.2f ms, p99 %.2f ms, %d outages of %.0f ms on average, %d restarts",
				n, v.name, rep, *healCrashReps, st.OK, st.Attempts, st.ReqAvail*100, st.TimeAvail*100, d, st.OKPerSec, st.P50, st.P99, st.Outages, st.MeanOutage(), restarts)
		}
	}
	return nil
}

func (h *healer) crashOnce(ctx context.Context, v crashVariant, n int, d time.Duration) (availStats, int, error) {
	port, err := freePort()
	if err != nil {
		return availStats{}, 0, err
	}
	name := healPrefix + "crash-" + v.name
	args := []string{"--ulimit", "core=0", "-p", fmt.Sprintf("127.0.0.1:%d:8080", port), "-e", "N=" + strconv.Itoa(n)}
	if v.docker {
		args = append(args, "--restart=on-failure:1000")
	}
	args = append(args, debianImage, "sh", "-c", `python3 -c "$1"; exit $?`, "crash", crashScript)
	id, err := h.start(ctx, name, v.runtime, args...)
	if err != nil {
		return availStats{}, 0, err
	}
	defer h.remove(ctx, name)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := h.until(ctx, 60*time.Second, "the crashing service to answer", func() (bool, error) {
		resp, err := h.plainGet(ctx, base+"/ready", time.Second)
		return err == nil && resp, nil
	}); err != nil {
		return availStats{}, 0, err
	}
	var as []attempt
	start := time.Now()
	end := start.Add(d)
	for time.Now().Before(end) {
		t := time.Now()
		ok, err := h.plainGet(ctx, base+"/", crashTimeout)
		if ctx.Err() != nil {
			return availStats{}, 0, ctx.Err()
		}
		as = append(as, attempt{start: t, dur: time.Since(t), ok: ok && err == nil})
		if err := sleepCtx(ctx, time.Until(t.Add(healPollPeriod))); err != nil {
			return availStats{}, 0, err
		}
	}
	st := availability(as, start, d)
	restarts := 0
	if v.docker {
		out, err := docker(ctx, 30*time.Second, "inspect", "-f", "{{.RestartCount}}", id)
		if err != nil {
			return st, 0, err
		}
		restarts, _ = strconv.Atoi(strings.TrimSpace(string(out)))
	} else {
		out, err := command(ctx, 30*time.Second, "sh", "-c", "docker logs "+id+" 2>&1")
		if err != nil {
			return st, 0, err
		}
		restarts = countInitRestarts(string(out))
	}
	return st, restarts, nil
}

// countInitRestarts counts athena init's "...; restart N in D" lines.
func countInitRestarts(logs string) int {
	c := 0
	for _, line := range strings.Split(logs, "\n") {
		if strings.HasPrefix(line, "athena-init: ") && strings.Contains(line, "; restart ") {
			c++
		}
	}
	return c
}

// plainGet sends one GET and reports whether it got a 200 with a body.
func (h *healer) plainGet(ctx context.Context, url string, timeout time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return false, err
	}
	return resp.StatusCode == http.StatusOK && len(body) > 0, nil
}

// ---- part 3: checkpoint cost ----

const ckptGroup = "heal: checkpoint cost"

func (h *healer) checkpointCost(ctx context.Context) error {
	d := *healLatDur
	p50 := h.metric(ckptGroup, "ckpt_latency_p50_ms", "ms", false, false,
		fmt.Sprintf("counter service polled from the host (container IP) every 10 ms for %v, 500 ms timeout: median latency; column athena = runtime athena (no checkpoints), column athena-heal = runtime %s (a checkpoint every %d s, --leave-running) with the same workload; one run each, without checkpoints first.", d, rtCheckpointed, checkpointSecs))
	p99 := h.metric(ckptGroup, "ckpt_latency_p99_ms", "ms", false, false, "as above, 99th percentile.")
	pmax := h.metric(ckptGroup, "ckpt_latency_max_ms", "ms", false, false, "as above, the slowest request (a request that timed out counts as 500 ms).")
	mDur := h.metric(ckptGroup, "ckpt_idle_ms", "ms", false, false,
		fmt.Sprintf("one checkpoint of the idle counter container (keeper state last_checkpoint_ms, every checkpoint the keeper took during the %v latency run under %s).", d, rtCheckpointed))
	mSize := h.metric(ckptGroup, "ckpt_idle_mib", "MiB", false, false, "its size (keeper state last_checkpoint_bytes).")
	for _, v := range []struct {
		col, rt string
	}{{result.Athena, result.Athena}, {athenaHeal, rtCheckpointed}} {
		name := healPrefix + "ckpt-" + v.col
		durs, sizes, st, err := h.latencyRun(ctx, name, v.rt, d, v.rt == rtCheckpointed)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			for _, m := range []*result.Benchmark{p50, p99, pmax} {
				m.Fail(v.col, err)
			}
			log.Printf("heal: latency under %s FAILED: %v", v.rt, err)
			continue
		}
		p50.Add(v.col, st.P50)
		p99.Add(v.col, st.P99)
		pmax.Add(v.col, st.max)
		for i := range durs {
			mDur.Add(result.Athena, durs[i])
			mSize.Add(result.Athena, sizes[i])
		}
		log.Printf("heal: latency under %s: %d requests, %d failed, p50 %.2f ms, p99 %.2f ms, max %.1f ms; checkpoints %v ms, %v MiB",
			v.rt, st.n, st.failed, st.P50, st.P99, st.max, durs, sizes)
	}
	// The large container: touched memory, checkpoints until -heal-reps.
	mb := *healMemMB
	mDurL := h.metric(ckptGroup, fmt.Sprintf("ckpt_%dmib_ms", mb), "ms", false, false,
		fmt.Sprintf("one checkpoint of the counter container holding %d MiB of random bytes (os.urandom: touched and incompressible), under %s; the first %d checkpoints after the service answers.", mb, rtCheckpointed, *healReps))
	mSizeL := h.metric(ckptGroup, fmt.Sprintf("ckpt_%dmib_mib", mb), "MiB", false, false, "its size (keeper state last_checkpoint_bytes).")
	name := healPrefix + "ckpt-big"
	durs, sizes, err := h.checkpointsOf(ctx, name, mb, *healReps)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		mDurL.Fail(result.Athena, err)
		mSizeL.Fail(result.Athena, err)
		log.Printf("heal: checkpoints of the %d MiB container FAILED: %v", mb, err)
		return nil
	}
	for i := range durs {
		mDurL.Add(result.Athena, durs[i])
		mSizeL.Add(result.Athena, sizes[i])
	}
	log.Printf("heal: checkpoints of the %d MiB container: %v ms, %v MiB", mb, durs, sizes)
	return nil
}

type latStats struct {
	n, failed     int
	P50, P99, max float64
}

// ckptWatch records each new checkpoint of container id (duration in ms,
// size in MiB) by polling its keeper state every 50 ms until ctx ends.
func ckptWatch(ctx context.Context, id string) func() ([]float64, []float64) {
	type rec struct{ ms, mib float64 }
	ch := make(chan []rec, 1)
	go func() {
		var out []rec
		seq := -1 // the checkpoint that exists at the start is not counted
		if st, err := readKeeper(id); err == nil {
			seq = st.LastCheckpointSeq
		}
		for ctx.Err() == nil {
			if st, err := readKeeper(id); err == nil && st.LastCheckpointSeq != seq && st.Checkpoints > 0 {
				out = append(out, rec{float64(st.LastCheckpointMilli), float64(st.LastCheckpointBytes) / (1 << 20)})
				seq = st.LastCheckpointSeq
			}
			_ = sleepCtx(ctx, 50*time.Millisecond)
		}
		ch <- out
	}()
	return func() ([]float64, []float64) {
		rs := <-ch
		var ms, mib []float64
		for _, r := range rs {
			ms = append(ms, r.ms)
			mib = append(mib, r.mib)
		}
		return ms, mib
	}
}

// latencyRun starts a counter container and polls it for d; with watch it
// also records the checkpoints the keeper takes meanwhile.
func (h *healer) latencyRun(ctx context.Context, name, rt string, d time.Duration, watch bool) ([]float64, []float64, latStats, error) {
	var st latStats
	id, err := h.start(ctx, name, rt, debianImage, "python3", "-c", counterScript)
	if err != nil {
		return nil, nil, st, err
	}
	defer h.remove(ctx, name)
	ip, err := containerIP(ctx, id)
	if err != nil {
		return nil, nil, st, err
	}
	url := "http://" + net.JoinHostPort(ip, "8080") + "/"
	if _, err := h.waitUp(ctx, url, 60*time.Second); err != nil {
		return nil, nil, st, err
	}
	if watch {
		// Start measuring once the first checkpoint exists, so the run
		// covers checkpoints in steady state.
		if err := h.until(ctx, 30*time.Second, "a first checkpoint", func() (bool, error) {
			s, err := readKeeper(id)
			return err == nil && s.Checkpoints > 0, nil
		}); err != nil {
			return nil, nil, st, err
		}
	} else if err := sleepCtx(ctx, time.Second); err != nil {
		return nil, nil, st, err
	}
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	var collect func() ([]float64, []float64)
	if watch {
		collect = ckptWatch(wctx, id)
	}
	var lat []float64
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		t := time.Now()
		_, err := h.get(ctx, url, crashTimeout)
		if ctx.Err() != nil {
			return nil, nil, st, ctx.Err()
		}
		dt := float64(time.Since(t)) / float64(time.Millisecond)
		if err != nil {
			st.failed++
			dt = float64(crashTimeout) / float64(time.Millisecond)
		}
		lat = append(lat, dt)
		if err := sleepCtx(ctx, time.Until(t.Add(healPollPeriod))); err != nil {
			return nil, nil, st, err
		}
	}
	stopWatch()
	var ms, mib []float64
	if collect != nil {
		ms, mib = collect()
	}
	st.n = len(lat)
	st.P50, st.P99, st.max = percentile(lat, 50), percentile(lat, 99), percentile(lat, 100)
	return ms, mib, st, nil
}

// checkpointsOf starts the counter holding mb MiB under rtCheckpointed
// and records its first n checkpoints after the service answers.
func (h *healer) checkpointsOf(ctx context.Context, name string, mb, n int) ([]float64, []float64, error) {
	id, err := h.start(ctx, name, rtCheckpointed, "-e", fmt.Sprintf("MB=%d", mb), debianImage, "python3", "-c", counterScript)
	if err != nil {
		return nil, nil, err
	}
	defer h.remove(ctx, name)
	ip, err := containerIP(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	url := "http://" + net.JoinHostPort(ip, "8080") + "/"
	if _, err := h.waitUp(ctx, url, 120*time.Second); err != nil {
		return nil, nil, err
	}
	var ms, mib []float64
	seq := -1
	if st, err := readKeeper(id); err == nil && st.Checkpoints > 0 {
		seq = st.LastCheckpointSeq // taken before the memory was all there, perhaps
	}
	within := time.Duration(n)*(checkpointSecs*time.Second+30*time.Second) + 30*time.Second
	err = h.until(ctx, within, fmt.Sprintf("%d checkpoints", n), func() (bool, error) {
		st, err := readKeeper(id)
		if err != nil {
			return false, nil
		}
		if st.failed() {
			return false, fmt.Errorf("keeper failed: %s", st.Failure)
		}
		if st.Checkpoints > 0 && st.LastCheckpointSeq != seq {
			seq = st.LastCheckpointSeq
			ms = append(ms, float64(st.LastCheckpointMilli))
			mib = append(mib, float64(st.LastCheckpointBytes)/(1<<20))
		}
		return len(ms) >= n, nil
	})
	return ms, mib, err
}

// ---- report ----

func healNotes() []string {
	return []string{
		"Recovery: each repetition of a fault starts a fresh counter container (athena-test/debian, python3 http.server; a thread adds 1 to a memory counter and to a counter in /data/count in the container's root file system every 10 ms, ~80-100 increments/s under gVisor) and removes it afterwards. The host polls the container's bridge IP every 10 ms with a 200 ms timeout and a new connection each time. The recovery time runs from the return of `runsc-athena swarm inject` to the first answer from the recovered sandbox or process: one with a new pid (restart), a count below the last one seen (a restore rolled back), or, for checkpoint recovery, once the keeper state counts the recovery.",
		fmt.Sprintf("Checkpoint recovery (kill-sandbox, kill-gofer, hang-sandbox) runs under a runtime with --athena-checkpoint=%ds --athena-hang-after=%s. Before the fault the driver reads the keeper's checkpoint count C, reads the service, and waits until the count is C+2, so the newest checkpoint began after that read, then injects at once: a restore from it must give counts at least that read (restored ≥ pre-checkpoint). Lost increments are the last count seen before the outage minus the first one after: the work since the checkpoint the restore used, plus whatever ran between the checkpoint and the fault.", checkpointSecs, *healHangAfter),
		fmt.Sprintf("hang-sandbox sends SIGSTOP to the sandbox: nothing dies, so the keeper notices only when the sandbox's heartbeat (written every 5 s) is older than --athena-hang-after=%s; that detection delay (%s to %s + 5 s after the last heartbeat) dominates its recovery time, the restore itself is the keeper's figure.", *healHangAfter, *healHangAfter, *healHangAfter),
		"crash-process sends SIGSEGV to the main process under the restarting runtime; athena init restarts it in the same sandbox (same IP, same files), so the memory count starts again from 0 (all lost) while the file count continues from /data/count.",
		fmt.Sprintf("agent-panic makes agent %s panic at its next step; its time is to the first `swarm status --json` that shows it running with one more restart. Each status call is a process start plus a read of the status file the sandbox rewrites, so the figure is an upper bound with a resolution of one call (~0.1-0.3 s here).", *healAgent),
		"Crash every N: the four variants run one after the other per repetition (runc, runsc-baseline, athena, athena-heal), each in a fresh container with a fixed loopback host port (through docker-proxy, the same for all). Docker's restart policy waits 100 ms before the first restart and doubles the wait after each restart of a container that ran under 10 s, so the Docker-restarted variants spend most of the window waiting; athena-heal's backoff (10ms..1s) resets after a run at least as long as its maximum (1 s). The client spaces its requests 10 ms apart (start to start) whether they succeed or fail, so request-based and time-based availability agree unless requests hang until the 500 ms timeout.",
		"Checkpoint cost: the keeper's own figures (last_checkpoint_ms, last_checkpoint_bytes of its state file, sampled every 50-100 ms so every checkpoint is seen), for checkpoints taken --leave-running every 2 s. The latency runs use runtime athena (no checkpoints) and the checkpointed runtime, one run each, same workload.",
		"The machine is shared (2 CPUs; another engineer's integration tests may run at the same time): look at the load averages and the spread before reading much into small differences.",
	}
}

// saveHeal writes <dir>/<date>-heal<suffix>.json and .md.
func saveHeal(run *result.Run, dir, suffix string) (string, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	t, err := time.Parse(time.RFC3339, run.Date)
	if err != nil {
		return "", "", err
	}
	stem := filepath.Join(dir, t.Format("2006-01-02T150405Z")+"-"+run.Mode+suffix)
	if err := run.Save(stem + ".json"); err != nil {
		return "", "", err
	}
	var b strings.Builder
	healMarkdown(&b, run)
	if err := os.WriteFile(stem+".md", []byte(b.String()), 0o644); err != nil {
		return "", "", err
	}
	return stem + ".json", stem + ".md", nil
}

func fmtNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// cell is "median (min–max)" of one runtime's samples, "failed" when there
// are only failures, "–" when nothing ran.
func cell(b *result.Benchmark, rt string) string {
	if b == nil {
		return "–"
	}
	s := b.Stat(rt)
	if s.N == 0 {
		if len(b.Errors[rt]) > 0 {
			return "failed"
		}
		return "–"
	}
	c := fmtNum(s.Median)
	if s.N > 1 {
		c += " (" + fmtNum(s.Min) + "–" + fmtNum(s.Max) + ")"
	}
	if e := len(b.Errors[rt]); e > 0 {
		c += fmt.Sprintf(" [%d failed]", e)
	}
	return c
}

func healMarkdown(w io.Writer, run *result.Run) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	get := func(name string) *result.Benchmark {
		for i := range run.Benchmarks {
			if run.Benchmarks[i].Name == name {
				return &run.Benchmarks[i]
			}
		}
		return nil
	}
	m := run.Machine
	p("# Healer benchmarks (group heal)\n\n")
	p("- **Date:** %s\n- **Command:** `%s`\n- **Duration:** %.1f min\n", run.Date, run.Command, run.Duration/60)
	p("- **Machine:** %s, %d CPU(s), %s memory, kernel %s\n", m.CPU, m.NProc, m.MemTotal, m.Kernel)
	p("- **Software:** Docker %s, gVisor `%s`, %s\n", m.Docker, m.GVisor, m.Go)
	p("- **Load average** (1, 5, 15 min) before: %s; after: %s\n", m.LoadBefore, m.LoadAfter)
	p("- **Docker runtimes at the start:** `%s`; the run adds %s and %s (removed at the end)\n\n", m.Runtimes, rtCheckpointed, rtRestarting)
	p("Cells are median (min–max) over the repetitions; n is the number of good samples.\n\n")

	p("## 1. Recovery from injected faults (athena)\n\n")
	p("| fault | recovered by | recovery ms: median | max | n | keeper's restore ms | newest checkpoint's age at fault, ms | memory count lost | file count lost | restored ≥ pre-checkpoint read | failed polls |\n")
	p("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	by := map[string]string{
		"kill-sandbox": "keeper: restore newest checkpoint", "kill-gofer": "keeper: restore newest checkpoint",
		"hang-sandbox": "keeper watchdog (hang-after), restore", "crash-process": "athena init: restart in sandbox",
		"agent-panic": "swarm supervisor",
	}
	for _, f := range healFaultList {
		k := faultKey(f)
		rec := get("heal_" + k + "_ms")
		if rec == nil {
			continue
		}
		s := rec.Stat(result.Athena)
		okCol := "–"
		if b := get("heal_" + k + "_restored_ge_pre"); b != nil {
			sum := 0.0
			for _, v := range b.Samples[result.Athena] {
				sum += v
			}
			okCol = fmt.Sprintf("%d/%d", int(sum), len(b.Samples[result.Athena]))
		}
		mx := "–"
		if s.N > 0 {
			mx = fmtNum(s.Max)
		}
		med := fmtNum(s.Median)
		if e := len(rec.Errors[result.Athena]); e > 0 {
			med += fmt.Sprintf(" [%d failed]", e)
		}
		name := "`" + f + "`"
		if f == "agent-panic" {
			name = "`agent-panic` (" + agentOf(rec.Desc) + ")"
		}
		p("| %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s |\n", name, by[f], med, mx, s.N,
			cell(get("heal_"+k+"_keeper_ms"), result.Athena), cell(get("heal_"+k+"_ckpt_age_ms"), result.Athena),
			cell(get("heal_"+k+"_mem_lost"), result.Athena), cell(get("heal_"+k+"_file_lost"), result.Athena), okCol,
			cell(get("heal_"+k+"_failed_polls"), result.Athena))
	}
	if b := get("heal_agent_panic_status_written_ms"); b != nil {
		p("\nagent-panic, to the `updated` time of the first status showing the restart: %s ms (negative: the sandbox had written that status before the inject command returned).\n", cell(b, result.Athena))
	}
	p("\nLost counts are in increments of the 10 ms counter thread (≈ 80–100 per second under gVisor). For crash-process the memory count restarts from 0 by design (a new process), the file count continues.\n\n")

	if get("crash_availability_req") != nil {
		vs := []string{result.Runc, result.Baseline, result.Athena, athenaHeal}
		p("## 2. A service that aborts after every N requests\n\n")
		if b := get("crash_availability_req"); b != nil {
			p("%s\n\n", b.Desc)
		}
		p("| metric | %s | ratio to runc: %s |\n", strings.Join(vs, " | "), strings.Join(vs[1:], " | "))
		p("|---|%s%s\n", strings.Repeat("---:|", len(vs)), strings.Repeat("---:|", len(vs)-1))
		for _, n := range []string{"crash_availability_req", "crash_availability_time", "crash_ok_per_s", "crash_p50_ms", "crash_p99_ms", "crash_outage_ms", "crash_restarts"} {
			b := get(n)
			if b == nil {
				continue
			}
			arrow := "↓"
			if b.HigherIsBetter {
				arrow = "↑"
			}
			if b.Info {
				arrow = "·"
			}
			var cells, ratios []string
			for _, v := range vs {
				cells = append(cells, cell(b, v))
			}
			r := b.Stat(result.Runc)
			for _, v := range vs[1:] {
				s := b.Stat(v)
				if r.N == 0 || s.N == 0 || r.Median == 0 {
					ratios = append(ratios, "n/a")
					continue
				}
				ratios = append(ratios, fmtNum(s.Median/r.Median))
			}
			p("| `%s` %s %s | %s | %s |\n", n, b.Unit, arrow, strings.Join(cells, " | "), strings.Join(ratios, " | "))
		}
		p("\n")
	}

	if get("ckpt_latency_p50_ms") != nil || get("ckpt_idle_ms") != nil {
		p("## 3. Checkpoint cost\n\n")
		p("| container | one checkpoint, ms | size, MiB | n |\n|---|---:|---:|---:|\n")
		for _, b := range run.Benchmarks {
			if b.Group != ckptGroup || !strings.HasSuffix(b.Name, "_ms") || strings.HasPrefix(b.Name, "ckpt_latency") {
				continue
			}
			size := get(strings.TrimSuffix(b.Name, "_ms") + "_mib")
			what := "idle counter service"
			if b.Name != "ckpt_idle_ms" {
				what = strings.TrimSuffix(strings.TrimPrefix(b.Name, "ckpt_"), "mib_ms") + " MiB touched (random) + counter service"
			}
			p("| %s | %s | %s | %d |\n", what, cell(&b, result.Athena), cell(size, result.Athena), b.Stat(result.Athena).N)
		}
		p("\nCounter-service latency from the host (one request every 10 ms):\n\n")
		p("| | without checkpoints (runtime athena) | with a checkpoint every %d s (%s) | ratio |\n|---|---:|---:|---:|\n", checkpointSecs, rtCheckpointed)
		for _, n := range []string{"ckpt_latency_p50_ms", "ckpt_latency_p99_ms", "ckpt_latency_max_ms"} {
			b := get(n)
			if b == nil {
				continue
			}
			a, c := b.Stat(result.Athena), b.Stat(athenaHeal)
			ratio := "n/a"
			if a.N > 0 && c.N > 0 && a.Median > 0 {
				ratio = fmtNum(c.Median / a.Median)
			}
			p("| `%s` | %s | %s | %s |\n", n, cell(b, result.Athena), cell(b, athenaHeal), ratio)
		}
		p("\n")
	}

	var fails []string
	for _, b := range run.Benchmarks {
		for rt, errs := range b.Errors {
			for _, e := range errs {
				fails = append(fails, fmt.Sprintf("- `%s` on %s: %s", b.Name, rt, e))
			}
		}
	}
	if len(fails) > 0 {
		sort.Strings(fails)
		p("## Failed samples\n\n%s\n\n", strings.Join(fails, "\n"))
	}
	p("## What each figure measures\n\n")
	for _, b := range run.Benchmarks {
		p("- `%s` (%s): %s\n", b.Name, b.Unit, b.Desc)
	}
	p("\n## Method\n\n")
	var cleanup []string
	for _, n := range run.Notes {
		if c, ok := strings.CutPrefix(n, "Cleanup problem: "); ok {
			cleanup = append(cleanup, c)
			continue
		}
		p("- %s\n", n)
	}
	if len(cleanup) > 0 {
		p("\n## Cleanup problems\n\nWhat `docker rm -f` left behind, and what the driver did about it:\n\n")
		for _, c := range cleanup {
			p("- %s\n", c)
		}
	}
}

// agentOf pulls the agent's name out of the agent-panic description.
func agentOf(desc string) string {
	const key = "agent-panic "
	i := strings.Index(desc, key)
	if i < 0 {
		return "agent"
	}
	f := strings.Fields(desc[i+len(key):])
	if len(f) == 0 {
		return "agent"
	}
	return strings.Trim(f[0], "`()")
}
