package main

import (
	"context"
	"errors"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/bench/internal/result"
)

// The suite's shape is checked here, never its timings.
func TestJobsWellFormed(t *testing.T) {
	for _, s := range []sizes{quickSizes, fullSizes} {
		seen := map[string]bool{}
		for _, j := range jobs(s) {
			if j.run == nil || len(j.metrics) == 0 {
				t.Fatalf("job %+v has no run func or metrics", j.metrics)
			}
			for _, m := range j.metrics {
				if seen[m.Name] {
					t.Errorf("metric %s defined twice", m.Name)
				}
				seen[m.Name] = true
				if m.Unit == "" || m.Desc == "" || m.Group == "" {
					t.Errorf("metric %s lacks unit, description or group", m.Name)
				}
			}
		}
	}
}

func TestQuickSubsetHasHeadlines(t *testing.T) {
	quick := map[string]bool{}
	for _, j := range jobs(quickSizes) {
		if j.quick {
			for _, m := range j.metrics {
				quick[m.Name] = true
			}
		}
	}
	for _, name := range []string{"syscall_getppid", "syscall_read", "fork_exec_wait", "start_busybox",
		"iperf3_loopback", "iperf3_host_to_container", "tcp_rr_loopback", "tcp_rr_host_to_container",
		"tcp_crr_loopback", "redis_get", "mem_idle_anon",
		"nn_redis_p99_ms", "nn_hog_iters_per_s", "cpus_0_5_used", "cpus_1_5_error_pct",
		"forkbomb_exec_p50_ms", "forkbomb_rm_ms"} {
		if !quick[name] {
			t.Errorf("-quick lacks %s", name)
		}
	}
}

func TestDescendants(t *testing.T) {
	tree := map[int]proc{
		1:  {"init", 0},
		10: {"containerd-shim", 1},
		11: {"exe", 10}, // sandbox
		12: {"exe", 10}, // gofer
		13: {"exe", 11}, // stub
		20: {"containerd-shim", 1},
		21: {"sleep", 20},
	}
	got := descendants(tree, 10)
	sort.Ints(got)
	if want := []int{10, 11, 12, 13}; !reflect.DeepEqual(got, want) {
		t.Errorf("descendants = %v, want %v", got, want)
	}
}

func TestOnlyMatchesAnyMetric(t *testing.T) {
	var names []string
	for _, j := range jobs(quickSizes) {
		if matchAny(regexp.MustCompile(`^tcp_rr_loopback_p99$`), j.metrics) {
			names = append(names, j.metrics[0].Name)
		}
	}
	if want := []string{"tcp_rr_loopback"}; !reflect.DeepEqual(names, want) {
		t.Errorf("-only on a second metric selected %v, want %v", names, want)
	}
}

// The scheduler groups: the metrics the report promises, all selected by
// one -only pattern, in the bare phase, and only in the first schedReps
// repetitions.
func TestSchedulerJobs(t *testing.T) {
	want := []string{
		"nn_redis_p50_ms", "nn_redis_p99_ms", "nn_redis_rps", "nn_hog_iters_per_s", "nn_redis_p99_idle_ms",
		"cpus_0_5_used", "cpus_0_5_error_pct", "cpus_0_5_spin_rate",
		"cpus_1_5_used", "cpus_1_5_error_pct", "cpus_1_5_spin_rate",
		"forkbomb_exec_p50_ms", "forkbomb_exec_max_ms", "forkbomb_exec_failed", "forkbomb_tasks", "forkbomb_rm_ms",
	}
	info := map[string]bool{"cpus_0_5_used": true, "cpus_1_5_used": true, "forkbomb_tasks": true}
	higher := map[string]bool{"nn_redis_rps": true, "nn_hog_iters_per_s": true, "cpus_0_5_spin_rate": true, "cpus_1_5_spin_rate": true}
	only := regexp.MustCompile(`^(nn_|cpus_|forkbomb_)`)
	for _, s := range []sizes{quickSizes, fullSizes} {
		var got []string
		for _, j := range jobs(s) {
			if !matchAny(only, j.metrics) {
				continue
			}
			if !j.quick || j.phase != phaseBare || j.reps != s.schedReps || s.schedReps < 1 {
				t.Errorf("%s: quick=%v phase=%v reps=%d, want quick, bare, %d", j.metrics[0].Name, j.quick, j.phase, j.reps, s.schedReps)
			}
			for _, m := range j.metrics {
				got = append(got, m.Name)
				if m.Info != info[m.Name] || m.HigherIsBetter != higher[m.Name] {
					t.Errorf("%s: info=%v higher=%v", m.Name, m.Info, m.HigherIsBetter)
				}
				if !strings.HasPrefix(m.Group, "scheduler: ") {
					t.Errorf("%s: group %q", m.Name, m.Group)
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("-only %s selected %v, want %v", only, got, want)
		}
		// The hogs must be able to outlast the loaded redis run, and the
		// quota window must end before spin does.
		if s.nnSpinSeconds < int(nnLead/time.Second)+5 || s.nnRequests <= 0 || s.cpusWindow < 1 || s.forkbombSeconds < 1 {
			t.Errorf("implausible scheduler sizes %+v", s)
		}
	}
	for _, p := range []string{"bench-nn-", "bench-cpus-", "bench-forkbomb-"} {
		found := false
		for _, q := range containerPrefixes {
			found = found || q == p
		}
		if !found {
			t.Errorf("containers %s* are not cleaned up by preflight/teardown", p)
		}
	}
}

// The scheduler groups in a full run must stay within about six minutes:
// an estimate from their fixed waits plus the start, warm-up and removal
// overheads measured on this machine (per runtime, on average: 5 s for
// the noisy neighbour's start, warm-up and unloaded run, 0.7 s per quota
// container, 1.5 s per fork bomb; a full-size run of one repetition took
// 2 min 39 s with 22 s of hogs).
func TestSchedulerBudget(t *testing.T) {
	s := fullSizes
	perRuntime := float64(s.nnSpinSeconds+5) + 2*(float64(s.cpusWindow+3)+0.7) + float64(s.forkbombSeconds) + 1.5
	if total := float64(s.schedReps*3) * perRuntime; total > 6*60 {
		t.Errorf("scheduler groups take about %.0f s in a full run, more than 6 min", total)
	}
}

// A job that measures some metrics and not others keeps the ones it has.
func TestRunJobPartial(t *testing.T) {
	d := &driver{runtimes: []string{"a", "b"}, sizes: sizes{reps: 1}}
	ms := []result.Benchmark{{Name: "x"}, {Name: "y"}}
	j := job{metrics: ms, run: func(ctx context.Context, tg *target) ([]float64, error) {
		if tg.runtime == "a" {
			return []float64{1, 2}, metricErrors{nil, errors.New("no y")}
		}
		return nil, errors.New("all gone")
	}}
	if err := d.runJob(context.Background(), 1, j, ms); err != nil {
		t.Fatal(err)
	}
	if got := ms[0].Samples["a"]; !reflect.DeepEqual(got, []float64{1}) {
		t.Errorf("x on a: samples %v, want [1]", got)
	}
	if len(ms[1].Samples["a"]) != 0 || !reflect.DeepEqual(ms[1].Errors["a"], []string{"no y"}) {
		t.Errorf("y on a: samples %v errors %v, want a failure", ms[1].Samples["a"], ms[1].Errors["a"])
	}
	for _, m := range ms {
		if len(m.Errors["b"]) != 1 || len(m.Samples["b"]) != 0 {
			t.Errorf("%s on b: want one failure, got %v %v", m.Name, m.Samples["b"], m.Errors["b"])
		}
	}
	if got := (metricErrors{nil, errors.New("p"), errors.New("q")}).Error(); got != "p; q" {
		t.Errorf("metricErrors.Error() = %q", got)
	}
}
