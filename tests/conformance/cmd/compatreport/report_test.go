package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/full/compat.golden.md")

// report runs the command on a fixture directory with a fixed date and
// gVisor version and returns the written report.
func report(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "compat.md")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-root", t.TempDir(), "-results", dir, "-out", out, "-date", "2026-01-02", "-gvisor-version", "v0.0.0-test"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestGolden(t *testing.T) {
	got := report(t, filepath.Join("testdata", "full"))
	golden := filepath.Join("testdata", "full", "compat.golden.md")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("report differs from %s (go test -update to accept):\n%s", golden, got)
	}
}

// TestClassification checks the content independently of the golden file,
// so that an accepted golden cannot hide a wrong classification.
func TestClassification(t *testing.T) {
	got := report(t, filepath.Join("testdata", "full"))
	for _, want := range []string{
		"DO NOT EDIT, regenerate with `make conformance`",
		"- Date: 2026-01-02",
		"- gVisor version: `v0.0.0-test`",
		// files: identical under the baseline: same, bug; under athena: same, fixed.
		"| [files](#syscalls-files) | 5 | 2 | 2 | 1 | 1 | 1 | 1 |",
		// time: the baseline timed out, lost one case and printed an extra one.
		"| [time](#syscalls-time) | 3 | 1 | 3 | 0 | 0 | 2 | 0 |",
		"| `files.open.gap` | `-1 EINVAL` | `-1 EISDIR` | `-1 EISDIR` | gVisor gap |",
		"| `files.open.bug` | `0` | `0` | `-1 EPERM` | athena bug |",
		"| `files.open.fixed` | ``" + ` a\|b ` + "`c` `` | *(empty)* | ``" + ` a\|b ` + "`c` `` | fixed by athena |",
		"| `files.open.flaky` | `1` / `2` | `1` | `1` | unstable |",
		"| `time.sleep.missing` | `0` | *(no record)* | `0` | fixed by athena |",
		"| `time.sleep.ABORTED` | *(no record)* | `timeout after 20s` | *(no record)* | fixed by athena |",
		"| time | ok, 3 cases | ok, 3 cases | **timeout** (killed after 3m0s), 1 cases | ok, 3 cases |",
		"| `os` | 10 / 1 / 2 | 8 / 3 / 2 | 9 / 2 / 2 |",
		"| `net` | 5 / 0 / 0 | — | 0 / 0 / 0, error: build failed: exit status 1 |",
		"- `os` under runsc-baseline: `TestChown`, `TestPipe`",
		"- `os` under athena: `TestChown`",
		"| `validation/create` | 3 / 0 / 0 | **2 / 1 / 0** | **2 / 1 / 0** | gVisor reports a different pid namespace \\| known |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q\n%s", want, got)
		}
	}
	if strings.Contains(got, "time.clock.same") {
		t.Errorf("identical case listed among differences")
	}
}

func TestNotRun(t *testing.T) {
	got := report(t, filepath.Join("testdata", "empty"))
	for _, want := range []string{
		"## System calls\n\nNot run",
		"## Go standard library tests\n\nNot run",
		"## OCI runtime validation\n\nNot run",
		"- Runtimes: none (nothing was run)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q\n%s", want, got)
		}
	}
}

func TestCode(t *testing.T) {
	for in, want := range map[string]string{
		"":        "*(empty)*",
		"x":       "`x`",
		"a|b":     "`a\\|b`",
		"`q`":     "`` `q` ``",
		"in`side": "`` in`side ``",
	} {
		if got := code(in); got != want {
			t.Errorf("code(%q) = %q, want %q", in, got, want)
		}
	}
}
