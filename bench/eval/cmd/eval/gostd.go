package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// The gostd family runs Go's standard-library tests (tests/gosuite: one
// container per package, the test binary under busybox sh) through that
// suite's own runner: one pass under the learn runtime, then one under
// plain athena and the enforcing runtime.
const gostdFamily = "gostd"

// GoStd is the Go standard-library suite learnt and enforced.
type GoStd struct {
	LearnRuntime string      `json:"learn_runtime"`
	Runtime      string      `json:"runtime"`
	Profile      string      `json:"profile"`
	ProfileInfo  ProfileInfo `json:"profile_info"`
	LearnEvents  Events      `json:"learn_events"`
	Commands     []string    `json:"commands"`
	Packages     []GoPkg     `json:"packages"`
	// Totals over packages: top-level tests that passed under plain
	// athena, and of those the ones that failed under enforcement
	// (Broken: the false positives); Fixed the other way round.
	Passed    int         `json:"passed"`
	Broken    int         `json:"broken"`
	Fixed     int         `json:"fixed"`
	Events    Events      `json:"events"`
	Memory    []ModelInfo `json:"memory,omitempty"`
	MemoryEnd []ModelInfo `json:"memory_end,omitempty"`
}

// GoPkg is one package under plain athena and under enforcement.
type GoPkg struct {
	Name          string   `json:"name"`
	Plain         GoRun    `json:"plain"`
	Enforced      GoRun    `json:"enforced"`
	BrokenTests   []string `json:"broken_tests,omitempty"`
	FixedTests    []string `json:"fixed_tests,omitempty"`
	Refusals      int      `json:"refusals"`
	SwarmDenyKill int      `json:"swarm_deny_kill"`
	Examples      []string `json:"examples,omitempty"`
}

// GoRun is a package's counts under one runtime (tests/internal/results.GoPackage).
type GoRun struct {
	Passed   int      `json:"passed"`
	Failed   int      `json:"failed"`
	Skipped  int      `json:"skipped"`
	Failures []string `json:"failures"`
	Error    string   `json:"error"`
}

type gostdRun struct {
	h       *harness
	runner  string
	learned []string
	cmds    []string
}

func (g *gostdRun) suite(ctx context.Context, out string, runtimes string) error {
	if g.runner == "" {
		g.runner = filepath.Join(g.h.runDir, "bin", "gosuite")
		cmd := exec.CommandContext(ctx, goTool(), "build", "-o", g.runner, "./tests/gosuite/cmd/gosuite")
		cmd.Dir = g.h.root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building the gosuite runner: %v: %s", err, tail(string(b), 1000))
		}
	}
	// A package that hangs under enforcement (a refused call it waits on)
	// costs its -timeout: 2 minutes rather than the suite's 5.
	args := []string{"-runtimes", runtimes, "-out", out, "-work", filepath.Join(g.h.runDir, "gosuite"), "-go", goTool(), "-timeout", "2m", "-grace", "30s"}
	g.cmds = append(g.cmds, "go run ./tests/gosuite/cmd/gosuite "+strings.Join(args, " "))
	log.Printf("gostd: %s", strings.Join(args, " "))
	ctx, cancel := context.WithTimeout(ctx, 45*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.runner, args...)
	cmd.Dir = g.h.root
	// Interrupted, the runner removes its containers itself on SIGTERM;
	// whatever is left, cleanup removes by runtime.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	b, err := cmd.CombinedOutput()
	os.WriteFile(filepath.Join(g.h.logDir, "gosuite-"+filepath.Base(out)+".log"), b, 0o644)
	if err != nil {
		return fmt.Errorf("gosuite: %v: %s", err, tail(string(b), 1500))
	}
	return nil
}

// waitGoneGostd waits for the runner's containers of runtime rt.
func (h *harness) waitGoneGostd(ctx context.Context, rt string) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		r, err := docker(ctx, 30*time.Second, "ps", "-a", "--format", "{{.Names}}", "--filter", "name=gos-")
		if err != nil || !strings.Contains(r.stdout, "-"+rt+"-") {
			return
		}
		sleep(ctx, 500*time.Millisecond)
	}
}

func (g *gostdRun) records() map[string]bool {
	files, _ := filepath.Glob(filepath.Join(g.h.eventsDir(gostdFamily), "*.jsonl"))
	m := map[string]bool{}
	for _, f := range files {
		m[strings.TrimSuffix(filepath.Base(f), ".jsonl")] = true
	}
	return m
}

func (g *gostdRun) learn(ctx context.Context) error {
	rt := learnRuntime(gostdFamily)
	if err := g.suite(ctx, filepath.Join(g.h.runDir, "gostd-learn.json"), rt); err != nil {
		return fmt.Errorf("gostd learn: %w", err)
	}
	g.h.waitGoneGostd(ctx, rt)
	for id := range g.records() {
		g.learned = append(g.learned, id)
	}
	sort.Strings(g.learned)
	if len(g.learned) == 0 {
		return fmt.Errorf("gostd learn: no records in %s", g.h.eventsDir(gostdFamily))
	}
	_, err := g.h.exportProfile(ctx, gostdFamily, g.learned)
	return err
}

func (g *gostdRun) enforce(ctx context.Context) (*GoStd, error) {
	rt := enforceRuntime(gostdFamily)
	before := g.records()
	out := filepath.Join(g.h.runDir, "gostd.json")
	if err := g.suite(ctx, out, plainRuntime+","+rt); err != nil {
		return nil, fmt.Errorf("gostd under enforcement: %w", err)
	}
	g.h.waitGoneGostd(ctx, rt)
	data, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	var res struct {
		Packages []struct {
			Package string `json:"package"`
			Runtime string `json:"runtime"`
			GoRun
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return nil, fmt.Errorf("%s: %w", out, err)
	}
	gs := &GoStd{LearnRuntime: learnRuntime(gostdFamily), Runtime: rt, Profile: g.h.profilePath(gostdFamily), Commands: g.cmds}
	if gs.ProfileInfo, err = profileInfo(gs.Profile); err != nil {
		return nil, err
	}
	if gs.LearnEvents, err = g.h.learnEvents(gostdFamily, g.learned); err != nil {
		return nil, err
	}

	// The enforce pass's records, by package: the test binary's command
	// name is the package's binary name, cut to 15 bytes.
	byPkg := map[string]*recordFile{}
	all := &recordFile{found: true}
	for id := range g.records() {
		if before[id] {
			continue
		}
		rf, err := readRecord(g.h.recordPath(gostdFamily, id))
		if err != nil {
			return nil, err
		}
		all.entries = append(all.entries, rf.entries...)
		for _, e := range rf.entries {
			if e.gate != nil && e.gate.Comm != "" {
				if x := byPkg[e.gate.Comm]; x == nil {
					byPkg[e.gate.Comm] = rf
				}
			}
		}
	}
	gs.Events = all.summarize(nil)

	pkgs := map[string]*GoPkg{}
	var order []string
	for _, p := range res.Packages {
		gp := pkgs[p.Package]
		if gp == nil {
			gp = &GoPkg{Name: p.Package}
			pkgs[p.Package] = gp
			order = append(order, p.Package)
		}
		switch p.Runtime {
		case plainRuntime:
			gp.Plain = p.GoRun
		case rt:
			gp.Enforced = p.GoRun
		}
	}
	for _, name := range order {
		gp := pkgs[name]
		plainFail, enfFail := set(gp.Plain.Failures), set(gp.Enforced.Failures)
		for f := range enfFail {
			if !plainFail[f] {
				gp.BrokenTests = append(gp.BrokenTests, f)
			}
		}
		// Fixed only when the enforced binary finished: one that crashed
		// or timed out never reported the tests it did not reach.
		for f := range plainFail {
			if !enfFail[f] && gp.Enforced.Error == "" {
				gp.FixedTests = append(gp.FixedTests, f)
			}
		}
		sort.Strings(gp.BrokenTests)
		sort.Strings(gp.FixedTests)
		// A binary that crashed or timed out fails tests it never
		// reported: count what passed under plain athena and not here.
		broken := len(gp.BrokenTests)
		if d := gp.Plain.Passed - gp.Enforced.Passed; d > broken {
			broken = d
		}
		gs.Passed += gp.Plain.Passed
		gs.Broken += broken
		gs.Fixed += len(gp.FixedTests)
		comm := strings.ReplaceAll(name, "/", "_") + ".test"
		if len(comm) > 15 {
			comm = comm[:15]
		}
		if rf := byPkg[comm]; rf != nil {
			ev := rf.summarize(nil)
			gp.Refusals, gp.SwarmDenyKill, gp.Examples = ev.Refusals, ev.Swarm["deny"]+ev.Swarm["kill"], ev.Examples
		}
		gs.Packages = append(gs.Packages, *gp)
	}
	log.Printf("gostd: %d packages; %d tests passed under plain athena, %d of them broken under enforcement; %d refusals",
		len(gs.Packages), gs.Passed, gs.Broken, gs.Events.Refusals)
	return gs, ctx.Err()
}

func set(l []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range l {
		m[x] = true
	}
	return m
}
