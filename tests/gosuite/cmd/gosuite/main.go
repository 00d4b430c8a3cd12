package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/athenaos/athena/internal/atomicfile"
	"github.com/athenaos/athena/tests/internal/results"
)

// defaultPackages are the packages whose tests exercise the system-call
// surface a runtime provides: files, processes, signals, sockets, clocks,
// the scheduler and profiling signals (runtime, runtime/pprof), randomness.
// All of them together take about five minutes per three runtimes here.
const defaultPackages = "os,os/exec,os/signal,os/user,syscall,internal/syscall/unix,internal/poll," +
	"net,net/http,log/syslog,io,io/fs,path/filepath,time,runtime,runtime/debug,runtime/pprof,crypto/rand"

type options struct {
	packages []string
	runtimes []string
	image    string
	out      string
	work     string
	goCmd    string
	timeout  time.Duration
	grace    time.Duration
	short    bool
	jobs     int
}

// result and report are gostd.json's schema, shared with the report
// generator that reads it.
type (
	result = results.GoPackage
	report = results.GoStd
)

func main() {
	var o options
	var pkgs, rts string
	flag.StringVar(&pkgs, "packages", defaultPackages, "comma-separated standard-library packages to test")
	flag.StringVar(&rts, "runtimes", "runc,runsc-baseline,athena", "comma-separated Docker runtimes; the first is the reference")
	flag.StringVar(&o.image, "image", "athena-test/busybox", "image the test binaries run in (needs /bin/sh)")
	flag.StringVar(&o.out, "out", "tests/conformance/results/gostd.json", "result file")
	flag.StringVar(&o.work, "work", filepath.Join(os.TempDir(), "athena-gosuite"), "directory for test binaries and raw logs")
	flag.StringVar(&o.goCmd, "go", "go", "go command used to build the tests and convert their output")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Minute, "per package and runtime, passed to -test.timeout")
	flag.DurationVar(&o.grace, "grace", 90*time.Second, "extra time before the harness kills a container whose binary ignored -test.timeout")
	flag.BoolVar(&o.short, "short", true, "pass -test.short")
	flag.IntVar(&o.jobs, "j", 1, "containers run at once (the machine is shared: keep it small)")
	flag.Parse()
	o.packages = results.SplitList(pkgs)
	o.runtimes = results.SplitList(rts)
	if len(o.packages) == 0 || len(o.runtimes) == 0 || o.jobs < 1 {
		fmt.Fprintln(os.Stderr, "gosuite: need at least one package, one runtime and -j >= 1")
		os.Exit(2)
	}

	// An interrupted run must not leave containers behind; the context
	// reaches every docker invocation and its Cancel hook removes them.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "gosuite:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	goroot, err := goEnv(ctx, o.goCmd, "GOROOT")
	if err != nil {
		return err
	}
	if err := checkRuntimes(ctx, o.runtimes); err != nil {
		return err
	}
	binDir := filepath.Join(o.work, "bin")
	logDir := filepath.Join(o.work, "logs")
	for _, d := range []string{binDir, logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}

	// Build everything first: a build problem then shows up before any
	// container time is spent, and the runs do not compete with the
	// compiler for the two CPUs.
	buildErr := map[string]string{}
	for _, pkg := range o.packages {
		start := time.Now()
		if err := buildTest(ctx, o.goCmd, goroot, pkg, filepath.Join(binDir, binName(pkg))); err != nil {
			buildErr[pkg] = "build failed: " + firstLine(err.Error())
			fmt.Fprintf(os.Stderr, "build %s: %v\n", pkg, err)
			continue
		}
		fmt.Fprintf(os.Stderr, "built %s (%s)\n", pkg, time.Since(start).Round(time.Second))
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	type job struct {
		i        int
		pkg, rt  string
		buildErr string
	}
	var jobs []job
	for _, pkg := range o.packages {
		for _, rt := range o.runtimes {
			jobs = append(jobs, job{len(jobs), pkg, rt, buildErr[pkg]})
		}
	}
	outcomes := make([]result, len(jobs))
	queue := make(chan job)
	var wg sync.WaitGroup
	for w := 0; w < o.jobs; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				r := result{Package: j.pkg, Runtime: j.rt, Failures: []string{}}
				if j.buildErr != "" {
					r.Error = j.buildErr
				} else {
					start := time.Now()
					r = runOne(ctx, o, goroot, binDir, logDir, j.pkg, j.rt)
					fmt.Fprintf(os.Stderr, "ran %-22s %-15s pass %4d fail %3d skip %3d  %s %s\n",
						j.pkg, j.rt, r.Passed, r.Failed, r.Skipped, time.Since(start).Round(time.Second), r.Error)
				}
				outcomes[j.i] = r
			}
		}()
	}
	for _, j := range jobs {
		if ctx.Err() != nil {
			break
		}
		queue <- j
	}
	close(queue)
	wg.Wait()
	if ctx.Err() != nil {
		// A partial file would look like a complete run to the report.
		return fmt.Errorf("interrupted; %s not written", o.out)
	}

	if err := writeReport(o.out, report{Generated: time.Now().UTC().Format(time.RFC3339), Packages: outcomes}); err != nil {
		return err
	}
	printSummary(outcomes, o.runtimes)
	fmt.Fprintf(os.Stderr, "wrote %s; raw logs in %s\n", o.out, logDir)
	return nil
}

// binName maps an import path to a file name: os/exec -> os_exec.test.
func binName(pkg string) string {
	return strings.ReplaceAll(pkg, "/", "_") + ".test"
}

func goEnv(ctx context.Context, goCmd, key string) (string, error) {
	out, err := exec.CommandContext(ctx, goCmd, "env", key).Output()
	if err != nil {
		return "", fmt.Errorf("%s env %s: %w", goCmd, key, err)
	}
	v := strings.TrimSpace(string(out))
	if v == "" {
		return "", fmt.Errorf("%s env %s is empty", goCmd, key)
	}
	return v, nil
}

// checkRuntimes fails early when dockerd does not know a runtime: every run
// under it would otherwise fail with the same docker error.
func checkRuntimes(ctx context.Context, runtimes []string) error {
	out, err := exec.CommandContext(ctx, "docker", "info", "--format", "{{json .Runtimes}}").Output()
	if err != nil {
		return fmt.Errorf("docker info: %w", err)
	}
	var known map[string]json.RawMessage
	if err := json.Unmarshal(out, &known); err != nil {
		return fmt.Errorf("docker info runtimes: %w", err)
	}
	for _, rt := range runtimes {
		if _, ok := known[rt]; !ok {
			return fmt.Errorf("docker has no runtime %q (make install install-baseline registers athena and runsc-baseline)", rt)
		}
	}
	return nil
}

// buildTest compiles one package's tests into a static binary. It runs in
// GOROOT/src so that the standard library is the main module, whatever
// go.mod surrounds the caller.
func buildTest(ctx context.Context, goCmd, goroot, pkg, out string) error {
	cmd := exec.CommandContext(ctx, goCmd, "test", "-c", "-o", out, pkg)
	cmd.Dir = filepath.Join(goroot, "src")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// runOne runs one package's test binary under one runtime and counts.
func runOne(ctx context.Context, o options, goroot, binDir, logDir, pkg, rt string) result {
	r := result{Package: pkg, Runtime: rt, Failures: []string{}}
	base := filepath.Join(logDir, strings.ReplaceAll(pkg, "/", "_")+"."+rt)
	rawPath, jsonPath := base+".out", base+".json"

	name := fmt.Sprintf("gos-%s-%s-%d", strings.ReplaceAll(pkg, "/", "_"), rt, os.Getpid())
	testArgs := []string{
		"/gosuite/" + binName(pkg),
		"-test.v=test2json",
		"-test.timeout=" + o.timeout.String(),
		"-test.short=" + fmt.Sprint(o.short),
	}
	args := []string{
		"run", "--rm", "--name", name, "--runtime", rt,
		"--network", "none",
		"-v", goroot + ":" + goroot + ":ro",
		"-v", binDir + ":/gosuite:ro",
		// Docker's default tmpfs options include noexec; os/exec tests
		// write helper programs to the temp dir and run them.
		"--tmpfs", "/tmp:rw,exec,mode=1777",
		"-e", "TMPDIR=/tmp",
		"-w", filepath.Join(goroot, "src", pkg),
		o.image,
		// sh stays PID 1 (no exec), and merges the binary's stderr into
		// stdout inside the container so test2json sees one ordered
		// stream, as it would under `go test`.
		"/bin/sh", "-c", `"$0" "$@" 2>&1`,
	}
	args = append(args, testArgs...)

	raw, err := os.Create(rawPath)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	runCtx, cancel := context.WithTimeout(ctx, o.timeout+o.grace)
	defer cancel()
	cmd := exec.CommandContext(runCtx, "docker", args...)
	cmd.Stdout = raw
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// Killing the docker client does not stop the container; remove it
	// first, then the client exits on its own.
	cmd.Cancel = func() error {
		removeContainer(name)
		return cmd.Process.Kill()
	}
	cmd.WaitDelay = 30 * time.Second
	runErr := cmd.Run()
	raw.Close()
	killed := runCtx.Err() != nil
	removeContainer(name) // --rm does not apply when the client was killed
	exitCode := 0
	var ee *exec.ExitError
	switch {
	case runErr == nil:
	case errors.As(runErr, &ee):
		exitCode = ee.ExitCode()
	default:
		r.Error = "docker run: " + runErr.Error()
		return r
	}

	t, err := convert(ctx, o.goCmd, pkg, rawPath, jsonPath)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Passed, r.Failed, r.Skipped = t.passed, t.failed, t.skipped
	if t.failures != nil {
		r.Failures = t.failures
	}
	r.Error = harnessError(t, exitCode, killed, stderr.String())
	return r
}

// removeContainer force-removes a container by its unique name; "no such
// container" is the normal case after --rm and is ignored.
func removeContainer(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = exec.CommandContext(ctx, "docker", "rm", "-f", name).Run()
}

// convert turns the binary's -test.v=test2json output into JSON events with
// `go tool test2json` (kept in jsonPath for inspection) and counts them.
func convert(ctx context.Context, goCmd, pkg, rawPath, jsonPath string) (tally, error) {
	in, err := os.Open(rawPath)
	if err != nil {
		return tally{}, err
	}
	defer in.Close()
	out, err := os.Create(jsonPath)
	if err != nil {
		return tally{}, err
	}
	defer out.Close()
	cmd := exec.CommandContext(ctx, goCmd, "tool", "test2json", "-t", "-p", pkg)
	cmd.Stdin = in
	cmd.Stdout = out
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return tally{}, fmt.Errorf("test2json: %w: %s", err, firstLine(stderr.String()))
	}
	if _, err := out.Seek(0, 0); err != nil {
		return tally{}, err
	}
	return countEvents(out)
}

// writeReport writes atomically so a reader never sees half a file.
func writeReport(path string, rep report) error {
	return atomicfile.WriteJSON(path, rep)
}

// printSummary prints the counts and, per runtime, the tests that fail there
// but not under the reference (the first runtime).
func printSummary(outcomes []result, runtimes []string) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PACKAGE\tRUNTIME\tPASS\tFAIL\tSKIP\tERROR")
	for _, r := range outcomes {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", r.Package, r.Runtime, r.Passed, r.Failed, r.Skipped, r.Error)
	}
	tw.Flush()

	ref := map[string]map[string]bool{}
	for _, r := range outcomes {
		if r.Runtime == runtimes[0] {
			ref[r.Package] = map[string]bool{}
			for _, f := range r.Failures {
				ref[r.Package][f] = true
			}
		}
	}
	for _, r := range outcomes {
		if r.Runtime == runtimes[0] {
			continue
		}
		var extra []string
		for _, f := range r.Failures {
			if !ref[r.Package][f] {
				extra = append(extra, f)
			}
		}
		if len(extra) > 0 {
			fmt.Printf("%s under %s fails beyond %s: %s\n", r.Package, r.Runtime, runtimes[0], strings.Join(extra, " "))
		}
	}
}
