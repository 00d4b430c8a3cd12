package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/athenaos/athena/tests/internal/results"
)

type runner struct {
	cfg    *config
	stdout io.Writer
	stderr io.Writer
	exec   executor
	seq    int
}

// record is one parsed program run.
type record struct {
	run   results.Run
	cases map[string]string
}

func (r *runner) main(ctx context.Context) int {
	cfg := r.cfg
	programs := cfg.programs
	if len(programs) == 0 {
		var err error
		if programs, err = discoverPrograms(cfg.srcDir); err != nil {
			return r.harness("%v", err)
		}
	}
	var quick []string
	if _, err := os.Stat(cfg.quickList); err == nil || cfg.quick {
		var err error
		if quick, err = readQuickList(cfg.quickList); err != nil {
			return r.harness("quick list: %v", err)
		}
	}
	if cfg.quick {
		// Only the programs that hold quick cases need to run.
		need := map[string]bool{}
		for _, q := range quick {
			need[results.AreaOf(q)] = true
		}
		var keep []string
		for _, p := range programs {
			if need[p] {
				keep = append(keep, p)
				delete(need, p)
			}
		}
		if len(cfg.programs) == 0 && len(need) > 0 {
			return r.harness("quick list names areas without a program: %v", keys(need))
		}
		programs = keep
	}
	for _, p := range programs {
		if st, err := os.Stat(filepath.Join(cfg.binDir, p)); err != nil || st.IsDir() {
			return r.harness("program %s not built in %s (run make conformance-bin)", p, cfg.binDir)
		}
	}

	out := &results.Syscalls{
		Schema:        results.SyscallsSchema,
		Mode:          map[bool]string{true: "quick", false: "full"}[cfg.quick],
		Image:         cfg.image,
		Reference:     cfg.reference,
		Runtimes:      cfg.runtimes,
		ReferenceRuns: cfg.refRuns,
		DockerArgs:    cfg.dockerArgs,
	}
	quickSet := map[string]bool{}
	for _, q := range quick {
		quickSet[q] = true
	}
	start := time.Now()
	harnessFailed := false
	for _, prog := range programs {
		prec := results.Program{Name: prog, Runs: map[string]results.Run{}}
		byRuntime := map[string]map[string]string{}
		var refRuns []map[string]string
		for _, rt := range cfg.runtimes {
			n := 1
			if rt == cfg.reference {
				n = cfg.refRuns
			}
			for i := 1; i <= n; i++ {
				rec, err := r.runOne(ctx, rt, prog)
				if err != nil {
					return r.harness("%s under %s: %v", prog, rt, err)
				}
				key := rt
				if i > 1 {
					key = fmt.Sprintf("%s#%d", rt, i)
				}
				prec.Runs[key] = rec.run
				r.progress(prog, key, rec.run)
				if rec.run.Status == results.StatusError {
					harnessFailed = true
				}
				if i == 1 {
					byRuntime[rt] = rec.cases
				}
				if rt == cfg.reference {
					refRuns = append(refRuns, rec.cases)
				}
			}
		}
		out.Programs = append(out.Programs, prec)
		out.Cases = append(out.Cases, mergeCases(prog, cfg.reference, byRuntime, refRuns, quickSet)...)
	}
	out.Generated = time.Now().UTC().Format(time.RFC3339)
	if err := out.Save(cfg.out); err != nil {
		return r.harness("writing results: %v", err)
	}
	r.summary(out, time.Since(start))
	fmt.Fprintf(r.stdout, "results: %s\n", cfg.out)
	if harnessFailed {
		return r.harness("docker could not run some containers (status %q above)", results.StatusError)
	}
	if cfg.quick {
		return r.quickGate(out, quick)
	}
	return exitOK
}

func (r *runner) harness(format string, args ...any) int {
	fmt.Fprintf(r.stderr, "conformance: "+format+"\n", args...)
	return exitHarness
}

// runOne runs one program under one runtime and parses its records.
func (r *runner) runOne(ctx context.Context, rt, prog string) (record, error) {
	r.seq++
	spec := containerSpec{
		Name:    fmt.Sprintf("conf-%s-%s-%d-%d", sanitize(rt), prog, os.Getpid(), r.seq),
		Runtime: rt,
		Image:   r.cfg.image,
		BinDir:  r.cfg.binDir,
		Program: prog,
		Extra:   r.cfg.dockerArgs,
		Timeout: r.cfg.timeout,
	}
	o, err := r.exec.Run(ctx, spec)
	if err != nil {
		return record{}, err
	}
	cases, stray := parseRecords(o.Stdout)
	run := results.Run{
		ExitCode:   o.ExitCode,
		DurationMS: o.Duration.Milliseconds(),
		Cases:      len(cases),
		Stderr:     tail(string(o.Stderr), 2048),
	}
	switch {
	case o.TimedOut:
		run.Status = results.StatusTimeout
		run.Error = fmt.Sprintf("killed after %s", r.cfg.timeout)
	case o.ExitCode == 0:
		run.Status = results.StatusOK
	case len(cases) == 0 && o.ExitCode >= 125 && o.ExitCode <= 127:
		// docker run's own failures (daemon error, cannot invoke, not found).
		run.Status = results.StatusError
		run.Error = fmt.Sprintf("docker run exited %d", o.ExitCode)
	default:
		run.Status = results.StatusCrashed
		run.Error = describeExit(o.ExitCode)
	}
	if stray > 0 {
		run.Error = strings.TrimSpace(run.Error + fmt.Sprintf(" %d non-CASE lines on stdout", stray))
	}
	return record{run: run, cases: cases}, nil
}

// parseRecords extracts "CASE <name> <result>" lines. A repeated name is
// kept under "<name>#2", ... so that nothing a program printed is lost.
func parseRecords(stdout []byte) (map[string]string, int) {
	cases := map[string]string{}
	stray := 0
	sc := bufio.NewScanner(bytes.NewReader(stdout))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, "CASE ")
		if !ok {
			if strings.TrimSpace(line) != "" {
				stray++
			}
			continue
		}
		name, result, _ := strings.Cut(rest, " ")
		if name == "" {
			stray++
			continue
		}
		key := name
		for i := 2; ; i++ {
			if _, dup := cases[key]; !dup {
				break
			}
			key = fmt.Sprintf("%s#%d", name, i)
		}
		cases[key] = result
	}
	return cases, stray
}

// mergeCases folds the per-runtime records of one program into cases.
func mergeCases(prog, ref string, byRuntime map[string]map[string]string, refRuns []map[string]string, quick map[string]bool) []results.Case {
	names := map[string]bool{}
	for _, m := range byRuntime {
		for n := range m {
			names[n] = true
		}
	}
	for _, m := range refRuns {
		for n := range m {
			names[n] = true
		}
	}
	var out []results.Case
	for n := range names {
		c := results.Case{Name: n, Area: results.AreaOf(n), Program: prog, Results: map[string]string{}, Quick: quick[n]}
		for rt, m := range byRuntime {
			if v, ok := m[n]; ok {
				c.Results[rt] = v
			}
		}
		if len(refRuns) > 1 {
			var all []string
			differ := false
			for i, m := range refRuns {
				v, ok := m[n]
				if !ok {
					v = "<no record>"
				}
				all = append(all, v)
				if i > 0 && v != all[0] {
					differ = true
				}
			}
			if differ {
				c.Unstable = true
				c.ReferenceResults = all
			}
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (r *runner) progress(prog, key string, run results.Run) {
	extra := ""
	if run.Status != results.StatusOK {
		extra = "  " + run.Error
	}
	fmt.Fprintf(r.stdout, "%-10s %-16s %-8s %4d cases %6.1fs%s\n", prog, key, run.Status, run.Cases, float64(run.DurationMS)/1000, extra)
}

// summary prints per area and runtime how many cases match the reference.
func (r *runner) summary(s *results.Syscalls, elapsed time.Duration) {
	sandboxes := s.Runtimes[1:]
	fmt.Fprintf(r.stdout, "\n%-10s %6s", "area", "cases")
	for _, rt := range sandboxes {
		fmt.Fprintf(r.stdout, " %18s", rt+" same")
	}
	fmt.Fprintf(r.stdout, " %8s\n", "unstable")
	type counts struct{ cases, unstable int }
	per := map[string]*counts{}
	same := map[string]map[string]int{}
	for _, c := range s.Cases {
		if per[c.Area] == nil {
			per[c.Area] = &counts{}
			same[c.Area] = map[string]int{}
		}
		per[c.Area].cases++
		if c.Unstable {
			per[c.Area].unstable++
		}
		for _, rt := range sandboxes {
			if c.Verdict(s.Reference, rt, true) == results.Same {
				same[c.Area][rt]++
			}
		}
	}
	total := counts{}
	totalSame := map[string]int{}
	for _, a := range s.Areas() {
		fmt.Fprintf(r.stdout, "%-10s %6d", a, per[a].cases)
		for _, rt := range sandboxes {
			fmt.Fprintf(r.stdout, " %18d", same[a][rt])
			totalSame[rt] += same[a][rt]
		}
		fmt.Fprintf(r.stdout, " %8d\n", per[a].unstable)
		total.cases += per[a].cases
		total.unstable += per[a].unstable
	}
	fmt.Fprintf(r.stdout, "%-10s %6d", "total", total.cases)
	for _, rt := range sandboxes {
		fmt.Fprintf(r.stdout, " %18d", totalSame[rt])
	}
	fmt.Fprintf(r.stdout, " %8d\n", total.unstable)
	fmt.Fprintf(r.stdout, "elapsed: %s\n", elapsed.Round(time.Second))
	if r.cfg.verbose {
		for _, c := range s.Cases {
			for _, rt := range sandboxes {
				if v := c.Verdict(s.Reference, rt, true); v != results.Same {
					fmt.Fprintf(r.stdout, "  %s %s: %s: %s=%q %s=%q\n", v, rt, c.Name, s.Reference, c.Results[s.Reference], rt, c.Results[rt])
				}
			}
		}
	}
}

// quickGate fails when a quick case is not identical to the reference under
// every sandboxed runtime of the run.
func (r *runner) quickGate(s *results.Syscalls, quick []string) int {
	byName := map[string]results.Case{}
	for _, c := range s.Cases {
		byName[c.Name] = c
	}
	var missing, failed []string
	for _, q := range quick {
		c, ok := byName[q]
		if !ok || !hasKey(c.Results, s.Reference) {
			missing = append(missing, q)
			continue
		}
		for _, rt := range s.Runtimes[1:] {
			if v := c.Verdict(s.Reference, rt, true); v != results.Same {
				got, ok := c.Results[rt]
				if !ok {
					got = "<no record>"
				}
				failed = append(failed, fmt.Sprintf("%s under %s: %s: want %q, got %q", q, rt, v, c.Results[s.Reference], got))
			}
		}
	}
	if len(missing) > 0 {
		return r.harness("quick cases not recorded by %s (stale quick.txt?): %s", s.Reference, strings.Join(missing, ", "))
	}
	if len(failed) > 0 {
		fmt.Fprintf(r.stderr, "conformance: %d quick case(s) differ from %s:\n", len(failed), s.Reference)
		for _, f := range failed {
			fmt.Fprintln(r.stderr, "  "+f)
		}
		return exitDiffers
	}
	fmt.Fprintf(r.stdout, "quick: %d cases identical to %s under %s\n", len(quick), s.Reference, strings.Join(s.Runtimes[1:], ", "))
	return exitOK
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sanitize(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteRune(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// describeExit renders docker run's exit status: 128+N is "killed by signal N".
func describeExit(code int) string {
	if code > 128 && code < 128+65 {
		return fmt.Sprintf("exit %d (signal %d)", code, code-128)
	}
	return fmt.Sprintf("exit %d", code)
}
