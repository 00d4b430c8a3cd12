package result

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
)

// The runtimes every run compares, in the order they run and are shown.
const (
	Runc     = "runc"
	Baseline = "runsc-baseline"
	Athena   = "athena"
)

// Run is one invocation of the benchmark driver.
type Run struct {
	// Date is when the run started, RFC 3339, UTC.
	Date string `json:"date"`
	// Command is how the run was invoked, as shown in the report.
	Command string `json:"command"`
	// Mode is "quick" or "full", with "-only" appended for a run of a
	// subset chosen by name (bench -only).
	Mode string `json:"mode"`
	// Reps is the number of interleaved repetitions.
	Reps       int         `json:"reps"`
	Duration   float64     `json:"duration_s"`
	Machine    Machine     `json:"machine"`
	Runtimes   []string    `json:"runtimes"`
	Benchmarks []Benchmark `json:"benchmarks"`
	// Notes explain the method; the driver writes them so that they travel
	// with the numbers they explain.
	Notes []string `json:"notes,omitempty"`
}

// Machine describes where the run happened; numbers mean little without it.
type Machine struct {
	CPU      string `json:"cpu"`
	NProc    int    `json:"nproc"`
	MemTotal string `json:"mem_total"`
	Kernel   string `json:"kernel"`
	Docker   string `json:"docker"`
	GVisor   string `json:"gvisor"`
	Go       string `json:"go"`
	// Runtimes is Docker's runtime table (`docker info`), so the report
	// shows the paths and any runtime arguments the numbers were made with.
	Runtimes string `json:"runtimes,omitempty"`
	// LoadBefore and LoadAfter are /proc/loadavg at start and end: the
	// machine is shared, and a busy neighbour shows up here.
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
}

// Benchmark is one measured quantity with its samples per runtime.
type Benchmark struct {
	Name  string `json:"name"`
	Group string `json:"group"`
	// Desc says what exactly is measured (shown in the report).
	Desc string `json:"desc"`
	Unit string `json:"unit"`
	// HigherIsBetter is true for throughputs, false for latencies and sizes.
	HigherIsBetter bool `json:"higher_is_better"`
	// Info marks a figure with no better direction, shown for context (the
	// CPUs a container used under a quota, the tasks it had): the report
	// gives it no arrow and leaves it out of the chart.
	Info bool `json:"info,omitempty"`
	// Samples maps runtime name to one value per repetition (or several,
	// for benchmarks that sample more than once per repetition).
	Samples map[string][]float64 `json:"samples"`
	// Errors maps runtime name to failures, one per failed sample.
	Errors map[string][]string `json:"errors,omitempty"`
}

// Add records one sample.
func (b *Benchmark) Add(runtime string, v float64) {
	if b.Samples == nil {
		b.Samples = map[string][]float64{}
	}
	b.Samples[runtime] = append(b.Samples[runtime], v)
}

// Fail records one failed sample, so the report can say why a cell is empty.
func (b *Benchmark) Fail(runtime string, err error) {
	if b.Errors == nil {
		b.Errors = map[string][]string{}
	}
	b.Errors[runtime] = append(b.Errors[runtime], err.Error())
}

// Stat summarises one runtime's samples. N is 0 when there are none, and
// then the other fields are NaN.
type Stat struct {
	N      int
	Median float64
	Min    float64
	Max    float64
}

// Summarize computes median, min and max. The median of an even count is
// the mean of the middle two, the usual convention.
func Summarize(samples []float64) Stat {
	var vs []float64
	for _, v := range samples {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return Stat{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	sort.Float64s(vs)
	n := len(vs)
	med := vs[n/2]
	if n%2 == 0 {
		med = (vs[n/2-1] + vs[n/2]) / 2
	}
	return Stat{N: n, Median: med, Min: vs[0], Max: vs[n-1]}
}

// Stat summarises the samples of one runtime.
func (b *Benchmark) Stat(runtime string) Stat {
	return Summarize(b.Samples[runtime])
}

// Ratio is median(athena)/median(other): the plain quotient of the values,
// whatever the unit's direction. NaN when either side is missing or the
// divisor is zero.
func (b *Benchmark) Ratio(other string) float64 {
	a, o := b.Stat(Athena), b.Stat(other)
	if a.N == 0 || o.N == 0 || o.Median == 0 {
		return math.NaN()
	}
	return a.Median / o.Median
}

// Cost is Ratio turned so that above 1 always means athena is worse
// (slower, bigger or less throughput): the inverse for throughputs. The
// chart plots it, so every bar reads the same way.
func (b *Benchmark) Cost(other string) float64 {
	r := b.Ratio(other)
	if b.HigherIsBetter && !math.IsNaN(r) {
		if r == 0 {
			return math.Inf(1)
		}
		return 1 / r
	}
	return r
}

// Load reads a stored run.
func Load(path string) (*Run, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Run
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// Save writes the run as indented JSON, atomically (temporary file +
// rename) so an interrupted run never leaves a truncated latest.json.
func (r *Run) Save(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
