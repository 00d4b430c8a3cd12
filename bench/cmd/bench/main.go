package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/athenaos/athena/bench/internal/report"
	"github.com/athenaos/athena/bench/internal/result"
)

func main() {
	var (
		quick      = flag.Bool("quick", false, "1-2 repetitions, small sizes, a subset of the benchmarks (a few minutes)")
		reps       = flag.Int("reps", 0, "repetitions (default 2 with -quick, 5 without)")
		only       = flag.String("only", "", "run only the benchmarks with a metric whose name matches this regexp (for development); such a run never updates latest.json, and writes the docs only if -doc is given")
		runtimes   = flag.String("runtimes", strings.Join([]string{result.Runc, result.Baseline, result.Athena}, ","), "runtimes to compare, in run order")
		binDir     = flag.String("bin", "bench/bin", "directory with the built micro-benchmarks (bind-mounted at /bench)")
		resultsDir = flag.String("results", "bench/results", "directory for the raw JSON")
		docPath    = flag.String("doc", "docs/benchmarks.md", "markdown report to write")
		pngPath    = flag.String("png", "docs/benchmarks.png", "chart to write")
		render     = flag.String("render", "", "only render -doc and -png from this stored run")
		commandStr = flag.String("command", "", "how the run was invoked, for the report (default: this command line)")
		goTool     = flag.String("go", envOr("GO", "go"), "go tool, to ask for the gVisor module version")
		timeout    = flag.Duration("timeout", 0, "stop the whole run after this long (default 15m quick, 60m full, 30m -group heal)")
		group      = flag.String("group", "", "run only this group instead of the side-by-side suite: heal (the healer's recovery from injected faults, availability under crashes and checkpoint cost, heal.go; its flags are -heal-*); writes -results/<date>-heal.json and .md, never latest.json or the docs")
	)
	flag.Parse()
	explicit := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	log.SetFlags(log.Ltime)
	log.SetPrefix("bench: ")

	if *group != "" {
		if *group != "heal" {
			log.Fatalf("-group: unknown group %q (want heal)", *group)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := runHeal(ctx, *commandStr, *resultsDir, *goTool, *timeout)
		stop()
		if err != nil {
			log.Fatal(err)
		}
		return
	}

	if *render != "" {
		run, err := result.Load(*render)
		if err != nil {
			log.Fatal(err)
		}
		if err := writeDocs(run, *docPath, *pngPath); err != nil {
			log.Fatal(err)
		}
		return
	}

	s, mode := fullSizes, "full"
	if *quick {
		s, mode = quickSizes, "quick"
	}
	if *only != "" {
		mode += "-only" // a subset: the report and the file name say so
	}
	if *reps > 0 {
		s.reps = *reps
	}
	if *timeout == 0 {
		*timeout = 60 * time.Minute
		if *quick {
			*timeout = 15 * time.Minute
		}
	}
	var filter *regexp.Regexp
	if *only != "" {
		var err error
		if filter, err = regexp.Compile(*only); err != nil {
			log.Fatalf("-only: %v", err)
		}
	}
	var selected []job
	for _, j := range jobs(s) {
		if *quick && !j.quick {
			continue
		}
		if filter != nil && !matchAny(filter, j.metrics) {
			continue
		}
		selected = append(selected, j)
	}
	if len(selected) == 0 {
		log.Fatal("no benchmark selected")
	}
	cmdline := *commandStr
	if cmdline == "" {
		cmdline = strings.Join(os.Args, " ")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	d := &driver{
		runtimes: strings.Split(*runtimes, ","),
		binDir:   *binDir,
		sizes:    s,
	}
	run := &result.Run{
		Date:     time.Now().UTC().Format(time.RFC3339),
		Command:  cmdline,
		Mode:     mode,
		Reps:     s.reps,
		Runtimes: d.runtimes,
		Machine:  describeMachine(ctx, *goTool),
		Notes:    notes(s),
	}
	t0 := time.Now()
	err := d.run(ctx, selected, run)
	run.Duration = time.Since(t0).Seconds()
	run.Machine.LoadAfter = loadavg()
	if err != nil {
		// Keep what was measured (it is the only record of a long run), but
		// do not overwrite the docs with a partial run.
		if path, serr := saveResults(run, *resultsDir, "-partial", false); serr == nil {
			log.Printf("partial results in %s", path)
		}
		log.Fatal(err)
	}
	if filter != nil {
		// A filtered run is not the suite: keep it out of latest.json and
		// of the docs, unless asked to render it somewhere.
		path, err := saveResults(run, *resultsDir, "", false)
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("filtered run: results in %s (latest.json untouched)", path)
		if !explicit["doc"] {
			log.Printf("filtered run: docs not written (give -doc, and -png, to render it)")
			return
		}
		if !explicit["png"] {
			*pngPath = strings.TrimSuffix(*docPath, filepath.Ext(*docPath)) + ".png"
		}
	} else {
		path, err := saveResults(run, *resultsDir, "", true)
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("results in %s", path)
	}
	if err := writeDocs(run, *docPath, *pngPath); err != nil {
		log.Fatal(err)
	}
	log.Printf("wrote %s and %s in %s", *docPath, *pngPath, time.Since(t0).Round(time.Second))
}

// matchAny reports whether re matches the name of one of the metrics.
func matchAny(re *regexp.Regexp, ms []result.Benchmark) bool {
	for _, m := range ms {
		if re.MatchString(m.Name) {
			return true
		}
	}
	return false
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// saveResults writes bench/results/<date>-<mode><suffix>.json and, if
// latest (a complete run of the whole suite), latest.json, which the docs
// are rendered from.
func saveResults(run *result.Run, dir, suffix string, latest bool) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	t, err := time.Parse(time.RFC3339, run.Date)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, t.Format("2006-01-02T150405Z")+"-"+run.Mode+suffix+".json")
	if err := run.Save(path); err != nil {
		return "", err
	}
	if latest {
		if err := run.Save(filepath.Join(dir, "latest.json")); err != nil {
			return "", err
		}
	}
	return path, nil
}

func writeDocs(run *result.Run, docPath, pngPath string) error {
	if err := os.MkdirAll(filepath.Dir(docPath), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(pngPath), 0o755); err != nil {
		return err
	}
	if err := report.Chart(run, pngPath); err != nil {
		return err
	}
	rel, err := filepath.Rel(filepath.Dir(docPath), pngPath)
	if err != nil {
		rel = pngPath
	}
	f, err := os.Create(docPath)
	if err != nil {
		return err
	}
	if err := report.Markdown(f, run, filepath.ToSlash(rel)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// notes are the method section of the report: what a reader needs to know
// to trust or discount the numbers.
func notes(s sizes) []string {
	return []string{
		"Order: for each repetition, each benchmark runs once per runtime in turn (runc, runsc-baseline, athena), so slow drift on this shared machine (other jobs, thermal, caches) falls on all three alike. Container start, idle memory and the scheduler groups run first in each repetition, before the work containers exist; the other benchmarks run in one long-lived container per runtime (`bench-work-RUNTIME`, image " + debianImage + ", with the micro-benchmark binaries bind-mounted read-only at /bench and an iperf3 server, a tcprr server and redis-server started in it).",
		"Statistics: median, min and max over the samples (one per repetition, or several for container start); the ratios divide athena's median by the other runtime's median. With few repetitions on a shared machine, treat differences under ~10-20% as noise and look at the min–max spread before reading anything into a ratio.",
		"Micro-benchmarks are static C programs (bench/src, bind-mounted, so the same binaries run under every runtime) that time their loop with `clock_gettime(CLOCK_MONOTONIC)` inside the container, so neither `docker exec` nor process start-up is in the figure. Each splits its iterations into 5 timed batches after an untimed warm-up and reports the median batch, so a neighbour's burst spoils one batch rather than the sample.",
		"Container start is timed on the host around the docker CLI, so it includes the CLI, dockerd and containerd (the same for all runtimes) as well as the runtime's create/start/delete.",
		fmt.Sprintf("fio runs one psync job per measurement, %s file, %d s time-based, without O_DIRECT (gVisor does not pass it through), without fsync and with `--invalidate=0`: fio's default drops the host page cache for its file before reading, which gVisor's own cache ignores, so runc alone would read from disk. Reads are therefore served from a page cache and writes land in one (the host's for runc and for gVisor's bind mounts, the Sentry's for gVisor's root file system overlay). These are file-system-path costs, not disk speeds.", s.fioSize, s.fioSeconds),
		fmt.Sprintf("Network latency: bench/src/tcprr.c, static like the micro-benchmarks. Its server (one epoll loop that echoes; TCP_NODELAY) runs in the work container; its client runs either there (`docker exec`) or on the host (bench/bin/tcprr). The client times each round trip (%d per run, one connection) or each new connection (%d per run) on its own with `clock_gettime(CLOCK_MONOTONIC)`, after an untimed warm-up of a tenth as many, and reports the median and the 99th percentile of them: one run is one sample, and the table shows the median (min–max) of those per-run figures over the repetitions.", s.roundTrips, s.connections),
		"Host↔container network tests go through the port Docker publishes on 127.0.0.1, which Docker serves with its userland proxy (docker-proxy) and the container's veth: that path is the same for all runtimes, so differences are the runtime's network stack. Nothing is sent to any address but loopback.",
		"Memory: for an idle container, the driver takes the pid `docker inspect` reports, walks up its parents to the containerd shim, and sums /proc/PID/smaps_rollup over the shim and all its descendants. The shim is a subreaper, so that tree is everything the runtime keeps running for the container: for runc the shim and the container's processes, for gVisor the shim, the sandbox (Sentry and its systrap stub processes) and the gofer. `mem_idle_anon` sums `Pss_Anon` + `Pss_Shmem`: memory the processes allocated (heap, stacks, gVisor's memory file, whose pages the Sentry shares only with its own stubs, so PSS counts each once). It leaves out mapped files (the runtime executable), whose PSS share falls as other containers on the machine run the same binary, which made total PSS depend on the neighbours. `mem_idle_rss` sums RSS, mapped files included and shared pages counted in every process: the upper bound. The page cache and kernel memory charged to the container's cgroup are in neither.",
		fmt.Sprintf("Scheduler groups: each starts a fresh container per runtime (`bench-nn-`, `bench-cpus-`, `bench-forkbomb-` + runtime) and removes it before the next runtime's turn, and they take part in the first %d repetition(s) only, to keep the run short (so they have that many samples). Their load is bench/src/spin.c, static: N processes that loop without system calls and count their iterations. The CPU-quota figures come from the host, not from the runtime: the container's cgroup, which for gVisor holds the sandbox (Sentry and stubs) and the gofer, read at two instants while spin runs. The fork bomb always runs with `--pids-limit 1024` and `--memory 1g`, every probe has a deadline and the container is force-removed whatever happens; after that the driver checks that no host process of the container is left.", s.schedReps),
		"Not measured: disk-bound I/O (no O_DIRECT, no fsync), multi-container density, CPU-bound work on its own (no system calls, so runtimes do not differ; the scheduler groups use it only as load next to a server or under a quota), and start-up of large images.",
	}
}
