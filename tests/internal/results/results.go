package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/athenaos/athena/internal/atomicfile"
)

// Well-known runtime names. The suite compares any set of runtimes, but the
// report's classification needs to know which one is plain gVisor and which
// one is ours.
const (
	Runc     = "runc"
	Baseline = "runsc-baseline"
	Athena   = "athena"
)

// SyscallsSchema is bumped whenever Syscalls changes incompatibly.
const SyscallsSchema = 1

// Run statuses of one program under one runtime.
const (
	StatusOK      = "ok"      // exited 0
	StatusCrashed = "crashed" // exited non-zero or was killed by a signal
	StatusTimeout = "timeout" // killed by the runner after its deadline
	StatusError   = "error"   // the container never ran the program (docker failed)
)

// Syscalls is results/syscalls.json: every record of every program under
// every runtime, case by case.
type Syscalls struct {
	Schema    int    `json:"schema"`
	Generated string `json:"generated"` // RFC 3339
	Mode      string `json:"mode"`      // "full" or "quick"
	Image     string `json:"image"`
	// Reference is the runtime every other one is compared with (runc).
	Reference string   `json:"reference"`
	Runtimes  []string `json:"runtimes"`
	// ReferenceRuns is how often the reference ran each program; with two
	// or more, cases whose records disagree between runs are Unstable.
	ReferenceRuns int       `json:"reference_runs"`
	DockerArgs    []string  `json:"docker_args,omitempty"`
	Programs      []Program `json:"programs"`
	Cases         []Case    `json:"cases"`
}

// Program is one test binary and how each run of it went.
type Program struct {
	Name string `json:"name"`
	// Runs is keyed by runtime; repeated reference runs are "runc#2", ...
	Runs map[string]Run `json:"runs"`
}

// Run is one execution of a program in one container.
type Run struct {
	Status     string `json:"status"`
	ExitCode   int    `json:"exit_code"`
	DurationMS int64  `json:"duration_ms"`
	Cases      int    `json:"cases"`
	Stderr     string `json:"stderr,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Case is one record ("CASE <name> <result>") across runtimes.
type Case struct {
	Name    string `json:"name"`
	Area    string `json:"area"`
	Program string `json:"program"`
	// Results maps runtime to the recorded result. A runtime without an
	// entry produced no record (its program crashed, timed out, or the case
	// does not exist there); see the program's Run for why.
	Results map[string]string `json:"results"`
	// Unstable marks a case whose reference runs disagreed; it is not
	// compared. ReferenceResults then holds every reference run's record.
	Unstable         bool     `json:"unstable,omitempty"`
	ReferenceResults []string `json:"reference_results,omitempty"`
	// Quick marks the cases listed in quick.txt.
	Quick bool `json:"quick,omitempty"`
}

// Verdicts of one runtime against the reference for one case.
const (
	Same     = "same"
	Differs  = "differs"  // both recorded, different results
	Missing  = "missing"  // recorded by the reference only
	Extra    = "extra"    // recorded by the runtime only
	Unstable = "unstable" // the reference disagrees with itself
	NotRun   = "not run"  // the runtime was not part of this run
)

// Verdict compares runtime rt with reference ref for this case.
func (c Case) Verdict(ref, rt string, ran bool) string {
	if !ran {
		return NotRun
	}
	if c.Unstable {
		return Unstable
	}
	want, okRef := c.Results[ref]
	got, okRT := c.Results[rt]
	switch {
	case okRef && okRT && want == got:
		return Same
	case okRef && okRT:
		return Differs
	case okRef:
		return Missing
	case okRT:
		return Extra
	}
	return Same // recorded by neither: nothing to compare
}

// Classes of a case in the report.
const (
	ClassIdentical  = "identical"
	ClassGVisorGap  = "gVisor gap"      // differs under athena and under runsc-baseline too
	ClassAthenaBug  = "athena bug"      // differs only under athena
	ClassFixed      = "fixed by athena" // differs only under runsc-baseline
	ClassUnstable   = "unstable"        // native runs disagree
	ClassUnresolved = "differs"         // differs, but baseline or athena was not run
)

// Classify places a case given which of runsc-baseline and athena ran.
func (c Case) Classify(ref string, baselineRan, athenaRan bool) string {
	if c.Unstable {
		return ClassUnstable
	}
	b := c.Verdict(ref, Baseline, baselineRan)
	a := c.Verdict(ref, Athena, athenaRan)
	bDiff := b != Same && b != NotRun
	aDiff := a != Same && a != NotRun
	switch {
	case !bDiff && !aDiff:
		return ClassIdentical
	case !baselineRan || !athenaRan:
		return ClassUnresolved
	case bDiff && aDiff:
		return ClassGVisorGap
	case aDiff:
		return ClassAthenaBug
	}
	return ClassFixed
}

// HasRuntime reports whether rt took part in the run.
func (s *Syscalls) HasRuntime(rt string) bool {
	for _, r := range s.Runtimes {
		if r == rt {
			return true
		}
	}
	return false
}

// Areas returns the areas present, sorted.
func (s *Syscalls) Areas() []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range s.Cases {
		if !seen[c.Area] {
			seen[c.Area] = true
			out = append(out, c.Area)
		}
	}
	sort.Strings(out)
	return out
}

// AreaOf is the area of a case name: everything before the first dot.
func AreaOf(name string) string {
	area, _, _ := strings.Cut(name, ".")
	return area
}

// OrderRuntimes sorts runtime names the way every table shows them: the
// reference first, then plain gVisor, then athena, then anything else.
func OrderRuntimes(rts []string) []string {
	rank := func(r string) int {
		switch r {
		case Runc:
			return 0
		case Baseline:
			return 1
		case Athena:
			return 2
		}
		return 3
	}
	out := append([]string(nil), rts...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, rj := rank(out[i]), rank(out[j])
		if ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}

// LoadSyscalls reads a syscalls.json; a missing file is (nil, nil).
func LoadSyscalls(path string) (*Syscalls, error) {
	var s Syscalls
	ok, err := load(path, &s)
	if !ok || err != nil {
		return nil, err
	}
	if s.Schema != SyscallsSchema {
		return nil, fmt.Errorf("%s: schema %d, this program understands %d", path, s.Schema, SyscallsSchema)
	}
	return &s, nil
}

// Save writes the file atomically (temporary file and rename) so a reader
// never sees half a result file.
func (s *Syscalls) Save(path string) error {
	sort.Slice(s.Cases, func(i, j int) bool { return s.Cases[i].Name < s.Cases[j].Name })
	sort.Slice(s.Programs, func(i, j int) bool { return s.Programs[i].Name < s.Programs[j].Name })
	return save(path, s)
}

// GoStd is results/gostd.json: the Go standard library's tests per runtime.
type GoStd struct {
	Generated string      `json:"generated"`
	Packages  []GoPackage `json:"packages"`
}

// GoPackage is one package's test outcome under one runtime.
type GoPackage struct {
	Package  string   `json:"package"`
	Runtime  string   `json:"runtime"`
	Passed   int      `json:"passed"`
	Failed   int      `json:"failed"`
	Skipped  int      `json:"skipped"`
	Failures []string `json:"failures"`
	Error    string   `json:"error"`
}

// LoadGoStd reads a gostd.json; a missing file is (nil, nil).
func LoadGoStd(path string) (*GoStd, error) {
	var g GoStd
	ok, err := load(path, &g)
	if !ok || err != nil {
		return nil, err
	}
	return &g, nil
}

// OCI is results/oci.json: the OCI runtime-tools validation per runtime.
type OCI struct {
	Generated string    `json:"generated"`
	Tests     []OCITest `json:"tests"`
}

// OCITest is one validation test with its counts per runtime.
type OCITest struct {
	Name        string              `json:"name"`
	Runtimes    map[string]OCICount `json:"runtimes"`
	Explanation string              `json:"explanation"`
}

// OCICount is the TAP outcome counts of one test under one runtime.
type OCICount struct {
	Pass int `json:"pass"`
	Fail int `json:"fail"`
	Skip int `json:"skip"`
}

// LoadOCI reads an oci.json; a missing file is (nil, nil).
func LoadOCI(path string) (*OCI, error) {
	var o OCI
	ok, err := load(path, &o)
	if !ok || err != nil {
		return nil, err
	}
	return &o, nil
}

func load(path string, v any) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

func save(path string, v any) error {
	return atomicfile.WriteJSON(path, v)
}

// SplitList splits a comma-separated flag value of the suites (runtimes,
// programs, packages, test names) into its non-empty, trimmed items.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
