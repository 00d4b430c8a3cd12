package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/athenaos/athena/sentry"
)

// Prometheus metrics of the running sandboxes, from their status files,
// in the text exposition format (version 0.0.4), written by hand: one
// HELP and one TYPE line per family, the family's samples together, label
// values escaped, counters named *_total.

// metricsContentType is the Content-Type of the text format.
const metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

// metricDef declares a metric family. All families are declared here,
// once, like gVisor's metrics "statically defined at init".
type metricDef struct {
	name, typ, help string
}

const (
	counter = "counter"
	gauge   = "gauge"
)

// metricDefs are the families, in the order they are written.
var metricDefs = []metricDef{
	{"athena_container_info", gauge, "Sandboxes reporting a status (always 1), with the gate's mode and policy of the sandbox's root container."},
	{"athena_status_age_seconds", gauge, "Seconds since the sandbox last rewrote its status file (at most once a second, only when something changed)."},
	{"athena_gate_denied_total", counter, "System calls the gate refused (errno or kill)."},
	{"athena_gate_killed_total", counter, "Tasks the gate killed."},
	{"athena_gate_recorded_total", counter, "Gate events pushed into the ring for the decision record."},
	{"athena_gate_dropped_total", counter, "Gate events dropped because the ring was full (the app never waits)."},
	{"athena_record_written_total", counter, "Records written to the host's decision record."},
	{"athena_record_lost_total", counter, "Records lost on the way to the host's decision record (full disk, I/O error, size bound)."},
	{"athena_policy_updates_total", counter, "Policies replaced live."},
	{"athena_policy_refused_total", counter, "Live policy replacements the sandbox refused."},
	{"athena_swarm_degraded", gauge, "1 when an agent could not be kept running and the swarm degraded (fail-open or fail-closed), else 0."},
	{"athena_swarm_decisions_total", counter, "Swarm decisions recorded."},
	{"athena_swarm_actions_total", counter, "Actions the swarm carried out, by action (delay, deny, kill)."},
	{"athena_swarm_calls_total", counter, "System calls the swarm's actions delayed or denied, by outcome (delayed, denied)."},
	{"athena_swarm_agent_up", gauge, "1 when the agent is running, 0 when it is restarting, stopped or failed."},
	{"athena_swarm_agent_restarts_total", counter, "Restarts of the agent by its supervisor."},
	{"athena_swarm_agent_panics_total", counter, "Panics of the agent, recovered by its supervisor."},
	{"athena_swarm_agent_events_total", counter, "Events the agent handled."},
	{"athena_swarm_agent_decisions_total", counter, "Decisions the agent made."},
	{"athena_swarm_ring_capacity", gauge, "Capacity of the ring, in events."},
	{"athena_swarm_ring_len", gauge, "Events waiting in the ring."},
	{"athena_swarm_ring_pushed_total", counter, "Events pushed into the ring."},
	{"athena_swarm_ring_drained_total", counter, "Events taken out of the ring for the agents."},
	{"athena_swarm_ring_dropped_total", counter, "Events dropped because the ring was full."},
	{"athena_swarm_tasks", gauge, "Tasks (threads) the swarm tracks."},
	{"athena_faults_watched", gauge, "1 when the sandbox runs on an athena platform and its page faults reach the swarm, else 0."},
	{"athena_faults_total", counter, "Page faults the sentry handled, by access (exec: executable faults)."},
	{"athena_wx_requests_total", counter, "Mappings asked for with write and execute at once."},
	{"athena_resident_bytes", gauge, "The container's resident memory at its latest sample, in bytes."},
	{"athena_net_filter", gauge, "1 when the packet filter is in the sandbox's network stack, else 0 (--network=host, network.filter: off)."},
	{"athena_net_flows_total", counter, "Flows by outcome: accepted (new), refused by the egress rules, blocked by a swarm block."},
	{"athena_net_packets_total", counter, "Packets the filter saw (each once per direction)."},
	{"athena_net_blocks", gauge, "Blocks in force (carried network decisions)."},
	{"athena_sched_run_seconds_total", counter, "CPU time of the container's live tasks (their share of the sentry's included), in seconds."},
	{"athena_sched_wait_seconds_total", counter, "Time the container's live tasks spent blocked (sampled every 5ms), in seconds."},
	{"athena_sched_throttled_seconds_total", counter, "Time the scheduler held the container's live tasks, in seconds."},
	{"athena_sched_used_cpus", gauge, "CPUs the container used in the scheduler's latest period."},
	{"athena_sched_quota_cpus", gauge, "The container's CPU quota as the scheduler enforces it (0: none)."},
	{"athena_heal_exits_total", counter, "Exits of a process athena init supervises (main or a service), as the healer agent saw them."},
	{"athena_heal_restarts_total", counter, "Restarts athena init was to make of a supervised process."},
	{"athena_heal_given_up", gauge, "1 if athena init gave up on the process (restart intensity spent)."},
	{"athena_heal_checkpoints_total", counter, "Checkpoints of the sandbox the keeper took (outcome ok or failed)."},
	{"athena_heal_recoveries_total", counter, "Sandboxes the keeper restored from a checkpoint (recoveries and rollbacks)."},
	{"athena_heal_last_checkpoint_seconds", gauge, "How long the keeper's latest checkpoint took, in seconds."},
	{"athena_heal_last_recovery_seconds", gauge, "How long the keeper's latest recovery took, in seconds."},
	{"athena_sched_holds_total", counter, "Holds the scheduler published (a task held for part of a period)."},
	{"athena_swarm_task_bytes", gauge, "Memory of the swarm's per-task state, all agents together, in bytes."},
	{"athena_swarm_state_bytes", gauge, "Estimated memory of the swarm's whole state (models, tasks, rings), in bytes."},
	{"athena_swarm_heap_bytes", gauge, "The sandbox's Go heap in use, in bytes."},
	{"athena_swarm_model_windows", gauge, "Syscall windows the container's sense-of-self model has seen."},
	{"athena_swarm_model_stable", gauge, "1 when the container's sense-of-self model is stable (no new pair for its stable_after windows), else 0."},
	{"athena_swarm_model_pairs", gauge, "Lookahead pairs in the container's sense-of-self model."},
	{"athena_swarm_model_tasks", gauge, "Tasks the container's sense-of-self model follows."},
	{"athena_swarm_model_bytes", gauge, "Size of the container's sense-of-self model, in bytes."},
	{"athena_swarm_model_anomalies_total", counter, "Anomalous windows the container's sense-of-self model found."},
}

// exposition collects samples and writes them in the text format.
type exposition struct {
	samples map[string][]metricSample // by family name
	series  map[string]bool           // name{labels}, to refuse duplicates
}

type metricSample struct {
	labels string // `{a="x",b="y"}` or empty
	value  string
}

func newExposition() *exposition {
	return &exposition{samples: map[string][]metricSample{}, series: map[string]bool{}}
}

// add adds a sample of family name; labels are name, value pairs. A
// series already there is left as it is (two agents of one name in a
// status would otherwise make the exposition invalid).
func (e *exposition) add(name string, value float64, labels ...string) {
	if !slices.ContainsFunc(metricDefs, func(d metricDef) bool { return d.name == name }) || len(labels)%2 != 0 {
		panic(fmt.Sprintf("metrics: undeclared family %q or odd labels %q", name, labels))
	}
	var b strings.Builder
	for i := 0; i < len(labels); i += 2 {
		if i == 0 {
			b.WriteByte('{')
		} else {
			b.WriteByte(',')
		}
		b.WriteString(labels[i])
		b.WriteString(`="`)
		b.WriteString(escapeLabelValue(labels[i+1]))
		b.WriteByte('"')
	}
	if b.Len() > 0 {
		b.WriteByte('}')
	}
	key := name + b.String()
	if e.series[key] {
		return
	}
	e.series[key] = true
	e.samples[name] = append(e.samples[name], metricSample{b.String(), formatValue(value)})
}

func (e *exposition) addUint(name string, value uint64, labels ...string) {
	e.add(name, float64(value), labels...)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// escapeLabelValue escapes a label value: backslash, double quote and
// line feed.
func escapeLabelValue(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s)
}

// escapeHelp escapes HELP text: backslash and line feed.
func escapeHelp(s string) string {
	return strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(s)
}

// formatValue writes a sample value as Go's ParseFloat and Prometheus
// read it; integers (exact below 2^53) without an exponent.
func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == math.Trunc(v) && math.Abs(v) < 1<<53:
		return strconv.FormatFloat(v, 'f', -1, 64) // 3145728, not 3.145728e+06
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// WriteTo writes the families that have samples.
func (e *exposition) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	for _, d := range metricDefs {
		ss := e.samples[d.name]
		if len(ss) == 0 {
			continue
		}
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", d.name, escapeHelp(d.help), d.name, d.typ)
		for _, s := range ss {
			fmt.Fprintf(bw, "%s%s %s\n", d.name, s.labels, s.value)
		}
	}
	n := int64(bw.Buffered())
	return n, bw.Flush()
}

// addStatus adds the samples of one sandbox's status; id names the
// sandbox when the status does not.
func (e *exposition) addStatus(id string, st *sentry.Status, now time.Time) {
	c := st.Container
	if c == "" {
		c = id
	}
	e.add("athena_container_info", 1, "container", c, "mode", st.Mode, "policy", st.Policy, "policy_digest", st.PolicyDigest)
	if t := statusTime(st); !t.IsZero() {
		e.add("athena_status_age_seconds", max(now.Sub(t).Seconds(), 0), "container", c)
	}
	e.addUint("athena_gate_denied_total", st.Denied, "container", c)
	e.addUint("athena_gate_killed_total", st.Killed, "container", c)
	e.addUint("athena_gate_recorded_total", st.Recorded, "container", c)
	e.addUint("athena_gate_dropped_total", st.Dropped, "container", c)
	e.addUint("athena_record_written_total", st.Written, "container", c)
	e.addUint("athena_record_lost_total", st.Lost, "container", c)
	e.addUint("athena_policy_updates_total", st.PolicyUpdates, "container", c)
	e.addUint("athena_policy_refused_total", st.PolicyRefused, "container", c)
	sw := st.Swarm
	if sw == nil {
		return
	}
	e.add("athena_swarm_degraded", boolValue(sw.Degraded), "container", c)
	e.addUint("athena_swarm_decisions_total", sw.Decisions, "container", c)
	// The three graduated actions always, so that rate() starts at zero.
	for _, a := range []string{"delay", "deny", "kill"} {
		e.addUint("athena_swarm_actions_total", sw.Actions[a], "container", c, "action", a)
	}
	for _, a := range slices.Sorted(maps.Keys(sw.Actions)) {
		if outcome, ok := strings.CutPrefix(a, callsPrefix); ok {
			e.addUint("athena_swarm_calls_total", sw.Actions[a], "container", c, "outcome", outcome)
			continue
		}
		e.addUint("athena_swarm_actions_total", sw.Actions[a], "container", c, "action", a)
	}
	for _, a := range sw.Agents {
		e.add("athena_swarm_agent_up", boolValue(a.State == "running"), "container", c, "agent", a.Name)
		e.addUint("athena_swarm_agent_restarts_total", a.Restarts, "container", c, "agent", a.Name)
		e.addUint("athena_swarm_agent_panics_total", a.Panics, "container", c, "agent", a.Name)
		e.addUint("athena_swarm_agent_events_total", a.Events, "container", c, "agent", a.Name)
		e.addUint("athena_swarm_agent_decisions_total", a.Decisions, "container", c, "agent", a.Name)
	}
	for _, r := range sw.Rings {
		e.add("athena_swarm_ring_capacity", float64(r.Capacity), "container", c, "ring", r.Name)
		e.add("athena_swarm_ring_len", float64(r.Len), "container", c, "ring", r.Name)
		e.addUint("athena_swarm_ring_pushed_total", r.Pushed, "container", c, "ring", r.Name)
		e.addUint("athena_swarm_ring_drained_total", r.Drained, "container", c, "ring", r.Name)
		e.addUint("athena_swarm_ring_dropped_total", r.Dropped, "container", c, "ring", r.Name)
	}
	e.add("athena_swarm_tasks", float64(sw.Tasks), "container", c)
	if m := sw.Memory; m != nil {
		e.add("athena_faults_watched", boolValue(m.Faults), "container", c)
		e.addUint("athena_faults_total", m.FaultCount-m.ExecFaults, "container", c, "access", "data")
		e.addUint("athena_faults_total", m.ExecFaults, "container", c, "access", "exec")
		e.addUint("athena_wx_requests_total", m.WXRequests, "container", c)
		for _, id := range slices.Sorted(maps.Keys(m.Usage)) {
			e.addUint("athena_resident_bytes", m.Usage[id], "container", id)
		}
	}
	if n := sw.Network; n != nil {
		e.add("athena_net_filter", boolValue(n.Filter), "container", c)
		e.addUint("athena_net_flows_total", n.Flows, "container", c, "outcome", "new")
		e.addUint("athena_net_flows_total", n.Refused, "container", c, "outcome", "refused")
		e.addUint("athena_net_flows_total", n.Blocked, "container", c, "outcome", "blocked")
		e.addUint("athena_net_packets_total", n.Packets, "container", c)
		e.add("athena_net_blocks", float64(len(n.Blocks)), "container", c)
	}
	if sc := sw.Sched; sc != nil {
		for _, cs := range sc.Containers {
			e.add("athena_sched_run_seconds_total", float64(cs.RunNS)/1e9, "container", cs.Container)
			e.add("athena_sched_wait_seconds_total", float64(cs.WaitNS)/1e9, "container", cs.Container)
			e.add("athena_sched_throttled_seconds_total", float64(cs.ThrottledNS)/1e9, "container", cs.Container)
			e.add("athena_sched_used_cpus", cs.Used, "container", cs.Container)
			e.add("athena_sched_quota_cpus", cs.Quota, "container", cs.Container)
		}
		e.addUint("athena_sched_holds_total", sc.Holds, "container", c)
	}
	if h := sw.Heal; h != nil {
		for _, hc := range h.Containers {
			for _, p := range hc.Processes {
				e.addUint("athena_heal_exits_total", p.Exits, "container", hc.Container, "process", p.Name)
				e.addUint("athena_heal_restarts_total", p.Restarts, "container", hc.Container, "process", p.Name)
				e.add("athena_heal_given_up", boolValue(p.State == "given-up"), "container", hc.Container, "process", p.Name)
			}
		}
	}
	e.addUint("athena_swarm_task_bytes", sw.TaskBytes, "container", c)
	e.addUint("athena_swarm_state_bytes", sw.StateBytes, "container", c)
	e.addUint("athena_swarm_heap_bytes", sw.HeapBytes, "container", c)
	// A model is labelled with its own container: in a pod, a member's
	// model is reported in its sandbox's status.
	for _, m := range sw.Models {
		mc := m.Container
		if mc == "" {
			mc = c
		}
		e.addUint("athena_swarm_model_windows", m.Windows, "container", mc)
		e.add("athena_swarm_model_stable", boolValue(m.Stable), "container", mc)
		e.add("athena_swarm_model_pairs", float64(m.Pairs), "container", mc)
		e.add("athena_swarm_model_tasks", float64(m.Tasks), "container", mc)
		e.add("athena_swarm_model_bytes", float64(m.Bytes), "container", mc)
		e.addUint("athena_swarm_model_anomalies_total", m.Anomalies, "container", mc)
	}
}

// gatherMetrics reads the status files (all in dir, or of ids) and
// returns their samples. A status file that cannot be read is reported
// to warn and skipped; one not written yet (a container not started) is
// skipped silently.
func gatherMetrics(dir string, ids []string, status func(string) string, now time.Time, warn func(error)) (*exposition, error) {
	ts, err := statusTargets(dir, ids, status)
	if err != nil {
		return nil, err
	}
	e := newExposition()
	for _, t := range ts {
		st, err := readStatusFile(t.path)
		switch {
		case errors.Is(err, errNoStatus) || (len(ids) == 0 && errors.Is(err, os.ErrNotExist)):
			continue
		case err != nil:
			warn(err)
			continue
		}
		e.addStatus(t.id, st, now)
		if k, err := readKeeperStatus(t.id); err == nil {
			e.addKeeper(t.id, k)
		}
	}
	return e, nil
}

// metricsHandler serves the metrics of the status files at each scrape.
func metricsHandler(dir string, ids []string, status func(string) string, warn func(error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		e, err := gatherMetrics(dir, ids, status, time.Now(), warn)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", metricsContentType)
		if r.Method == http.MethodHead {
			return
		}
		e.WriteTo(w)
	})
}

// swarmMetrics prints the metrics once, or serves them with --listen.
func swarmMetrics(ctx context.Context, args []string) error {
	var listen string
	ids, err := verbFlags("metrics", args, -1, func(fs *flag.FlagSet) {
		fs.StringVar(&listen, "listen", "", "serve GET /metrics on this address (e.g. 127.0.0.1:9464) instead of printing once")
	})
	if err != nil {
		return err
	}
	status := func(id string) string { return linkFiles(id).Status }
	warn := func(err error) { fmt.Fprintf(os.Stderr, "runsc-athena swarm metrics: %v\n", err) }
	if listen == "" {
		for _, id := range ids {
			if _, err := os.Stat(status(id)); err != nil {
				return fmt.Errorf("no running container %q (no status file %s)", id, status(id))
			}
		}
		e, err := gatherMetrics(statusDir, ids, status, time.Now(), warn)
		if err != nil {
			return err
		}
		_, err = e.WriteTo(os.Stdout)
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           metricsHandler(statusDir, ids, status, warn),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	fmt.Fprintf(os.Stderr, "runsc-athena swarm metrics: serving http://%s/metrics\n", ln.Addr())
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shut)
}

// addKeeper adds the metrics of a container's keeper (docs/healer.md).
func (e *exposition) addKeeper(id string, k *keeperStatus) {
	e.addUint("athena_heal_checkpoints_total", k.Checkpoints, "container", id, "outcome", "ok")
	e.addUint("athena_heal_checkpoints_total", k.CheckpointErrors, "container", id, "outcome", "failed")
	e.addUint("athena_heal_recoveries_total", k.Recoveries, "container", id)
	if k.LastCheckpoint != nil {
		e.add("athena_heal_last_checkpoint_seconds", float64(k.LastCheckpointMilli)/1e3, "container", id)
	}
	if k.LastRecovery != nil {
		e.add("athena_heal_last_recovery_seconds", float64(k.LastRecoveryMilli)/1e3, "container", id)
	}
}
