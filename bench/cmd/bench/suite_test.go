package main

import (
	"reflect"
	"regexp"
	"sort"
	"testing"
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
		"tcp_crr_loopback", "redis_get", "mem_idle_anon"} {
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
