package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestCountEvents(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"start","Package":"os"}`,
		`{"Action":"run","Package":"os","Test":"TestA"}`,
		`{"Action":"pass","Package":"os","Test":"TestA"}`,
		`{"Action":"run","Package":"os","Test":"TestB"}`,
		`{"Action":"run","Package":"os","Test":"TestB/sub"}`,
		`{"Action":"fail","Package":"os","Test":"TestB/sub"}`,
		`{"Action":"fail","Package":"os","Test":"TestB"}`,
		`{"Action":"run","Package":"os","Test":"TestC"}`,
		`{"Action":"skip","Package":"os","Test":"TestC"}`,
		`{"Action":"run","Package":"os","Test":"TestD"}`,
		`{"Action":"output","Package":"os","Output":"panic: test timed out after 1s\n"}`,
		`{"Action":"fail","Package":"os"}`,
		`not json is ignored`,
	}, "\n")
	got, err := countEvents(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got.passed != 1 || got.failed != 2 || got.skipped != 1 {
		t.Errorf("counts = %d/%d/%d, want 1/2/1", got.passed, got.failed, got.skipped)
	}
	if want := []string{"TestB", "TestD"}; !reflect.DeepEqual(got.failures, want) {
		t.Errorf("failures = %v, want %v", got.failures, want)
	}
	if want := []string{"TestD"}; !reflect.DeepEqual(got.unfinished, want) {
		t.Errorf("unfinished = %v, want %v", got.unfinished, want)
	}
	if e := harnessError(got, 2, false, ""); !strings.Contains(e, "timed out") || !strings.Contains(e, "TestD") {
		t.Errorf("harnessError = %q, want timeout naming TestD", e)
	}
}

func TestHarnessError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		t      tally
		code   int
		killed bool
		want   string
	}{
		{"clean", tally{passed: 3}, 0, false, ""},
		{"test failures are not harness errors", tally{passed: 3, failed: 1}, 1, false, ""},
		{"exit 1 without failures", tally{passed: 3}, 1, false, "without a failing test"},
		{"docker could not start", tally{}, 125, false, "docker run exit 125"},
		{"killed", tally{passed: 1}, 137, true, "harness timeout"},
		{"panic line ignored when exit 0", tally{passed: 1, panicked: "panic: x"}, 0, false, ""},
		{"crash", tally{passed: 1, panicked: "panic: x"}, 2, false, "crashed: panic: x"},
	} {
		got := harnessError(tc.t, tc.code, tc.killed, "docker: error")
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%s: harnessError = %q, want %q", tc.name, got, tc.want)
		}
	}
}
