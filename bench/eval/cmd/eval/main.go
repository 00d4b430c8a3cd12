package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// harness holds one evaluation run.
type harness struct {
	root     string // repository root
	bin      string // runsc-athena
	image    string
	work     string // -work
	stateDir string // docker-install state files; survives runs
	runDir   string // this run's files
	logDir   string
	profDir  string

	memoryDB    string // --athena-memory-db of every runtime; "" for the host's
	stableAfter uint64 // added to the profiles' swarm section; 0: not
	learnRuns   int
	enforceRuns int
	requests    int
	warmup      int
	redisN      int
	confPasses  int

	gw   string
	sink *sink
	conf *confRun
	gstd *gostdRun

	containers map[string]bool // names of containers this run made
	runtimes   []runtimeReg
	res        *Result
}

var allFamilies = []string{"web", "redis", "build", "conformance", "gostd"}

// defaultFamilies leave out gostd: Go's standard-library tests take some
// five minutes more.
var defaultFamilies = []string{"web", "redis", "build", "conformance"}

func main() {
	log.SetFlags(log.Ltime)
	log.SetPrefix("eval: ")
	os.Exit(run())
}

func run() int {
	var (
		render      = flag.String("render", "", "only render docs from this results file (no measuring)")
		work        = flag.String("work", "/var/tmp/athena-eval", "work directory: event records, profiles, logs (its run/ is replaced each run)")
		bin         = flag.String("bin", "/usr/local/bin/runsc-athena", "the runsc-athena binary the Docker runtimes run")
		image       = flag.String("image", "athena-test/eval", "the evaluation image (make images-eval)")
		learnRuns   = flag.Int("learn-runs", 3, "learn-mode runs per workload")
		enforceRuns = flag.Int("enforce-runs", 2, "enforce-mode runs per benign workload")
		requests    = flag.Int("requests", 300, "HTTP requests per web run")
		warmup      = flag.Int("warmup", 50, "benign HTTP requests before each attack's trigger")
		redisN      = flag.Int("redis-n", 5000, "redis-benchmark requests per test")
		confPasses  = flag.Int("conformance-learn", 2, "learn passes of the conformance suite")
		families    = flag.String("families", strings.Join(defaultFamilies, ","), "families to run, of "+strings.Join(allFamilies, ","))
		attacks     = flag.String("attacks", strings.Join(attackNames(), ","), "attacks to run (web family)")
		control     = flag.Bool("control", true, "also run each attack under plain athena (built-in default policy), to show it works unhindered")
		memoryDB    = flag.String("memory-db", "run", `athena's long memory for the runtimes: "run" (a database of this run's own, WORK/run/memory.db: learning starts from nothing), "host" (the host's, /var/lib/athena/memory.db: earlier runs count) or a path`)
		stableAfter = flag.Uint64("stable-after", 0, "if not 0, add swarm.selfmodel.stable_after: N to every learned profile (the sense of self enforces once its model has gone N training windows without change)")
		results     = flag.String("results", "bench/results", "directory for the results JSON")
		doc         = flag.String("doc", "docs/eval.md", "the Markdown report to write")
		command     = flag.String("command", "go run ./bench/eval/cmd/eval", "the command line to name in the report")
	)
	flag.Parse()
	if flag.NArg() != 0 {
		log.Printf("unexpected arguments %q", flag.Args())
		return 2
	}
	if *render != "" {
		r, err := loadResult(*render)
		if err == nil {
			err = writeReport(r, *doc)
		}
		if err != nil {
			log.Print(err)
			return 1
		}
		log.Printf("wrote %s", *doc)
		return 0
	}

	start := time.Now().UTC()
	stamp := start.Format("2006-01-02T150405Z")
	root, err := findRoot()
	if err != nil {
		log.Print(err)
		return 1
	}
	h := &harness{
		root: root, bin: *bin, image: *image, work: *work,
		learnRuns: *learnRuns, enforceRuns: *enforceRuns, requests: *requests, warmup: *warmup, redisN: *redisN, confPasses: *confPasses,
		containers: map[string]bool{},
	}
	h.stableAfter = *stableAfter
	switch *memoryDB {
	case "host":
	case "run":
		h.memoryDB = filepath.Join(*work, "run", "memory.db")
	default:
		h.memoryDB = *memoryDB
	}
	fams, err := pickList(*families, allFamilies, "family")
	if err != nil {
		log.Print(err)
		return 2
	}
	atks, err := pickList(*attacks, attackNames(), "attack")
	if err != nil {
		log.Print(err)
		return 2
	}
	if !contains(fams, "web") {
		atks = nil
	}
	h.res = &Result{
		Schema: Schema, Date: start.Format(time.RFC3339), Command: *command, Args: os.Args[1:],
		Settings: Settings{Image: *image, Binary: *bin, LearnRuns: *learnRuns, EnforceRuns: *enforceRuns, Requests: *requests,
			Warmup: *warmup, RedisN: *redisN, MemoryDB: h.memoryDB, StableAfter: h.stableAfter, Families: fams, AttackNames: atks, Control: *control && len(atks) > 0, WorkDir: *work},
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = h.evaluate(ctx, fams, atks, *control && len(atks) > 0)
	// Cleanup runs on its own context: an interrupt must not stop it.
	h.cleanup(context.Background())
	h.res.Seconds = time.Since(start).Seconds()
	h.res.Machine.LoadAfter = loadavg()
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			err = errors.New("interrupted (what the run made in Docker is removed)")
		}
		h.res.Error = err.Error()
		path := filepath.Join(h.work, "eval-"+stamp+"-failed.json")
		if _, serr := h.res.save(h.work, stamp+"-failed"); serr == nil {
			log.Printf("partial results in %s", path)
		}
		log.Printf("FAILED: %v", err)
		return 1
	}
	h.res.Complete = true
	path, err := h.res.save(inRoot(root, *results), stamp)
	if err != nil {
		log.Print(err)
		return 1
	}
	if err := writeReport(h.res, inRoot(root, *doc)); err != nil {
		log.Print(err)
		return 1
	}
	log.Printf("results in %s, report in %s (%.1f min)", path, *doc, h.res.Seconds/60)
	return 0
}

// evaluate runs every step; the first error that makes the evaluation
// meaningless ends it.
func (h *harness) evaluate(ctx context.Context, fams, atks []string, control bool) error {
	if err := h.preflight(ctx, fams); err != nil {
		return err
	}
	h.unregisterStale(ctx)
	h.removeStaleContainers(ctx)

	// Learn runtimes (and the control runtime) in one reload.
	rts := map[string][]string{}
	for _, f := range fams {
		dir := h.eventsDir(f)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		rts[learnRuntime(f)] = append([]string{"--athena-events-dir=" + dir, "--athena-mode=learn"}, h.memoryArgs()...)
	}
	if control || contains(fams, confFamily) || contains(fams, gostdFamily) {
		dir := h.eventsDir("plain")
		os.MkdirAll(dir, 0o755)
		// Its own long memory: the control runs' attacks work, and must
		// not teach the web workload's model.
		rts[plainRuntime] = []string{"--athena-events-dir=" + dir}
		if h.memoryDB != "" {
			rts[plainRuntime] = append(rts[plainRuntime], "--athena-memory-db="+filepath.Join(h.runDir, "memory-plain.db"))
		}
	}
	log.Printf("registering runtimes %v", keysOf(rts))
	if err := h.registerRuntimes(ctx, rts); err != nil {
		return err
	}
	if contains(fams, "web") {
		gw, err := bridgeGateway(ctx)
		if err != nil {
			return err
		}
		h.gw = gw
		if h.sink, err = newSink(gw); err != nil {
			return err
		}
	}

	// 1. Learn.
	var ws []workload
	for _, f := range fams {
		switch f {
		case "web":
			ws = append(ws, &webWorkload{h: h})
		case "redis":
			ws = append(ws, &redisWorkload{h: h})
		case "build":
			ws = append(ws, &buildWorkload{h: h})
		}
	}
	for _, w := range ws {
		fam, err := h.learn(ctx, w)
		if err != nil {
			return err
		}
		h.res.Families = append(h.res.Families, *fam)
	}
	if contains(fams, "conformance") {
		h.conf = &confRun{h: h}
		if err := h.conf.learn(ctx); err != nil {
			return err
		}
		h.res.Conformance = &Conformance{}
	}
	if contains(fams, gostdFamily) {
		h.gstd = &gostdRun{h: h}
		if err := h.gstd.learn(ctx); err != nil {
			return err
		}
		h.res.GoStd = &GoStd{}
	}

	h.snapshotMemory(ctx, "learn")

	// 2. Enforce runtimes, one per family, in one reload.
	rts = map[string][]string{}
	for _, f := range fams {
		rts[enforceRuntime(f)] = append([]string{"--athena-events-dir=" + h.eventsDir(f), "--athena-policy=" + h.profilePath(f)}, h.memoryArgs()...)
	}
	log.Printf("registering runtimes %v", keysOf(rts))
	if err := h.registerRuntimes(ctx, rts); err != nil {
		return err
	}

	// 3. Benign runs under enforcement.
	for _, w := range ws {
		for i := 1; i <= h.enforceRuns; i++ {
			b, err := h.benign(ctx, w, i)
			if err != nil {
				return err
			}
			h.res.Benign = append(h.res.Benign, *b)
		}
	}
	h.snapshotMemory(ctx, "benign")
	if err := h.saveMemory(); err != nil {
		return err
	}

	// 4. Attacks.
	for _, a := range atks {
		at, err := h.attack(ctx, a, control)
		if err != nil {
			return err
		}
		h.res.Attacks = append(h.res.Attacks, *at)
	}

	// 5. Conformance under enforcement.
	if h.conf != nil {
		c, err := h.conf.enforce(ctx)
		if err != nil {
			return err
		}
		c.Memory = h.res.Conformance.Memory
		h.res.Conformance = c
	}
	if h.gstd != nil {
		g, err := h.gstd.enforce(ctx)
		if err != nil {
			return err
		}
		g.Memory = h.res.GoStd.Memory
		h.res.GoStd = g
	}
	h.snapshotMemory(ctx, "conformance")
	return ctx.Err()
}

// snapshotMemory records athena's long memory of the workloads: of
// every family after learning (stage "learn"), of the benign families
// after their enforce runs ("benign"), of the conformance programs after
// their enforce pass ("conformance"). Failing to read it is reported, not
// fatal: the figures are extra.
func (h *harness) snapshotMemory(ctx context.Context, stage string) {
	ws, err := h.memorySnapshot(ctx)
	if err != nil {
		log.Printf("long memory: %v", err)
		return
	}
	if stage != "conformance" {
		for i := range h.res.Families {
			f := &h.res.Families[i]
			m := memoryOf(ws, f.Name)
			if stage == "learn" {
				f.Memory = m
			} else {
				f.MemoryEnd = m
			}
			for _, x := range m {
				log.Printf("long memory after %s: %s: %d runs, %d windows, %d pairs, quiet for %d windows", stage, f.Name, x.Runs, x.Windows, x.Pairs, x.Quiet)
			}
		}
	}
	if c := h.res.Conformance; c != nil && stage != "benign" {
		if stage == "learn" {
			c.Memory = memoryOf(ws, confFamily)
		} else {
			c.MemoryEnd = memoryOf(ws, confFamily)
		}
	}
	if g := h.res.GoStd; g != nil && stage != "benign" {
		if stage == "learn" {
			g.Memory = memoryOf(ws, gostdFamily)
		} else {
			g.MemoryEnd = memoryOf(ws, gostdFamily)
		}
	}
}

// saveMemory keeps a copy of the run's long-memory database as it is
// after the benign runs; restoreMemory puts it back before each attack,
// so that every attack meets the same model (an enforce run whose model
// is not stable goes on learning, and athena merges what it learned,
// the attack included, at delete). Nothing of this run's is running
// while either copies: athena opens the database only at create and
// delete. With the host's database (-memory-db=host) both do nothing.
func (h *harness) saveMemory() error {
	if h.memoryDB == "" {
		return nil
	}
	data, err := os.ReadFile(h.memoryDB)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return os.WriteFile(h.memoryDB+".benign", data, 0o600)
}

func (h *harness) restoreMemory() error {
	if h.memoryDB == "" {
		return nil
	}
	data, err := os.ReadFile(h.memoryDB + ".benign")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return os.WriteFile(h.memoryDB, data, 0o600)
}

// preflight checks everything the run needs before it changes anything.
func (h *harness) preflight(ctx context.Context, fams []string) error {
	if os.Geteuid() != 0 {
		return errors.New("must run as root (Docker, daemon.json)")
	}
	if r, err := docker(ctx, 30*time.Second, "info", "--format", "{{.ServerVersion}}"); err != nil || r.code != 0 {
		return fmt.Errorf("docker does not answer (scripts/dockerd.sh ensure): %v %s", err, r.stderr)
	}
	id, err := mustDocker(ctx, 30*time.Second, "image", "inspect", "-f", "{{.Id}}", h.image)
	if err != nil {
		return fmt.Errorf("image %s missing (make images-eval): %w", h.image, err)
	}
	h.res.Settings.ImageID = strings.TrimSpace(id)
	out, err := must(ctx, 30*time.Second, h.bin, "--version")
	if err != nil {
		return fmt.Errorf("runsc-athena (%s) does not run (make install): %w", h.bin, err)
	}
	if h.memoryDB != "" {
		if _, err := must(ctx, 30*time.Second, h.bin, "--athena-memory-db="+h.memoryDB, "--version"); err != nil {
			return fmt.Errorf("%s does not take --athena-memory-db (use -memory-db=host): %w", h.bin, err)
		}
	}
	h.res.Machine = describeMachine(ctx)
	h.res.Machine.Athena = strings.Join(strings.Split(strings.TrimSpace(out), "\n"), ", ")
	for _, p := range []string{"scripts/dockerd.sh", "bench/eval/app/server.py", "bench/eval/src/Makefile"} {
		if _, err := os.Stat(filepath.Join(h.root, p)); err != nil {
			return fmt.Errorf("%s missing: %w", p, err)
		}
	}
	if contains(fams, "redis") {
		for _, t := range []string{"redis-benchmark", "redis-cli"} {
			if _, err := exec.LookPath(t); err != nil {
				return fmt.Errorf("%s missing on the host (scripts/deps.sh redis-tools)", t)
			}
		}
	}
	if contains(fams, "conformance") {
		if err := checkConformanceBins(h.root); err != nil {
			return err
		}
	}
	h.stateDir = filepath.Join(h.work, "state")
	h.runDir = filepath.Join(h.work, "run")
	h.logDir = filepath.Join(h.runDir, "logs")
	h.profDir = filepath.Join(h.runDir, "profiles")
	if err := os.MkdirAll(h.stateDir, 0o755); err != nil {
		return err
	}
	// The runtimes of an earlier run must be gone before their events
	// directories are: unregisterStale runs after this, but only reads
	// state/.
	if err := os.RemoveAll(h.runDir); err != nil {
		return err
	}
	for _, d := range []string{h.logDir, h.profDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// removeStaleContainers removes containers an interrupted earlier run
// left (their names start with athena-eval-).
func (h *harness) removeStaleContainers(ctx context.Context) {
	r, err := docker(ctx, 30*time.Second, "ps", "-a", "--filter", "name=athena-eval-", "--format", "{{.Names}}")
	if err != nil || r.code != 0 {
		return
	}
	for _, n := range strings.Fields(r.stdout) {
		if strings.HasPrefix(n, "athena-eval-") {
			log.Printf("cleanup: removing container %s left by an earlier run", n)
			removeContainer(ctx, n)
		}
	}
}

// cleanup removes what this run made in Docker.
func (h *harness) cleanup(ctx context.Context) {
	for name := range h.containers {
		removeContainer(ctx, name)
	}
	h.unregisterRuntimes(ctx)
	if h.sink != nil {
		h.sink.close()
	}
}

func (h *harness) eventsDir(family string) string {
	return filepath.Join(h.runDir, "events", family)
}

func (h *harness) profilePath(family string) string {
	return filepath.Join(h.profDir, family+".yaml")
}

// plainRuntime is athena with the built-in default policy (no profile),
// with an events directory and a long memory of its own: the control runs
// of the attacks and the "plain athena" of the conformance comparison.
const plainRuntime = "athena-eval-plain"

func learnRuntime(family string) string   { return "athena-eval-learn-" + family }
func enforceRuntime(family string) string { return "athena-eval-" + family }

// findRoot walks up from the working directory to the repository root.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, "bench", "eval", "app")); err == nil && st.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the repository (bench/eval/app not found above the working directory)")
		}
		dir = parent
	}
}

// inRoot resolves a path relative to the repository root.
func inRoot(root, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(root, p)
}

func pickList(s string, all []string, what string) ([]string, error) {
	var out []string
	for _, x := range strings.Split(s, ",") {
		x = strings.TrimSpace(x)
		if x == "" {
			continue
		}
		if !contains(all, x) {
			return nil, fmt.Errorf("unknown %s %q (known: %s)", what, x, strings.Join(all, ","))
		}
		if !contains(out, x) {
			out = append(out, x)
		}
	}
	return out, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func keysOf(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// describeMachine gathers what the report says about where it ran; every
// field degrades to "unknown".
func describeMachine(ctx context.Context) Machine {
	m := Machine{CPU: "unknown", NProc: runtime.NumCPU(), MemTotal: "unknown", Kernel: readTrim("/proc/sys/kernel/osrelease"),
		Docker: "unknown", Go: runtime.Version(), LoadBefore: loadavg()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			var kib float64
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
				if _, err := fmt.Sscan(f[1], &kib); err == nil {
					m.MemTotal = fmt.Sprintf("%.1f GiB", kib/(1<<20))
				}
			}
		}
	}
	if r, err := docker(ctx, 30*time.Second, "version", "--format", "{{.Server.Version}}"); err == nil && r.code == 0 {
		m.Docker = strings.TrimSpace(r.stdout)
	}
	return m
}

func readTrim(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(data))
}

func loadavg() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
