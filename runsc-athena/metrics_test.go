package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/sentry"
)

// metricsFixture is a status directory: a sandbox with a swarm (a pod: a
// member's model is in its status; a policy name that needs escaping), one
// without, and one not started yet.
func metricsFixture(t *testing.T) (dir string, now time.Time) {
	dir = t.TempDir()
	st := fakeStatus(testID, 10)
	st.Policy = "/etc/athena/\"odd\" \\ name\nwith a newline.yaml"
	st.Swarm.Degraded = true
	st.Swarm.Why = "agent rate stopped"
	st.Swarm.Models = append(st.Swarm.Models, sentry.ModelStatus{Container: "member", Mode: "enforce", Windows: 200000, Stable: true, StableAfter: 100000, Pairs: 90, Bytes: 4096, Tasks: 1})
	// An agent reported twice must not make a duplicate series.
	st.Swarm.Agents = append(st.Swarm.Agents, st.Swarm.Agents[0])
	writeStatus(t, filepath.Join(dir, testID+".json"), st)
	off := fakeStatus(testID2, 3)
	off.Swarm = nil
	writeStatus(t, filepath.Join(dir, testID2+".json"), off)
	os.WriteFile(filepath.Join(dir, "starting.json"), nil, 0o644)
	return dir, testEpoch.Add(10*time.Second + 1500*time.Millisecond)
}

const metricsGolden = `# HELP athena_container_info Sandboxes reporting a status (always 1), with the gate's mode and policy of the sandbox's root container.
# TYPE athena_container_info gauge
athena_container_info{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",mode="enforce",policy="/etc/athena/\"odd\" \\ name\nwith a newline.yaml",policy_digest="0123456789abcdef0123456789abcdef"} 1
athena_container_info{container="77aa00bb11cc22dd33ee44ff5566778899aabbccddeeff001122334455667788",mode="enforce",policy="/etc/athena/web.yaml",policy_digest="0123456789abcdef0123456789abcdef"} 1
# HELP athena_status_age_seconds Seconds since the sandbox last rewrote its status file (at most once a second, only when something changed).
# TYPE athena_status_age_seconds gauge
athena_status_age_seconds{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 1.5
athena_status_age_seconds{container="77aa00bb11cc22dd33ee44ff5566778899aabbccddeeff001122334455667788"} 8.5
# HELP athena_gate_denied_total System calls the gate refused (errno or kill).
# TYPE athena_gate_denied_total counter
athena_gate_denied_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 20
athena_gate_denied_total{container="77aa00bb11cc22dd33ee44ff5566778899aabbccddeeff001122334455667788"} 6
# HELP athena_gate_killed_total Tasks the gate killed.
# TYPE athena_gate_killed_total counter
athena_gate_killed_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 0
athena_gate_killed_total{container="77aa00bb11cc22dd33ee44ff5566778899aabbccddeeff001122334455667788"} 0
# HELP athena_gate_recorded_total Gate events pushed into the ring for the decision record.
# TYPE athena_gate_recorded_total counter
athena_gate_recorded_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 1000
athena_gate_recorded_total{container="77aa00bb11cc22dd33ee44ff5566778899aabbccddeeff001122334455667788"} 300
# HELP athena_gate_dropped_total Gate events dropped because the ring was full (the app never waits).
# TYPE athena_gate_dropped_total counter
athena_gate_dropped_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 30
athena_gate_dropped_total{container="77aa00bb11cc22dd33ee44ff5566778899aabbccddeeff001122334455667788"} 9
# HELP athena_record_written_total Records written to the host's decision record.
# TYPE athena_record_written_total counter
athena_record_written_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 1000
athena_record_written_total{container="77aa00bb11cc22dd33ee44ff5566778899aabbccddeeff001122334455667788"} 300
# HELP athena_record_lost_total Records lost on the way to the host's decision record (full disk, I/O error, size bound).
# TYPE athena_record_lost_total counter
athena_record_lost_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 0
athena_record_lost_total{container="77aa00bb11cc22dd33ee44ff5566778899aabbccddeeff001122334455667788"} 0
# HELP athena_policy_updates_total Policies replaced live.
# TYPE athena_policy_updates_total counter
athena_policy_updates_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 1
athena_policy_updates_total{container="77aa00bb11cc22dd33ee44ff5566778899aabbccddeeff001122334455667788"} 1
# HELP athena_policy_refused_total Live policy replacements the sandbox refused.
# TYPE athena_policy_refused_total counter
athena_policy_refused_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 0
athena_policy_refused_total{container="77aa00bb11cc22dd33ee44ff5566778899aabbccddeeff001122334455667788"} 0
# HELP athena_swarm_degraded 1 when an agent could not be kept running and the swarm degraded (fail-open or fail-closed), else 0.
# TYPE athena_swarm_degraded gauge
athena_swarm_degraded{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 1
# HELP athena_swarm_decisions_total Swarm decisions recorded.
# TYPE athena_swarm_decisions_total counter
athena_swarm_decisions_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 20
# HELP athena_swarm_actions_total Actions the swarm carried out, by action (delay, deny, kill).
# TYPE athena_swarm_actions_total counter
athena_swarm_actions_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",action="delay"} 10
athena_swarm_actions_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",action="deny"} 10
athena_swarm_actions_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",action="kill"} 0
athena_swarm_actions_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",action="record"} 4
# HELP athena_swarm_calls_total System calls the swarm's actions delayed or denied, by outcome (delayed, denied).
# TYPE athena_swarm_calls_total counter
athena_swarm_calls_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",outcome="delayed"} 300
athena_swarm_calls_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",outcome="denied"} 10
# HELP athena_swarm_agent_up 1 when the agent is running, 0 when it is restarting, stopped or failed.
# TYPE athena_swarm_agent_up gauge
athena_swarm_agent_up{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="rules"} 1
athena_swarm_agent_up{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="selfmodel"} 1
athena_swarm_agent_up{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="rate"} 0
# HELP athena_swarm_agent_restarts_total Restarts of the agent by its supervisor.
# TYPE athena_swarm_agent_restarts_total counter
athena_swarm_agent_restarts_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="rules"} 0
athena_swarm_agent_restarts_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="selfmodel"} 1
athena_swarm_agent_restarts_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="rate"} 5
# HELP athena_swarm_agent_panics_total Panics of the agent, recovered by its supervisor.
# TYPE athena_swarm_agent_panics_total counter
athena_swarm_agent_panics_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="rules"} 0
athena_swarm_agent_panics_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="selfmodel"} 1
athena_swarm_agent_panics_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="rate"} 6
# HELP athena_swarm_agent_events_total Events the agent handled.
# TYPE athena_swarm_agent_events_total counter
athena_swarm_agent_events_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="rules"} 10000
athena_swarm_agent_events_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="selfmodel"} 10000
athena_swarm_agent_events_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="rate"} 100
# HELP athena_swarm_agent_decisions_total Decisions the agent made.
# TYPE athena_swarm_agent_decisions_total counter
athena_swarm_agent_decisions_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="rules"} 10
athena_swarm_agent_decisions_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="selfmodel"} 0
athena_swarm_agent_decisions_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",agent="rate"} 0
# HELP athena_swarm_ring_capacity Capacity of the ring, in events.
# TYPE athena_swarm_ring_capacity gauge
athena_swarm_ring_capacity{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",ring="syscalls"} 4096
athena_swarm_ring_capacity{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",ring="lifecycle"} 256
# HELP athena_swarm_ring_len Events waiting in the ring.
# TYPE athena_swarm_ring_len gauge
athena_swarm_ring_len{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",ring="syscalls"} 1024
athena_swarm_ring_len{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",ring="lifecycle"} 0
# HELP athena_swarm_ring_pushed_total Events pushed into the ring.
# TYPE athena_swarm_ring_pushed_total counter
athena_swarm_ring_pushed_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",ring="syscalls"} 10010
athena_swarm_ring_pushed_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",ring="lifecycle"} 100
# HELP athena_swarm_ring_drained_total Events taken out of the ring for the agents.
# TYPE athena_swarm_ring_drained_total counter
athena_swarm_ring_drained_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",ring="syscalls"} 10000
athena_swarm_ring_drained_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",ring="lifecycle"} 100
# HELP athena_swarm_ring_dropped_total Events dropped because the ring was full.
# TYPE athena_swarm_ring_dropped_total counter
athena_swarm_ring_dropped_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",ring="syscalls"} 70
athena_swarm_ring_dropped_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff",ring="lifecycle"} 0
# HELP athena_swarm_tasks Tasks (threads) the swarm tracks.
# TYPE athena_swarm_tasks gauge
athena_swarm_tasks{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 12
# HELP athena_swarm_task_bytes Memory of the swarm's per-task state, all agents together, in bytes.
# TYPE athena_swarm_task_bytes gauge
athena_swarm_task_bytes{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 1680
# HELP athena_swarm_state_bytes Estimated memory of the swarm's whole state (models, tasks, rings), in bytes.
# TYPE athena_swarm_state_bytes gauge
athena_swarm_state_bytes{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 3145728
# HELP athena_swarm_heap_bytes The sandbox's Go heap in use, in bytes.
# TYPE athena_swarm_heap_bytes gauge
athena_swarm_heap_bytes{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 41943040
# HELP athena_swarm_model_windows Syscall windows the container's sense-of-self model has seen.
# TYPE athena_swarm_model_windows gauge
athena_swarm_model_windows{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 50000
athena_swarm_model_windows{container="member"} 200000
# HELP athena_swarm_model_stable 1 when the container's sense-of-self model is stable (no new pair for its stable_after windows), else 0.
# TYPE athena_swarm_model_stable gauge
athena_swarm_model_stable{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 0
athena_swarm_model_stable{container="member"} 1
# HELP athena_swarm_model_pairs Lookahead pairs in the container's sense-of-self model.
# TYPE athena_swarm_model_pairs gauge
athena_swarm_model_pairs{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 812
athena_swarm_model_pairs{container="member"} 90
# HELP athena_swarm_model_tasks Tasks the container's sense-of-self model follows.
# TYPE athena_swarm_model_tasks gauge
athena_swarm_model_tasks{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 7
athena_swarm_model_tasks{container="member"} 1
# HELP athena_swarm_model_bytes Size of the container's sense-of-self model, in bytes.
# TYPE athena_swarm_model_bytes gauge
athena_swarm_model_bytes{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 20480
athena_swarm_model_bytes{container="member"} 4096
# HELP athena_swarm_model_anomalies_total Anomalous windows the container's sense-of-self model found.
# TYPE athena_swarm_model_anomalies_total counter
athena_swarm_model_anomalies_total{container="3f2a9c1b0d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff"} 10
athena_swarm_model_anomalies_total{container="member"} 0
`

func TestMetricsGolden(t *testing.T) {
	dir, now := metricsFixture(t)
	var warnings []error
	e, err := gatherMetrics(dir, nil, nil, now, func(err error) { warnings = append(warnings, err) })
	if err != nil || len(warnings) != 0 {
		t.Fatalf("gather: %v, warnings %v", err, warnings)
	}
	var b bytes.Buffer
	if _, err := e.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != metricsGolden {
		gl, wl := strings.Split(got, "\n"), strings.Split(metricsGolden, "\n")
		for i := range max(len(gl), len(wl)) {
			g, w := "", ""
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("line %d:\n got %s\nwant %s", i+1, g, w)
				break
			}
		}
		t.Logf("full output:\n%s", got)
	}
	for _, err := range lintExposition(b.String()) {
		t.Error(err)
	}
}

func TestMetricsOfNamedContainersAndBadFiles(t *testing.T) {
	dir, now := metricsFixture(t)
	os.WriteFile(filepath.Join(dir, "garbled.json"), []byte("{not json"), 0o644)
	var warnings []error
	e, err := gatherMetrics(dir, nil, nil, now, func(err error) { warnings = append(warnings, err) })
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0].Error(), "garbled.json") {
		t.Fatalf("gather with a garbled file: %v, warnings %v", err, warnings)
	}
	var all bytes.Buffer
	e.WriteTo(&all)
	if all.String() != metricsGolden {
		t.Error("a garbled status file changed the others' metrics")
	}
	// Named: one container (a pod member names its sandbox's file once).
	status := func(id string) string {
		if id == "member" {
			id = testID2
		}
		return filepath.Join(dir, id+".json")
	}
	e, err = gatherMetrics(dir, []string{"member", testID2}, status, now, func(err error) { t.Error(err) })
	if err != nil {
		t.Fatal(err)
	}
	var one bytes.Buffer
	e.WriteTo(&one)
	if strings.Contains(one.String(), testID) || strings.Count(one.String(), "athena_gate_denied_total{") != 1 {
		t.Errorf("named containers:\n%s", one.String())
	}
	for _, err := range lintExposition(one.String()) {
		t.Error(err)
	}
	// No status files at all: an empty exposition, which is valid.
	e, err = gatherMetrics(filepath.Join(dir, "none"), nil, nil, now, func(err error) { t.Error(err) })
	if err != nil {
		t.Fatal(err)
	}
	var none bytes.Buffer
	if e.WriteTo(&none); none.Len() != 0 {
		t.Errorf("no containers: %q", none.String())
	}
}

func TestMetricsHandler(t *testing.T) {
	dir, _ := metricsFixture(t)
	srv := httptest.NewServer(metricsHandler(dir, nil, nil, func(err error) { t.Error(err) }))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("GET /metrics: %s, %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(string(body), "# TYPE athena_gate_denied_total counter\n") {
		t.Errorf("body:\n%s", body)
	}
	for _, err := range lintExposition(string(body)) {
		t.Error(err)
	}
	for _, c := range []struct {
		method, path string
		code         int
	}{{"POST", "/metrics", 405}, {"GET", "/", 404}, {"GET", "/metrics/x", 404}, {"HEAD", "/metrics", 200}} {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, resp.StatusCode, c.code)
		}
	}
}

func TestEscapeLabelValue(t *testing.T) {
	for in, want := range map[string]string{`plain`: `plain`, `a"b`: `a\"b`, `a\b`: `a\\b`, "a\nb": `a\nb`, `\"`: `\\\"`} {
		if got := escapeLabelValue(in); got != want {
			t.Errorf("escapeLabelValue(%q) = %q, want %q", in, got, want)
		}
		if got, err := unescapeLabelValue(escapeLabelValue(in)); err != nil || got != in {
			t.Errorf("round trip of %q: %q, %v", in, got, err)
		}
	}
}

// lintExposition checks text against the Prometheus text format 0.0.4 and
// its naming rules: valid names; one HELP and one TYPE per family, before
// its samples; a family's lines together; every sample's family typed;
// counters and only counters named *_total; label values escaped; no
// duplicate label in a sample and no duplicate series; values that parse.
func lintExposition(text string) []error {
	var errs []error
	bad := func(n int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("line %d: "+format, append([]any{n}, args...)...))
	}
	metricName := regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName := regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	types := map[string]string{}
	helps := map[string]bool{}
	done := map[string]bool{} // families whose lines ended
	series := map[string]bool{}
	current := ""
	enter := func(n int, name string) {
		if name == current {
			return
		}
		if done[name] {
			bad(n, "family %s appears again after other families", name)
		}
		if current != "" {
			done[current] = true
		}
		current = name
	}
	if text != "" && !strings.HasSuffix(text, "\n") {
		errs = append(errs, fmt.Errorf("the exposition does not end with a line feed"))
	}
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		n := i + 1
		if line == "" {
			if text != "" {
				bad(n, "empty line")
			}
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			kw, rest, _ := strings.Cut(rest, " ")
			name, arg, _ := strings.Cut(rest, " ")
			switch kw {
			case "HELP":
				enter(n, name)
				if helps[name] {
					bad(n, "second HELP for %s", name)
				}
				helps[name] = true
				if _, err := unescapeHelp(arg); err != nil {
					bad(n, "HELP of %s: %v", name, err)
				}
			case "TYPE":
				enter(n, name)
				if _, ok := types[name]; ok {
					bad(n, "second TYPE for %s", name)
				}
				if !slices.Contains([]string{"counter", "gauge", "histogram", "summary", "untyped"}, arg) {
					bad(n, "unknown type %q", arg)
				}
				if (arg == "counter") != strings.HasSuffix(name, "_total") {
					bad(n, "%s %s: counters, and only counters, end in _total", arg, name)
				}
				types[name] = arg
			}
			if !metricName.MatchString(name) {
				bad(n, "bad metric name %q", name)
			}
			continue
		}
		name, labels, value, err := parseSampleLine(line)
		if err != nil {
			bad(n, "%v: %s", err, line)
			continue
		}
		enter(n, name)
		if !metricName.MatchString(name) {
			bad(n, "bad metric name %q", name)
		}
		if _, ok := types[name]; !ok {
			bad(n, "sample of %s before (or without) its TYPE line", name)
		}
		if !helps[name] {
			bad(n, "sample of %s without HELP", name)
		}
		seen := map[string]bool{}
		var key []string
		for _, l := range labels {
			if !labelName.MatchString(l[0]) || strings.HasPrefix(l[0], "__") {
				bad(n, "bad label name %q", l[0])
			}
			if seen[l[0]] {
				bad(n, "label %s twice", l[0])
			}
			seen[l[0]] = true
			key = append(key, l[0]+"="+strconv.Quote(l[1]))
		}
		slices.Sort(key)
		k := name + "{" + strings.Join(key, ",") + "}"
		if series[k] {
			bad(n, "duplicate series %s", k)
		}
		series[k] = true
		if value != "NaN" && value != "+Inf" && value != "-Inf" {
			if _, err := strconv.ParseFloat(value, 64); err != nil {
				bad(n, "value %q: %v", value, err)
			}
		}
	}
	return errs
}

// parseSampleLine splits `name{a="x",b="y"} value`.
func parseSampleLine(line string) (name string, labels [][2]string, value string, err error) {
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return "", nil, "", fmt.Errorf("no metric name")
	}
	name, rest := line[:i], line[i:]
	if strings.HasPrefix(rest, "{") {
		rest = rest[1:]
		for !strings.HasPrefix(rest, "}") {
			eq := strings.Index(rest, `="`)
			if eq <= 0 {
				return "", nil, "", fmt.Errorf("bad label")
			}
			lname := rest[:eq]
			rest = rest[eq+2:]
			// The value ends at the first unescaped quote.
			end := -1
			for j := 0; j < len(rest); j++ {
				if rest[j] == '\\' {
					j++
					continue
				}
				if rest[j] == '"' {
					end = j
					break
				}
			}
			if end < 0 {
				return "", nil, "", fmt.Errorf("unterminated label value")
			}
			v, err := unescapeLabelValue(rest[:end])
			if err != nil {
				return "", nil, "", err
			}
			labels = append(labels, [2]string{lname, v})
			rest = rest[end+1:]
			if r, ok := strings.CutPrefix(rest, ","); ok {
				rest = r
			} else if !strings.HasPrefix(rest, "}") {
				return "", nil, "", fmt.Errorf("labels not separated by commas")
			}
		}
		rest = rest[1:]
	}
	fields := strings.Split(strings.TrimPrefix(rest, " "), " ")
	if !strings.HasPrefix(rest, " ") || len(fields) < 1 || len(fields) > 2 || fields[0] == "" {
		return "", nil, "", fmt.Errorf("want one space, a value and an optional timestamp")
	}
	return name, labels, fields[0], nil
}

// unescapeLabelValue undoes the format's escapes (\\, \", \n); any other
// escape, or a raw line feed, is an error.
func unescapeLabelValue(s string) (string, error) {
	return unescape(s, `\"n`)
}

// unescapeHelp undoes HELP's escapes (\\, \n).
func unescapeHelp(s string) (string, error) {
	return unescape(s, `\n`)
}

func unescape(s, allowed string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\n' {
			return "", fmt.Errorf("raw line feed")
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) || !strings.ContainsRune(allowed, rune(s[i])) {
			return "", fmt.Errorf("bad escape in %q", s)
		}
		if s[i] == 'n' {
			b.WriteByte('\n')
		} else {
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}

func TestFormatValue(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1.5: "1.5", 3145728: "3145728", 1 << 60: "1.152921504606847e+18", math.NaN(): "NaN", math.Inf(1): "+Inf", -2: "-2"} {
		if got := formatValue(v); got != want {
			t.Errorf("formatValue(%v) = %q, want %q", v, got, want)
		}
	}
}

// The checker itself finds what it is meant to find.
func TestLintExpositionCatches(t *testing.T) {
	const help = "# HELP a_total h\n# TYPE a_total counter\n"
	for text, want := range map[string]string{
		"# HELP a h\n# TYPE a counter\na 1\n":                 "end in _total",
		"# HELP a_total h\n# TYPE a_total gauge\na_total 1\n": "end in _total",
		"a_total 1\n": "without) its TYPE",
		help + "a_total{c=\"x\"} 1\na_total{c=\"x\"} 2\n":     "duplicate series",
		help + "a_total{c=\"x\",c=\"y\"} 1\n":                 "label c twice",
		help + "a_total{c=\"x\\t\"} 1\n":                      "bad escape",
		help + "a_total{c=\"x\"} one\n":                       "value",
		help + "# TYPE a_total counter\n":                     "second TYPE",
		help + "# HELP b h\n# TYPE b gauge\nb 1\na_total 1\n": "appears again",
		help + "a_total{c=\"x\"}  1\n":                        "one space",
		help + "a_total 1\n\n":                                "empty line",
		"# HELP 1a h\n# TYPE 1a gauge\n":                      "bad metric name",
		help + "a_total{__c=\"x\"} 1\n":                       "bad label name",
		"# HELP a_total h\n# TYPE a_total counter\na_total{c=\"x\"} 1\n" + "a_total{c=\"y\"} 2": "line feed",
	} {
		errs := lintExposition(text)
		if !strings.Contains(fmt.Sprint(errs), want) {
			t.Errorf("lint of %q: %v, want %q", text, errs, want)
		}
	}
}

func TestMetricsOfTheFaultAndPacketPaths(t *testing.T) {
	dir := t.TempDir()
	st := fakeStatus(testID, 10)
	st.Swarm.Memory = &sentry.MemoryStatus{Platform: "athena", Faults: true, FaultCount: 120, ExecFaults: 20, WXRequests: 1, Usage: map[string]uint64{testID: 1 << 20}}
	st.Swarm.Network = &sentry.NetworkStatus{Stack: "netstack", Filter: true, Flows: 7, Refused: 2, Blocked: 1, Packets: 99, Blocks: []sentry.BlockStatus{{Remote: "10.0.0.1"}}}
	st.Swarm.Sched = &sentry.SchedStatus{CPUs: 2, Period: "100ms", Holds: 42, Containers: []sentry.SchedContainerStatus{
		{Container: testID, Mode: "enforce", Weight: 1024, Quota: 0.5, Used: 0.5, RunNS: 1_500_000_000, WaitNS: 2_000_000_000, ThrottledNS: 250_000_000}}}
	writeStatus(t, filepath.Join(dir, testID+".json"), st)
	e, err := gatherMetrics(dir, nil, nil, testEpoch.Add(10*time.Second), func(err error) { t.Error(err) })
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := e.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	c := `{container="` + testID + `"`
	for _, want := range []string{
		"athena_faults_watched" + c + "} 1",
		"athena_faults_total" + c + `,access="data"} 100`,
		"athena_faults_total" + c + `,access="exec"} 20`,
		"athena_wx_requests_total" + c + "} 1",
		"athena_resident_bytes" + c + "} 1048576",
		"athena_net_filter" + c + "} 1",
		"athena_net_flows_total" + c + `,outcome="refused"} 2`,
		"athena_net_packets_total" + c + "} 99",
		"athena_net_blocks" + c + "} 1",
		"athena_sched_run_seconds_total" + c + "} 1.5",
		"athena_sched_wait_seconds_total" + c + "} 2",
		"athena_sched_throttled_seconds_total" + c + "} 0.25",
		"athena_sched_used_cpus" + c + "} 0.5",
		"athena_sched_quota_cpus" + c + "} 0.5",
		"athena_sched_holds_total" + c + "} 42",
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, err := range lintExposition(b.String()) {
		t.Error(err)
	}
	if t.Failed() {
		t.Logf("%s", b.String())
	}
}
