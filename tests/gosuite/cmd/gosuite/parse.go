package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// event is the subset of a test2json event (see `go doc test2json`) that the
// counting needs.
type event struct {
	Action string `json:"Action"`
	Test   string `json:"Test"`
	Output string `json:"Output"`
}

// tally is what one test binary's run amounted to.
type tally struct {
	passed, failed, skipped int
	// failures lists top-level tests that failed or started and never
	// finished (the binary died or timed out under them), sorted.
	failures []string
	// unfinished is the subset of failures that never reported an outcome.
	unfinished []string
	// timedOut is the testing package's own -test.timeout panic line.
	timedOut string
	// panicked is the first "panic:" line that is not a timeout.
	panicked string
}

// countEvents reads test2json events and counts top-level tests. Subtests are
// left out on purpose: their number depends on the host (table sizes, files
// in testdata) and a failing subtest already fails its parent.
func countEvents(r io.Reader) (tally, error) {
	var t tally
	state := map[string]string{} // top-level test -> last action seen
	var order []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil {
			return t, fmt.Errorf("test2json output: %w", err)
		}
		if ev.Action == "output" {
			noteOutput(&t, ev.Output)
		}
		if ev.Test == "" || strings.Contains(ev.Test, "/") {
			continue
		}
		switch ev.Action {
		case "run", "pass", "fail", "skip":
			if _, seen := state[ev.Test]; !seen {
				order = append(order, ev.Test)
			}
			state[ev.Test] = ev.Action
		}
	}
	if err := sc.Err(); err != nil {
		return t, err
	}
	for _, name := range order {
		switch state[name] {
		case "pass":
			t.passed++
		case "skip":
			t.skipped++
		case "fail":
			t.failed++
			t.failures = append(t.failures, name)
		case "run":
			// A test that started and never ended did not pass: the
			// binary crashed or was stopped while it ran.
			t.failed++
			t.failures = append(t.failures, name)
			t.unfinished = append(t.unfinished, name)
		}
	}
	sort.Strings(t.failures)
	return t, nil
}

// noteOutput remembers the lines that explain an abnormal end of the binary.
func noteOutput(t *tally, out string) {
	line := strings.TrimSpace(out)
	switch {
	case strings.HasPrefix(line, "panic: test timed out"):
		if t.timedOut == "" {
			t.timedOut = line
		}
	case strings.HasPrefix(line, "panic:"):
		if t.panicked == "" {
			t.panicked = line
		}
	}
}

// harnessError decides whether a run had a harness-level problem, given the
// tally and the exit status of `docker run` (the test binary's status passed
// through sh, or docker's own 125-127 when the container never ran). Test
// failures alone (status 1 with failing tests) are not an error.
func harnessError(t tally, exitCode int, killed bool, dockerStderr string) string {
	var msgs []string
	// A Go panic exits 2. The panic lines are only trusted then, since a
	// passing test may well log text that starts with "panic:".
	crashed := exitCode == 2
	switch {
	case killed:
		msgs = append(msgs, "harness timeout: container killed")
	case crashed && t.timedOut != "":
		msgs = append(msgs, t.timedOut)
	case crashed && t.panicked != "":
		msgs = append(msgs, "test binary crashed: "+t.panicked)
	case exitCode >= 125 && exitCode <= 127 && t.passed+t.failed+t.skipped == 0:
		msgs = append(msgs, fmt.Sprintf("docker run exit %d: %s", exitCode, firstLine(dockerStderr)))
	case exitCode == 1 && t.failed == 0:
		msgs = append(msgs, "test binary exited 1 without a failing test")
	case exitCode != 0 && exitCode != 1:
		msgs = append(msgs, fmt.Sprintf("test binary exited %d", exitCode))
	}
	if len(t.unfinished) > 0 {
		msgs = append(msgs, "unfinished: "+strings.Join(t.unfinished, ","))
	}
	return strings.Join(msgs, "; ")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	const max = 300
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}
