package result

import (
	"math"
	"path/filepath"
	"testing"
)

func TestSummarize(t *testing.T) {
	cases := []struct {
		in            []float64
		med, min, max float64
		n             int
	}{
		{[]float64{3, 1, 2}, 2, 1, 3, 3},
		{[]float64{4, 1, 3, 2}, 2.5, 1, 4, 4},
		{[]float64{7}, 7, 7, 7, 1},
		{[]float64{5, math.NaN(), 1}, 3, 1, 5, 2},
	}
	for _, c := range cases {
		s := Summarize(c.in)
		if s.N != c.n || s.Median != c.med || s.Min != c.min || s.Max != c.max {
			t.Errorf("Summarize(%v) = %+v, want n=%d med=%v min=%v max=%v", c.in, s, c.n, c.med, c.min, c.max)
		}
	}
	if s := Summarize(nil); s.N != 0 || !math.IsNaN(s.Median) {
		t.Errorf("Summarize(nil) = %+v, want N=0 and NaN", s)
	}
}

func TestRatioAndCost(t *testing.T) {
	lat := Benchmark{Name: "lat", Samples: map[string][]float64{
		Runc: {1, 1, 1}, Baseline: {10, 12, 8}, Athena: {5, 5, 6},
	}}
	if got := lat.Ratio(Baseline); got != 0.5 {
		t.Errorf("latency athena/baseline = %v, want 0.5", got)
	}
	if got := lat.Cost(Runc); got != 5 {
		t.Errorf("latency cost vs runc = %v, want 5", got)
	}
	thr := Benchmark{Name: "thr", HigherIsBetter: true, Samples: map[string][]float64{
		Runc: {100}, Athena: {25},
	}}
	if got := thr.Ratio(Runc); got != 0.25 {
		t.Errorf("throughput ratio = %v, want 0.25", got)
	}
	if got := thr.Cost(Runc); got != 4 {
		t.Errorf("throughput cost = %v, want 4 (athena has a quarter the throughput)", got)
	}
	if got := thr.Ratio(Baseline); !math.IsNaN(got) {
		t.Errorf("ratio with missing baseline = %v, want NaN", got)
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	r := &Run{Date: "2026-01-02T03:04:05Z", Mode: "quick", Reps: 1, Runtimes: []string{Runc, Athena}}
	b := Benchmark{Name: "x", Unit: "ns"}
	b.Add(Runc, 1.5)
	b.Fail(Athena, errString("boom"))
	r.Benchmarks = append(r.Benchmarks, b)
	path := filepath.Join(t.TempDir(), "r.json")
	if err := r.Save(path); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Benchmarks[0].Samples[Runc][0] != 1.5 || got.Benchmarks[0].Errors[Athena][0] != "boom" {
		t.Errorf("round trip lost data: %+v", got.Benchmarks[0])
	}
}

type errString string

func (e errString) Error() string { return string(e) }
