package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/athenaos/athena/tests/internal/results"
)

// Exit statuses; see doc.go.
const (
	exitOK      = 0
	exitDiffers = 1
	exitHarness = 2
)

type config struct {
	root       string
	binDir     string
	srcDir     string
	quickList  string
	out        string
	image      string
	docker     string
	runtimes   []string
	reference  string
	programs   []string
	quick      bool
	timeout    time.Duration
	refRuns    int
	dockerArgs []string
	verbose    bool
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintln(stderr, "conformance:", err)
		return exitHarness
	}
	r := &runner{cfg: cfg, stdout: stdout, stderr: stderr, exec: dockerExec{docker: cfg.docker}}
	return r.main(ctx)
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		root      = fs.String("root", "", "repository root (default: found by walking up from the working directory)")
		runtimes  = fs.String("runtimes", "", "comma-separated OCI runtimes, reference first (default: runc,runsc-baseline,athena; with -quick: runc,athena)")
		reference = fs.String("reference", results.Runc, "runtime every other one is compared with")
		programs  = fs.String("programs", "", "comma-separated programs to run (default: every tests/conformance/src/*.c)")
		quick     = fs.Bool("quick", false, "run only the cases in the quick list and fail if any differs from the reference")
		quickList = fs.String("quick-list", "", "quick subset (default: tests/conformance/quick.txt)")
		out       = fs.String("out", "", "results file (default: tests/conformance/results/syscalls.json; with -quick: syscalls-quick.json)")
		image     = fs.String("image", "athena-test/busybox", "container image providing /bin/sh and a writable /tmp")
		docker    = fs.String("docker", "docker", "docker client binary")
		timeout   = fs.Duration("timeout", 3*time.Minute, "deadline for one program in one container")
		refRuns   = fs.Int("reference-runs", 0, "runs of the reference per program; cases that differ between them are marked unstable (default: 2, with -quick: 1)")
		verbose   = fs.Bool("v", false, "print every differing case")
	)
	var dockerArgs listFlag
	fs.Var(&dockerArgs, "docker-arg", "extra argument for docker run (repeatable), e.g. -docker-arg=--security-opt=seccomp=unconfined")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	cfg := &config{
		quick:      *quick,
		image:      *image,
		docker:     *docker,
		timeout:    *timeout,
		reference:  *reference,
		dockerArgs: dockerArgs,
		verbose:    *verbose,
	}
	var err error
	if cfg.root = *root; cfg.root == "" {
		if cfg.root, err = findRoot(); err != nil {
			return nil, err
		}
	}
	base := filepath.Join(cfg.root, "tests", "conformance")
	cfg.binDir = filepath.Join(base, "bin")
	cfg.srcDir = filepath.Join(base, "src")
	cfg.quickList = orDefault(*quickList, filepath.Join(base, "quick.txt"))
	defOut, defRT, defRuns := "syscalls.json", "runc,runsc-baseline,athena", 2
	if cfg.quick {
		defOut, defRT, defRuns = "syscalls-quick.json", "runc,athena", 1
	}
	cfg.out = orDefault(*out, filepath.Join(base, "results", defOut))
	cfg.runtimes = results.SplitList(orDefault(*runtimes, defRT))
	if cfg.refRuns = *refRuns; cfg.refRuns == 0 {
		cfg.refRuns = defRuns
	}
	if cfg.refRuns < 1 {
		return nil, fmt.Errorf("-reference-runs must be at least 1")
	}
	if len(cfg.runtimes) == 0 || cfg.runtimes[0] != cfg.reference {
		return nil, fmt.Errorf("-runtimes must start with the reference %q, got %q", cfg.reference, cfg.runtimes)
	}
	seen := map[string]bool{}
	for _, rt := range cfg.runtimes {
		if seen[rt] {
			return nil, fmt.Errorf("runtime %q listed twice", rt)
		}
		seen[rt] = true
	}
	cfg.programs = results.SplitList(*programs)
	return cfg, nil
}

// findRoot walks up from the working directory to the directory holding
// tests/conformance, so the runner works from the repository root (as make
// runs it) or from anywhere inside the tree.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, "tests", "conformance", "src")); err == nil && st.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find tests/conformance above the working directory; pass -root")
		}
		dir = parent
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// readQuickList parses quick.txt: one case name per line, '#' comments.
func readQuickList(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var names []string
	seen := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.ContainsAny(line, " \t") || !strings.Contains(line, ".") {
			return nil, fmt.Errorf("%s:%d: %q is not a case name", path, i+1, line)
		}
		if seen[line] {
			return nil, fmt.Errorf("%s:%d: %s listed twice", path, i+1, line)
		}
		seen[line] = true
		names = append(names, line)
	}
	return names, nil
}

// discoverPrograms lists the programs built from src/*.c.
func discoverPrograms(srcDir string) ([]string, error) {
	matches, err := filepath.Glob(filepath.Join(srcDir, "*.c"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range matches {
		out = append(out, strings.TrimSuffix(filepath.Base(m), ".c"))
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("no programs in %s", srcDir)
	}
	return out, nil
}
