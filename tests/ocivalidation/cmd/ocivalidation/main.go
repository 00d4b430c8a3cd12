package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/athenaos/athena/internal/atomicfile"
	"github.com/athenaos/athena/internal/mountinfo"
	"github.com/athenaos/athena/tests/internal/results"
)

const (
	toolsModule = "github.com/opencontainers/runtime-tools"
	// toolsVersion is runtime-tools' main branch of 2026-03-16. The only
	// tagged release, v0.9.0, is from 2019: it lacks about half of today's
	// validation programs and targets runtime-spec 1.0.
	toolsVersion = "v0.9.1-0.20260316125833-8a4db579f5c8"
)

// runtimeSpec names a runtime in oci.json and the binary that implements it.
type runtimeSpec struct{ name, bin string }

type options struct {
	runtimes     []runtimeSpec
	version      string
	work         string
	out          string
	explanations string
	goCmd        string
	tests        []string
	timeout      time.Duration
	budget       time.Duration
}

// testResult and report are oci.json's schema, shared with the report
// generator that reads it.
type (
	testResult = results.OCITest
	report     = results.OCI
)

func main() {
	var o options
	var rts, tests string
	flag.StringVar(&rts, "runtimes", "runc=runc,runsc-baseline=/usr/local/bin/runsc-baseline,athena=/usr/local/bin/runsc-athena",
		"comma-separated name=binary; the first is the reference and \"athena\" is compared with it")
	flag.StringVar(&o.version, "version", toolsVersion, toolsModule+" version to build")
	flag.StringVar(&o.work, "work", filepath.Join(os.TempDir(), "athena-ocivalidation"), "scratch directory for binaries, bundles and logs")
	flag.StringVar(&o.out, "out", "tests/conformance/results/oci.json", "result file")
	flag.StringVar(&o.explanations, "explanations", "tests/ocivalidation/explanations.json", "test name -> explanation of athena's deviation from runc")
	flag.StringVar(&o.goCmd, "go", "go", "go command used to fetch and build runtime-tools")
	flag.StringVar(&tests, "tests", "", "comma-separated program names (e.g. create,kill); empty means all")
	flag.DurationVar(&o.timeout, "timeout", 60*time.Second, "time limit per program and runtime (hung programs are killed)")
	flag.DurationVar(&o.budget, "budget", 25*time.Minute, "give up, writing nothing, when the whole run takes longer")
	flag.Parse()
	for _, f := range results.SplitList(rts) {
		name, bin, ok := strings.Cut(f, "=")
		if !ok || name == "" || bin == "" {
			fmt.Fprintf(os.Stderr, "ocivalidation: bad -runtimes entry %q, want name=binary\n", f)
			os.Exit(2)
		}
		o.runtimes = append(o.runtimes, runtimeSpec{name, bin})
	}
	o.tests = results.SplitList(tests)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.budget)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "ocivalidation:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	if os.Geteuid() != 0 {
		return errors.New("must run as root: the runtimes create namespaces, cgroups and mounts")
	}
	if len(o.runtimes) == 0 {
		return errors.New("no runtimes")
	}
	explanations, err := loadExplanations(o.explanations)
	if err != nil {
		return err
	}
	work, err := filepath.Abs(o.work)
	if err != nil {
		return err
	}
	// Build products are replaced on every run; logs of the previous run
	// would only confuse. An interrupted run may have left mounts in its
	// bundles (see cleanup), which must go before anything is removed.
	if left := unmountUnder(work); len(left) > 0 {
		return fmt.Errorf("still mounted below %s, remove by hand: %s", work, strings.Join(left, " "))
	}
	for _, d := range []string{"validation", "logs", "tmp", "wrappers"} {
		if err := os.RemoveAll(filepath.Join(work, d)); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(work, "validation"), 0o755); err != nil {
		return err
	}
	programs, err := buildSuite(ctx, o.goCmd, o.version, work)
	if err != nil {
		return err
	}
	if len(o.tests) > 0 {
		programs, err = selectPrograms(programs, o.tests)
		if err != nil {
			return err
		}
	}
	wrappers := map[string]string{}
	for _, rt := range o.runtimes {
		w, err := writeWrapper(work, rt)
		if err != nil {
			return err
		}
		wrappers[rt.name] = w
		// Containers an interrupted earlier run left in the private
		// state directory.
		cleanup(w, filepath.Join(work, "tmp", rt.name))
	}

	outcomes := map[string]map[string]counts{} // program -> runtime -> counts
	for _, p := range programs {
		outcomes[p] = map[string]counts{}
	}
	// Runtime by runtime: the runs do not overlap, so one runtime's
	// leftovers cannot disturb another's results.
	for _, rt := range o.runtimes {
		for _, p := range programs {
			if ctx.Err() != nil {
				return fmt.Errorf("%w: stopped before %s under %s; %s not written", ctx.Err(), p, rt.name, o.out)
			}
			start := time.Now()
			c, note := runProgram(ctx, work, p, rt.name, wrappers[rt.name], o.timeout)
			outcomes[p][rt.name] = c
			fmt.Fprintf(os.Stderr, "%-15s %-32s pass %3d fail %2d skip %2d  %5.1fs %s\n",
				rt.name, p, c.Pass, c.Fail, c.Skip, time.Since(start).Seconds(), note)
		}
		removeStateDir(stateDir(rt.name))
	}

	rep := report{Generated: time.Now().UTC().Format(time.RFC3339), Tests: []testResult{}}
	ref := o.runtimes[0].name
	used := map[string]bool{}
	var unexplained []string
	for _, p := range programs {
		name := "validation/" + p
		tr := testResult{Name: name, Runtimes: outcomes[p]}
		if a, ok := outcomes[p]["athena"]; ok && a != outcomes[p][ref] {
			if text, ok := explanations[name]; ok {
				tr.Explanation = text
				used[name] = true
			} else {
				unexplained = append(unexplained, name)
			}
		}
		rep.Tests = append(rep.Tests, tr)
	}
	if err := writeJSON(o.out, rep); err != nil {
		return err
	}
	printSummary(rep, o.runtimes)
	for _, n := range unexplained {
		fmt.Fprintf(os.Stderr, "UNEXPLAINED: athena differs from %s in %s; add an entry to %s\n", ref, n, o.explanations)
	}
	// Explanations usually say "same under runsc-baseline"; a difference
	// between athena and plain gVisor is athena's own and worth a look
	// whether or not an explanation exists.
	if _, ok := wrappers["runsc-baseline"]; ok {
		for _, t := range rep.Tests {
			if a, ok := t.Runtimes["athena"]; ok && a != t.Runtimes["runsc-baseline"] {
				fmt.Fprintf(os.Stderr, "ATHENA-ONLY: %s: athena %d/%d/%d, runsc-baseline %d/%d/%d (pass/fail/skip)\n", t.Name,
					a.Pass, a.Fail, a.Skip, t.Runtimes["runsc-baseline"].Pass, t.Runtimes["runsc-baseline"].Fail, t.Runtimes["runsc-baseline"].Skip)
			}
		}
	}
	var stale []string
	for n := range explanations {
		if !used[n] {
			stale = append(stale, n)
		}
	}
	sort.Strings(stale)
	for _, n := range stale {
		fmt.Fprintf(os.Stderr, "note: explanation for %s unused in this run (athena matches %s there, or it was not run)\n", n, ref)
	}
	fmt.Fprintf(os.Stderr, "wrote %s; raw TAP and stderr in %s\n", o.out, filepath.Join(work, "logs"))
	return nil
}

func selectPrograms(all, want []string) ([]string, error) {
	have := map[string]bool{}
	for _, p := range all {
		have[p] = true
	}
	var out []string
	for _, w := range want {
		w = strings.TrimPrefix(w, "validation/")
		if !have[w] {
			return nil, fmt.Errorf("no validation program %q", w)
		}
		out = append(out, w)
	}
	return out, nil
}

// loadExplanations reads the checked-in name -> text map. A missing file is
// an error: without it every deviation would silently lose its explanation.
func loadExplanations(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// buildSuite fetches runtime-tools into the module cache and builds
// runtimetest and every validation program into work. It returns the
// program names, sorted.
func buildSuite(ctx context.Context, goCmd, version, work string) ([]string, error) {
	// Outside any module, so the download cannot touch this repository's
	// go.mod or go.sum.
	dl := exec.CommandContext(ctx, goCmd, "mod", "download", "-json", toolsModule+"@"+version)
	dl.Dir = work
	dl.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
	out, err := dl.Output()
	if err != nil {
		return nil, fmt.Errorf("go mod download %s@%s: %w: %s", toolsModule, version, err, out)
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return nil, fmt.Errorf("go mod download: %w", err)
	}
	if mod.Error != "" || mod.Dir == "" {
		return nil, fmt.Errorf("go mod download %s@%s: %s", toolsModule, version, mod.Error)
	}

	// The module zip keeps vendor/modules.txt but not the vendored code, so
	// the build must resolve dependencies through the module cache
	// (-mod=mod); runtime-tools' go.sum pins them. runtimetest runs inside
	// the container's busybox rootfs, so it has to be static.
	env := append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	builds := [][]string{
		{"build", "-tags", "netgo osusergo", "-o", filepath.Join(work, "runtimetest"), "./cmd/runtimetest"},
		{"build", "-o", filepath.Join(work, "validation") + string(os.PathSeparator), "./validation/..."},
	}
	for _, args := range builds {
		cmd := exec.CommandContext(ctx, goCmd, args...)
		cmd.Dir = mod.Dir
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}

	// PrepareBundle untars "rootfs-$GOARCH.tar.gz" from the working
	// directory, and the programs copy "runtimetest" from there too.
	rootfs := fmt.Sprintf("rootfs-%s.tar.gz", runtime.GOARCH)
	data, err := os.ReadFile(filepath.Join(mod.Dir, rootfs))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(work, rootfs), data, 0o644); err != nil {
		return nil, err
	}

	entries, err := os.ReadDir(filepath.Join(work, "validation"))
	if err != nil {
		return nil, err
	}
	var programs []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			programs = append(programs, e.Name())
		}
	}
	sort.Strings(programs)
	if len(programs) == 0 {
		return nil, errors.New("runtime-tools build produced no validation programs")
	}
	return programs, nil
}

// writeWrapper writes the script RUNTIME points at: the runtime binary with
// a private state directory (see the package comment).
func writeWrapper(work string, rt runtimeSpec) (string, error) {
	bin, err := exec.LookPath(rt.bin)
	if err != nil {
		return "", fmt.Errorf("runtime %s: %w", rt.name, err)
	}
	dir := filepath.Join(work, "wrappers")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, rt.name)
	script := fmt.Sprintf("#!/bin/sh\nexec %s --root %s \"$@\"\n", shellQuote(bin), shellQuote(stateDir(rt.name)))
	return path, os.WriteFile(path, []byte(script), 0o755)
}

func stateDir(name string) string { return filepath.Join("/run/athena-ocivalidation", name) }

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// runProgram runs one validation program under one runtime and counts. The
// note says how it ended when that was not a plain exit.
func runProgram(ctx context.Context, work, program, rtName, wrapper string, timeout time.Duration) (counts, string) {
	logDir := filepath.Join(work, "logs", rtName)
	tmp := filepath.Join(work, "tmp", rtName)
	var note string
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return counts{Fail: 1}, err.Error()
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return counts{Fail: 1}, err.Error()
	}
	defer cleanup(wrapper, tmp)

	tapPath := filepath.Join(logDir, program+".tap")
	tapFile, err := os.Create(tapPath)
	if err != nil {
		return counts{Fail: 1}, err.Error()
	}
	errFile, err := os.Create(filepath.Join(logDir, program+".err"))
	if err != nil {
		tapFile.Close()
		return counts{Fail: 1}, err.Error()
	}

	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, filepath.Join(work, "validation", program))
	cmd.Dir = work
	// Bundles go to a per-runtime TMPDIR that cleanup empties afterwards:
	// a killed program never removes its own.
	cmd.Env = append(os.Environ(), "RUNTIME="+wrapper, "TMPDIR="+tmp)
	cmd.Stdout = tapFile
	cmd.Stderr = errFile
	// Own process group, so a timeout kills the program together with
	// the runtime commands and hooks it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	runErr := cmd.Run()
	tapFile.Close()
	errFile.Close()
	exitOK := runErr == nil
	switch {
	case runCtx.Err() == context.DeadlineExceeded:
		note = fmt.Sprintf("killed after %s", timeout)
	case runErr != nil:
		note = runErr.Error()
	}

	f, err := os.Open(tapPath)
	if err != nil {
		return counts{Fail: 1}, err.Error()
	}
	defer f.Close()
	s, err := parseTAP(f)
	if err != nil {
		return counts{Fail: 1}, "reading TAP: " + err.Error()
	}
	if s.truncated > 0 {
		note = strings.TrimSpace(note + " TAP stream cut short")
	}
	return verdict(s, exitOK), note
}

// cleanup force-deletes every container left in the wrapper's private state
// directory and removes the bundles. Only containers this harness created
// live there.
func cleanup(wrapper, tmp string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, wrapper, "list", "--quiet").Output()
	if err == nil {
		for _, id := range strings.Fields(string(out)) {
			_ = exec.CommandContext(ctx, wrapper, "delete", "--force", id).Run()
		}
	}
	// A program that runs a container without a mount namespace
	// (linux_ns_itype) makes runc mount proc, sysfs, the host's mqueue and
	// more onto the bundle in the host's namespace, and nobody unmounts
	// them. Removing files through such mounts would reach the host, so
	// detach every mount below tmp first and remove nothing if one stays.
	if left := unmountUnder(tmp); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "cleanup: not removing %s: still mounted: %s\n", tmp, strings.Join(left, " "))
		return
	}
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(tmp, e.Name())); err != nil {
			fmt.Fprintf(os.Stderr, "cleanup: %v\n", err)
		}
	}
}

// unmountUnder lazily unmounts every mount point below dir, deepest first,
// and returns the ones that are still there afterwards.
func unmountUnder(dir string) []string {
	points := mountsUnder(dir)
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil {
			fmt.Fprintf(os.Stderr, "cleanup: unmount %s: %v\n", p, err)
		}
	}
	return mountsUnder(dir)
}

// mountsUnder lists mount points strictly below dir from
// /proc/self/mountinfo. If that cannot be read it reports dir itself, so
// that the caller errs on the side of not deleting.
func mountsUnder(dir string) []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return []string{dir}
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		if mp := mountinfo.Unescape(f[4]); strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out
}

// removeStateDir removes a runtime's private state directory once its
// programs are done. runsc leaves a bind-mounted network namespace
// ("null-netns") there, so that is detached first; if anything stays
// mounted the directory is left alone.
func removeStateDir(dir string) {
	if left := unmountUnder(dir); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "cleanup: not removing %s: still mounted: %s\n", dir, strings.Join(left, " "))
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintf(os.Stderr, "cleanup: %v\n", err)
	}
}

// writeJSON writes atomically so a reader never sees half a file.
func writeJSON(path string, v any) error {
	return atomicfile.WriteJSON(path, v)
}

func printSummary(rep report, runtimes []runtimeSpec) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 1, ' ', 0)
	fmt.Fprint(tw, "TEST")
	for _, rt := range runtimes {
		fmt.Fprintf(tw, "\t%s p/f/s", rt.name)
	}
	fmt.Fprintln(tw, "\tEXPLAINED")
	total := map[string]counts{}
	for _, t := range rep.Tests {
		fmt.Fprint(tw, t.Name)
		for _, rt := range runtimes {
			c := t.Runtimes[rt.name]
			fmt.Fprintf(tw, "\t%d/%d/%d", c.Pass, c.Fail, c.Skip)
			tc := total[rt.name]
			tc.Pass, tc.Fail, tc.Skip = tc.Pass+c.Pass, tc.Fail+c.Fail, tc.Skip+c.Skip
			total[rt.name] = tc
		}
		mark := ""
		if t.Explanation != "" {
			mark = "yes"
		}
		fmt.Fprintf(tw, "\t%s\n", mark)
	}
	fmt.Fprint(tw, "TOTAL")
	for _, rt := range runtimes {
		c := total[rt.name]
		fmt.Fprintf(tw, "\t%d/%d/%d", c.Pass, c.Fail, c.Skip)
	}
	fmt.Fprintln(tw)
	tw.Flush()
}
