package results

import (
	"path/filepath"
	"reflect"
	"testing"
)

func TestVerdictAndClassify(t *testing.T) {
	c := func(res map[string]string) Case { return Case{Name: "a.b", Results: res} }
	for _, tc := range []struct {
		name     string
		c        Case
		base, at string
		class    string
	}{
		{"identical", c(map[string]string{"runc": "0", Baseline: "0", Athena: "0"}), Same, Same, ClassIdentical},
		{"gap", c(map[string]string{"runc": "0", Baseline: "1", Athena: "1"}), Differs, Differs, ClassGVisorGap},
		{"gap athena differently", c(map[string]string{"runc": "0", Baseline: "1", Athena: "2"}), Differs, Differs, ClassGVisorGap},
		{"bug", c(map[string]string{"runc": "0", Baseline: "0", Athena: "1"}), Same, Differs, ClassAthenaBug},
		{"bug missing", c(map[string]string{"runc": "0", Baseline: "0"}), Same, Missing, ClassAthenaBug},
		{"fixed", c(map[string]string{"runc": "0", Baseline: "1", Athena: "0"}), Differs, Same, ClassFixed},
		{"extra", c(map[string]string{Baseline: "x", Athena: "x"}), Extra, Extra, ClassGVisorGap},
		{"unstable", Case{Results: map[string]string{"runc": "0"}, Unstable: true}, Unstable, Unstable, ClassUnstable},
	} {
		if got := tc.c.Verdict("runc", Baseline, true); got != tc.base {
			t.Errorf("%s: baseline verdict %q, want %q", tc.name, got, tc.base)
		}
		if got := tc.c.Verdict("runc", Athena, true); got != tc.at {
			t.Errorf("%s: athena verdict %q, want %q", tc.name, got, tc.at)
		}
		if got := tc.c.Classify("runc", true, true); got != tc.class {
			t.Errorf("%s: class %q, want %q", tc.name, got, tc.class)
		}
	}
	diff := c(map[string]string{"runc": "0", Athena: "1"})
	if got := diff.Classify("runc", false, true); got != ClassUnresolved {
		t.Errorf("without baseline: class %q", got)
	}
	if got := diff.Verdict("runc", Baseline, false); got != NotRun {
		t.Errorf("not run: verdict %q", got)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "syscalls.json")
	in := &Syscalls{Schema: SyscallsSchema, Mode: "full", Reference: "runc", Runtimes: []string{"runc"},
		Cases: []Case{{Name: "b.x", Area: "b", Results: map[string]string{"runc": "1"}}, {Name: "a.x", Area: "a", Results: map[string]string{"runc": ""}}}}
	if err := in.Save(path); err != nil {
		t.Fatal(err)
	}
	out, err := LoadSyscalls(path)
	if err != nil {
		t.Fatal(err)
	}
	if out.Cases[0].Name != "a.x" || !reflect.DeepEqual(out.Areas(), []string{"a", "b"}) {
		t.Errorf("round trip: %+v", out)
	}
	if missing, err := LoadSyscalls(filepath.Join(t.TempDir(), "none.json")); missing != nil || err != nil {
		t.Errorf("missing file: %v, %v", missing, err)
	}
}

func TestOrderRuntimes(t *testing.T) {
	got := OrderRuntimes([]string{"zeta", Athena, Baseline, "alpha", Runc})
	want := []string{Runc, Baseline, Athena, "alpha", "zeta"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
