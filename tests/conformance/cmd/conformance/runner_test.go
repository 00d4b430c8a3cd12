package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/tests/internal/results"
)

func TestParseRecords(t *testing.T) {
	out := []byte("CASE a.x 0\nnoise\nCASE a.y -1 ENOENT\nCASE a.x again\nCASE a.empty \n\n")
	cases, stray := parseRecords(out)
	want := map[string]string{"a.x": "0", "a.y": "-1 ENOENT", "a.x#2": "again", "a.empty": ""}
	if len(cases) != len(want) {
		t.Fatalf("got %v, want %v", cases, want)
	}
	for k, v := range want {
		if got, ok := cases[k]; !ok || got != v {
			t.Errorf("%s: got %q (present %v), want %q", k, got, ok, v)
		}
	}
	if stray != 1 {
		t.Errorf("stray = %d, want 1", stray)
	}
}

func TestMergeCasesMarksUnstable(t *testing.T) {
	ref1 := map[string]string{"a.stable": "1", "a.flaky": "x"}
	ref2 := map[string]string{"a.stable": "1", "a.flaky": "y"}
	by := map[string]map[string]string{"runc": ref1, "athena": {"a.stable": "2", "a.extra": "z"}}
	cs := mergeCases("a", "runc", by, []map[string]string{ref1, ref2}, map[string]bool{"a.stable": true})
	got := map[string]results.Case{}
	for _, c := range cs {
		got[c.Name] = c
	}
	if !got["a.flaky"].Unstable || got["a.stable"].Unstable {
		t.Errorf("unstable flags wrong: %+v", cs)
	}
	if v := got["a.stable"].Verdict("runc", "athena", true); v != results.Differs {
		t.Errorf("a.stable verdict %q", v)
	}
	if v := got["a.extra"].Verdict("runc", "athena", true); v != results.Extra {
		t.Errorf("a.extra verdict %q", v)
	}
	if !got["a.stable"].Quick {
		t.Errorf("a.stable not marked quick")
	}
}

// fakeExec answers each runtime with canned program output.
type fakeExec struct {
	out map[string]string // runtime -> stdout
}

func (f fakeExec) Run(_ context.Context, spec containerSpec) (outcome, error) {
	return outcome{Stdout: []byte(f.out[spec.Runtime]), Duration: time.Millisecond}, nil
}

func setupTree(t *testing.T, quick string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"src", "bin"} {
		if err := os.MkdirAll(filepath.Join(root, "tests", "conformance", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"src/demo.c", "bin/demo"} {
		if err := os.WriteFile(filepath.Join(root, "tests", "conformance", f), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "tests", "conformance", "quick.txt"), []byte(quick), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func runWith(t *testing.T, root string, fe fakeExec, args ...string) (int, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cfg, err := parseFlags(append([]string{"-root", root}, args...), &stderr)
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{cfg: cfg, stdout: &stdout, stderr: &stderr, exec: fe}
	code := r.main(context.Background())
	return code, stdout.String() + stderr.String()
}

func TestQuickGate(t *testing.T) {
	root := setupTree(t, "# comment\ndemo.same\n")
	fe := fakeExec{out: map[string]string{
		"runc":   "CASE demo.same 0\nCASE demo.diff 1\n",
		"athena": "CASE demo.same 0\nCASE demo.diff 2\n",
	}}
	if code, log := runWith(t, root, fe, "-quick"); code != exitOK {
		t.Fatalf("quick with identical quick case: exit %d\n%s", code, log)
	}
	s, err := results.LoadSyscalls(filepath.Join(root, "tests", "conformance", "results", "syscalls-quick.json"))
	if err != nil || s == nil || s.Mode != "quick" || len(s.Cases) != 2 {
		t.Fatalf("quick results: %+v, %v", s, err)
	}

	root = setupTree(t, "demo.diff\n")
	if code, log := runWith(t, root, fe, "-quick"); code != exitDiffers || !strings.Contains(log, "demo.diff under athena") {
		t.Fatalf("quick with differing case: exit %d\n%s", code, log)
	}

	root = setupTree(t, "demo.gone\n")
	if code, _ := runWith(t, root, fe, "-quick"); code != exitHarness {
		t.Fatalf("quick with stale case: exit %d, want %d", code, exitHarness)
	}
}

func TestFullModeReportsButPasses(t *testing.T) {
	root := setupTree(t, "")
	fe := fakeExec{out: map[string]string{
		"runc":           "CASE demo.a 0\n",
		"runsc-baseline": "CASE demo.a 1\n",
		"athena":         "",
	}}
	code, log := runWith(t, root, fe)
	if code != exitOK {
		t.Fatalf("full mode exit %d\n%s", code, log)
	}
	s, err := results.LoadSyscalls(filepath.Join(root, "tests", "conformance", "results", "syscalls.json"))
	if err != nil || s == nil {
		t.Fatal(err)
	}
	if s.ReferenceRuns != 2 || len(s.Programs[0].Runs) != 4 {
		t.Errorf("want 2 reference runs and 4 runs, got %d and %v", s.ReferenceRuns, s.Programs[0].Runs)
	}
	if c := s.Cases[0].Classify("runc", true, true); c != results.ClassGVisorGap {
		t.Errorf("class %q", c)
	}
}

func TestDockerArgs(t *testing.T) {
	got := strings.Join(dockerArgs(containerSpec{Name: "conf-x", Runtime: "athena", Image: "img", BinDir: "/b", Program: "files", Extra: []string{"--cap-add=SYS_PTRACE"}}), " ")
	for _, want := range []string{"run --rm --name conf-x --runtime athena --network none", "-v /b:/conf:ro", "--cap-add=SYS_PTRACE img /conf/files"} {
		if !strings.Contains(got, want) {
			t.Errorf("docker args %q lack %q", got, want)
		}
	}
}
