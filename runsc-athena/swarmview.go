package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"golang.org/x/sys/unix"

	"github.com/athenaos/athena/sentry"
	"github.com/athenaos/athena/swarm/record"
	"github.com/athenaos/athena/syscalls"
)

// The operator's view of running sandboxes: "swarm status" (one
// container, as a summary or the raw JSON), "swarm top" (all of them,
// refreshing) and "swarm explain" (one swarm decision, with its votes and
// the gate records around it). Everything here reads the files the
// sandbox writes (the status file and the decision record); the functions
// take their paths so that tests can point them at fakes.

// errNoStatus reports a status file the sandbox has not written yet (the
// container is created but not started).
var errNoStatus = errors.New("no status reported yet (is the container started?)")

// readStatusFile reads a status file. The sandbox rewrites it in place
// (pwrite, then ftruncate), so a read may catch the new text followed by
// the tail of a longer old one, or a write half done: only the first JSON
// value counts, and a read that does not parse is tried again.
func readStatusFile(path string) (*sentry.Status, error) {
	var err error
	for try := 0; try < 3; try++ {
		if try > 0 {
			time.Sleep(20 * time.Millisecond)
		}
		var data []byte
		if data, err = os.ReadFile(path); err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, errNoStatus
		}
		var st sentry.Status
		if err = json.NewDecoder(bytes.NewReader(data)).Decode(&st); err == nil {
			return &st, nil
		}
	}
	return nil, fmt.Errorf("status file %s: %v", path, err)
}

// statusTime returns when the sandbox wrote st (zero if it does not say).
func statusTime(st *sentry.Status) time.Time {
	t, err := time.Parse(time.RFC3339Nano, st.Updated)
	if err != nil {
		return time.Time{}
	}
	return t
}

// Rates.
//
// The sandbox rewrites its status file at most once a second, and only
// when a counter changed. Rates are therefore taken between two versions
// of the file (two different "updated" times), over the sandbox's own
// interval between them, not between two reads: two reads a second apart
// may see the same version, or versions 2 s apart. A version older than
// idleAfter means nothing has changed since: every rate is zero.
const idleAfter = 2 * time.Second

// statusRates are per-second rates between two versions of a status.
type statusRates struct {
	// Interval is the time the rates were measured over.
	Interval time.Duration
	// Events counts the gate's recorded calls and the events the swarm's
	// rings delivered to agents; Drops the gate's dropped records and the
	// rings' dropped events; Decisions the swarm's decisions.
	Events, Drops, Decisions float64
	// Agents and Rings are by name.
	Agents map[string]agentRates
	Rings  map[string]ringRates
}

type agentRates struct{ Events, Decisions float64 }
type ringRates struct{ Drained, Dropped float64 }

// delta is a counter's increase; a counter that went back (the sandbox
// was restored from a checkpoint, an agent restarted) counts from zero.
func delta(before, after uint64) float64 {
	if after < before {
		return float64(after)
	}
	return float64(after - before)
}

// ratesBetween computes the rates from status a to status b, dt apart.
func ratesBetween(a, b *sentry.Status, dt time.Duration) statusRates {
	r := statusRates{Interval: dt, Agents: map[string]agentRates{}, Rings: map[string]ringRates{}}
	if dt <= 0 {
		return r
	}
	s := dt.Seconds()
	events := delta(a.Recorded, b.Recorded)
	drops := delta(a.Dropped, b.Dropped)
	if b.Swarm != nil {
		var sa sentry.SwarmStatus
		if a.Swarm != nil {
			sa = *a.Swarm
		}
		for _, rb := range b.Swarm.Rings {
			var ra sentry.RingStatus
			if i := slices.IndexFunc(sa.Rings, func(x sentry.RingStatus) bool { return x.Name == rb.Name }); i >= 0 {
				ra = sa.Rings[i]
			}
			drained, dropped := delta(ra.Drained, rb.Drained), delta(ra.Dropped, rb.Dropped)
			r.Rings[rb.Name] = ringRates{Drained: drained / s, Dropped: dropped / s}
			events += drained
			drops += dropped
		}
		for _, gb := range b.Swarm.Agents {
			var ga sentry.AgentStatus
			if i := slices.IndexFunc(sa.Agents, func(x sentry.AgentStatus) bool { return x.Name == gb.Name }); i >= 0 {
				ga = sa.Agents[i]
			}
			r.Agents[gb.Name] = agentRates{Events: delta(ga.Events, gb.Events) / s, Decisions: delta(ga.Decisions, gb.Decisions) / s}
		}
		r.Decisions = delta(sa.Decisions, b.Swarm.Decisions) / s
	}
	r.Events = events / s
	r.Drops = drops / s
	return r
}

// rateTracker follows one status file across reads and keeps the rates
// between its last two versions.
type rateTracker struct {
	last     *sentry.Status
	lastTime time.Time // the sandbox's time of last, else when it was read
	rates    statusRates
	ok       bool // rates holds a measurement
}

// observe takes a read of the status file made at now.
func (t *rateTracker) observe(st *sentry.Status, now time.Time) {
	at := statusTime(st)
	if at.IsZero() {
		at = now
	}
	switch {
	case t.last == nil || st.Updated == "" || st.Updated != t.last.Updated:
		if t.last != nil {
			t.rates, t.ok = ratesBetween(t.last, st, at.Sub(t.lastTime)), true
		}
		t.last, t.lastTime = st, at
	default:
		t.last = st // the same version
	}
	if age := now.Sub(t.lastTime); age > idleAfter {
		// Not rewritten for a while: nothing changed since lastTime.
		t.rates, t.ok = ratesBetween(t.last, t.last, age), true
	}
}

// Status.

// swarmStatus prints a container's status: a summary, or with --json the
// status file as the sandbox wrote it (plus the link's files). With
// --interval it reads the status over that time and adds rates.
func swarmStatus(args []string) error {
	var asJSON bool
	var interval time.Duration
	pos, err := verbFlags("status", args, 1, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print the status file as JSON")
		fs.DurationVar(&interval, "interval", 0, "measure event, drop and decision rates over this time (e.g. 1s)")
	})
	if err != nil {
		return err
	}
	if asJSON && interval != 0 {
		return fmt.Errorf("status: --interval does not apply to --json: %w", errUsage)
	}
	if interval < 0 {
		return fmt.Errorf("status: negative --interval: %w", errUsage)
	}
	id := pos[0]
	running, err := knownContainer(id)
	if err != nil {
		return err
	}
	files := linkFiles(id)
	if !running {
		return fmt.Errorf("container %q is deleted; its record is %s", id, files.Events)
	}
	err = showStatus(id, files, asJSON, interval)
	if errors.Is(err, errNoStatus) {
		return fmt.Errorf("container %q: %w", id, err)
	}
	return err
}

func showStatus(id string, files sentry.LinkFiles, asJSON bool, interval time.Duration) error {
	if asJSON {
		return printStatusJSON(os.Stdout, id, files)
	}
	st, err := readStatusFile(files.Status)
	if err != nil {
		return err
	}
	var rates *statusRates
	if interval > 0 {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if st, rates, err = measureRates(ctx, files.Status, st, interval); err != nil {
			return err
		}
	}
	out := bufio.NewWriter(os.Stdout)
	writeStatusSummary(out, id, sandboxOf(id), st, time.Now(), rates)
	if ks, err := readKeeperStatus(sandboxOf(id)); err == nil {
		writeKeeperSummary(out, ks, time.Now())
	}
	return out.Flush()
}

// printStatusJSON prints the status file, indented, with the link's files
// and the sandbox's keeper state, if it has a keeper.
func printStatusJSON(w io.Writer, id string, files sentry.LinkFiles) error {
	data, err := os.ReadFile(files.Status)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return errNoStatus
	}
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("status file %s: %v", files.Status, err)
	}
	v["link"] = files
	if ks, err := readKeeperStatus(sandboxOf(id)); err == nil {
		v["keeper"] = ks
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	_, err = fmt.Fprintf(w, "%s\n", out)
	return err
}

// measureRates reads the status file until a version at least interval
// newer than first is there (or none for long enough to say nothing
// changed), and returns that status and the rates from first to it.
func measureRates(ctx context.Context, path string, first *sentry.Status, interval time.Duration) (*sentry.Status, *statusRates, error) {
	start := time.Now()
	t0 := statusTime(first)
	if t0.IsZero() {
		t0 = start
	}
	deadline := start.Add(interval + idleAfter + time.Second)
	poll := min(interval, 100*time.Millisecond)
	for {
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-time.After(poll):
		}
		now := time.Now()
		st, err := readStatusFile(path)
		if err != nil {
			return nil, nil, err
		}
		t1 := statusTime(st)
		if t1.IsZero() {
			t1 = now
		}
		switch {
		case now.Sub(start) < interval:
		case st.Updated != first.Updated && t1.Sub(t0) >= interval:
			r := ratesBetween(first, st, t1.Sub(t0))
			return st, &r, nil
		case now.Sub(t1) > idleAfter:
			// Not rewritten for a while: nothing changed since t1.
			r := ratesBetween(first, st, now.Sub(t0))
			return st, &r, nil
		}
		if now.After(deadline) {
			return nil, nil, fmt.Errorf("the status file %s was not rewritten within %v", path, deadline.Sub(start).Round(time.Second))
		}
	}
}

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
)

// humanBytes writes a byte count for people.
func humanBytes(n uint64) string {
	switch {
	case n >= gib:
		return fmt.Sprintf("%.1f GiB", float64(n)/gib)
	case n >= mib:
		return fmt.Sprintf("%.1f MiB", float64(n)/mib)
	case n >= kib:
		return fmt.Sprintf("%.1f KiB", float64(n)/kib)
	}
	return fmt.Sprintf("%d B", n)
}

// ago writes how long before now t was.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	return d.Round(100*time.Millisecond).String() + " ago"
}

// callsPrefix marks the entries of the status's actions that count
// system calls (calls_delayed, calls_denied) rather than decisions.
const callsPrefix = "calls_"

// sortedActions writes the decisions' actions of a status's actions map
// ("deny 1, kill 0") and, apart, its call counts ("delayed 5, denied 1").
func sortedActions(m map[string]uint64) (actions, calls string) {
	var as, cs []string
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if c, ok := strings.CutPrefix(name, callsPrefix); ok {
			cs = append(cs, fmt.Sprintf("%s %d", c, m[name]))
		} else {
			as = append(as, fmt.Sprintf("%s %d", name, m[name]))
		}
	}
	actions, calls = strings.Join(as, ", "), strings.Join(cs, ", ")
	if actions == "" {
		actions = "none"
	}
	return actions, calls
}

func rateString(r float64) string { return fmt.Sprintf("%.1f/s", r) }

// writeStatusSummary writes the status of container id (of sandbox
// sandbox) for people. rates may be nil.
func writeStatusSummary(w io.Writer, id, sandbox string, st *sentry.Status, now time.Time, rates *statusRates) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "container\t%s\n", id)
	if sandbox != id {
		fmt.Fprintf(tw, "sandbox\t%s (this status is the sandbox's, for all its containers)\n", sandbox)
	}
	digest := st.PolicyDigest
	if len(digest) > 12 {
		digest = digest[:12]
	}
	fmt.Fprintf(tw, "mode\t%s\n", st.Mode)
	fmt.Fprintf(tw, "policy\t%s (sha256 %s)\n", st.Policy, digest)
	fmt.Fprintf(tw, "updated\t%s (%s)\n", st.Updated, ago(statusTime(st), now))
	fmt.Fprintf(tw, "gate\tdenied %d, killed %d, recorded %d, dropped %d\n", st.Denied, st.Killed, st.Recorded, st.Dropped)
	fmt.Fprintf(tw, "record\twritten %d, lost %d\n", st.Written, st.Lost)
	fmt.Fprintf(tw, "policies\t%d replaced live, %d refused\n", st.PolicyUpdates, st.PolicyRefused)
	if rates != nil {
		fmt.Fprintf(tw, "rates\tevents %s, drops %s, decisions %s (over %v)\n",
			rateString(rates.Events), rateString(rates.Drops), rateString(rates.Decisions), rates.Interval.Round(10*time.Millisecond))
	}
	sw := st.Swarm
	if sw == nil {
		fmt.Fprintf(tw, "swarm\toff\n")
		tw.Flush()
		return
	}
	if sw.Degraded {
		fmt.Fprintf(tw, "swarm\tDEGRADED: %s\n", sw.Why)
	} else {
		fmt.Fprintf(tw, "swarm\tok\n")
	}
	actions, calls := sortedActions(sw.Actions)
	fmt.Fprintf(tw, "decisions\t%d (actions: %s)\n", sw.Decisions, actions)
	if calls != "" {
		fmt.Fprintf(tw, "calls\t%s\n", calls)
	}
	fmt.Fprintf(tw, "tasks\t%d (task state %s)\n", sw.Tasks, humanBytes(sw.TaskBytes))
	fmt.Fprintf(tw, "memory\tswarm state %s, sandbox heap %s\n", humanBytes(sw.StateBytes), humanBytes(sw.HeapBytes))
	tw.Flush()

	fmt.Fprintf(w, "\nagents\n")
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprint(tw, "  NAME\tSTATE\tPOLICY\tMODE\tRESTARTS\tPANICS\tEVENTS\tDECISIONS")
	if rates != nil {
		fmt.Fprint(tw, "\tEVENTS/S\tDECISIONS/S")
	}
	fmt.Fprintln(tw)
	for _, a := range sw.Agents {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%d\t%d\t%d", a.Name, a.State, a.Policy, orDash(a.Mode), a.Restarts, a.Panics, a.Events, a.Decisions)
		if rates != nil {
			ar := rates.Agents[a.Name]
			fmt.Fprintf(tw, "\t%.1f\t%.1f", ar.Events, ar.Decisions)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	for _, a := range sw.Agents {
		if a.LastPanic != "" {
			fmt.Fprintf(w, "  last panic of %s: %s\n", a.Name, a.LastPanic)
		}
	}

	fmt.Fprintf(w, "\nrings\n")
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprint(tw, "  NAME\tFILL\tPUSHED\tDRAINED\tDROPPED")
	if rates != nil {
		fmt.Fprint(tw, "\tDRAINED/S\tDROPPED/S")
	}
	fmt.Fprintln(tw)
	for _, r := range sw.Rings {
		fill := 0.0
		if r.Capacity > 0 {
			fill = 100 * float64(r.Len) / float64(r.Capacity)
		}
		fmt.Fprintf(tw, "  %s\t%d/%d (%.0f%%)\t%d\t%d\t%d", r.Name, r.Len, r.Capacity, fill, r.Pushed, r.Drained, r.Dropped)
		if rates != nil {
			rr := rates.Rings[r.Name]
			fmt.Fprintf(tw, "\t%.1f\t%.1f", rr.Drained, rr.Dropped)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()

	fmt.Fprintf(w, "\nmodels\n")
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  CONTAINER\tMODE\tWINDOWS\tSTABLE\tPAIRS\tSYSCALLS\tTASKS\tANOMALIES\tSIZE")
	for _, m := range sw.Models {
		stable := "no"
		if m.Stable {
			stable = "yes"
		} else if m.StableAfter > 0 {
			stable = fmt.Sprintf("no (%d/%d windows without a new pair)", m.Windows-min(m.LastChange, m.Windows), m.StableAfter)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%d\t%d\t%d\t%d\t%s\n", record.ShortID(m.Container), m.Mode, m.Windows, stable, m.Pairs, m.Syscalls, m.Tasks, m.Anomalies, humanBytes(uint64(max(m.Bytes, 0))))
	}
	tw.Flush()
	for _, m := range sw.Models {
		if m.Why != "" {
			fmt.Fprintf(w, "  model of %s: %s\n", record.ShortID(m.Container), m.Why)
		}
	}
	writeMemorySummary(w, sw.Memory)
	writeNetworkSummary(w, sw.Network)
	writeSchedSummary(w, sw.Sched)
	writeHealSummary(w, sw.Heal)
}

// writeHealSummary shows the healer agent's section of a status: the
// processes athena init supervises.
func writeHealSummary(w io.Writer, h *sentry.HealStatus) {
	if h == nil {
		return
	}
	fmt.Fprintf(w, "\nhealer (in-sandbox restarts by athena init)")
	if h.Dropped > 0 {
		fmt.Fprintf(w, ": %d exits not seen (channel full)", h.Dropped)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  CONTAINER\tPROCESS\tSTATE\tEXITS\tRESTARTS\tLAST CAUSE\tPOLICY")
	for _, c := range h.Containers {
		for _, p := range c.Processes {
			fmt.Fprintf(tw, "  %s\t%s (%s)\t%s\t%d\t%d\t%s\t%s\n", record.ShortID(c.Container), p.Name, orDash(p.Comm), p.State, p.Exits, p.Restarts, orDash(p.LastCause), p.Policy)
		}
	}
	tw.Flush()
	for _, c := range h.Containers {
		if c.Orphans > 0 {
			fmt.Fprintf(w, "  %s: %d other processes reaped by init\n", record.ShortID(c.Container), c.Orphans)
		}
		if c.Finished {
			fmt.Fprintf(w, "  %s: main is over; nothing is restarted any more\n", record.ShortID(c.Container))
		}
	}
}

// writeKeeperSummary shows the sandbox's checkpoints and recoveries.
func writeKeeperSummary(w io.Writer, k *keeperStatus, now time.Time) {
	fmt.Fprintf(w, "\nkeeper (sandbox checkpoints every %s, %d kept): %s, sandbox pid %d\n",
		time.Duration(k.EverySeconds*float64(time.Second)), k.Keep, k.State, k.SandboxPID)
	fmt.Fprintf(w, "  checkpoints %d (failed %d)", k.Checkpoints, k.CheckpointErrors)
	if k.LastCheckpoint != nil {
		fmt.Fprintf(w, "; last #%d %s, took %dms, %s", k.LastCheckpointSeq, ago(*k.LastCheckpoint, now), k.LastCheckpointMilli, humanBytes(uint64(k.LastCheckpointBytes)))
	}
	fmt.Fprintln(w)
	if k.LastCheckpointError != "" {
		fmt.Fprintf(w, "  last checkpoint failed: %s\n", k.LastCheckpointError)
	}
	fmt.Fprintf(w, "  recoveries %d", k.Recoveries)
	if k.LastRecovery != nil {
		fmt.Fprintf(w, "; last %s from checkpoint #%d in %dms: %s", ago(*k.LastRecovery, now), k.LastRecoveryFrom, k.LastRecoveryMilli, k.LastRecoveryCause)
	}
	fmt.Fprintln(w)
	if k.SkippedCorruptions > 0 {
		fmt.Fprintf(w, "  corrupt checkpoints skipped: %d\n", k.SkippedCorruptions)
	}
	if k.Failure != "" {
		fmt.Fprintf(w, "  FAILED: %s\n", k.Failure)
	}
}

// writeSchedSummary shows the scheduler's section of a status.
func writeSchedSummary(w io.Writer, s *sentry.SchedStatus) {
	if s == nil {
		return
	}
	fmt.Fprintf(w, "\nscheduler (%g CPUs, period %s): periods %d, holds %d (would hold %d), stops %d\n",
		s.CPUs, s.Period, s.Periods, s.Holds, s.WouldHold, s.Stops)
	if s.Dropped > 0 || s.Crashes > 0 {
		fmt.Fprintf(w, "  sample batches dropped %d, kernel-side restarts %d\n", s.Dropped, s.Crashes)
	}
	if s.TaskLimit > 0 || len(s.SpawnsRefused) > 0 {
		fmt.Fprintf(w, "  task limit %d (from --pids-limit); creations refused: %d over the limit, %d under a fork-bomb block\n",
			s.TaskLimit, s.SpawnsRefused["limit"], s.SpawnsRefused["block"])
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  CONTAINER\tMODE\tWEIGHT\tQUOTA\tUSED\tDEMAND\tALLOC\tHELD\tRUN\tWAIT\tTHROTTLED\tSPAWNS/S")
	for _, c := range s.Containers {
		quota := "-"
		if c.Quota > 0 {
			quota = fmt.Sprintf("%g", c.Quota)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%.2f\t%.2f\t%.2f\t%d\t%s\t%s\t%s\t%d\n", record.ShortID(c.Container), c.Mode, c.Weight, quota,
			c.Used, c.Demand, c.Alloc, c.Held, nsDuration(c.RunNS), nsDuration(c.WaitNS), nsDuration(c.ThrottledNS), c.SpawnRate)
	}
	tw.Flush()
	for _, c := range s.Containers {
		if c.ConfigFrom != "" {
			fmt.Fprintf(w, "  %s: %s\n", record.ShortID(c.Container), c.ConfigFrom)
		}
		if c.SpawnsBlockedUntil != "" {
			fmt.Fprintf(w, "  %s: new processes refused (fork bomb) until %s\n", record.ShortID(c.Container), c.SpawnsBlockedUntil)
		}
	}
	if len(s.Tasks) > 0 {
		tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "  PID\tTID\tCOMM\tRUN\tWAIT\tTHROTTLED\tDUTY\tKIND\tHOLD")
		for _, t := range s.Tasks {
			kind := "hog"
			if t.Interactive {
				kind = "interactive"
			}
			fmt.Fprintf(tw, "  %d\t%d\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\n", t.PID, t.TID, orDash(t.Comm), nsDuration(t.Run), nsDuration(t.Wait), nsDuration(t.Throttled), t.Duty, kind, orDash(t.Hold))
		}
		tw.Flush()
	}
}

// nsDuration shows nanoseconds as a duration rounded to a millisecond.
func nsDuration(ns uint64) string { return time.Duration(ns).Round(time.Millisecond).String() }

// writeMemorySummary shows the fault path's section of a status.
func writeMemorySummary(w io.Writer, m *sentry.MemoryStatus) {
	if m == nil {
		return
	}
	fmt.Fprintf(w, "\nmemory (platform %s", m.Platform)
	if !m.Faults {
		fmt.Fprint(w, ": page faults are not watched; use --platform=athena")
	}
	fmt.Fprintf(w, ")\n  faults %d, exec faults %d, W+X mapping requests %d\n", m.FaultCount, m.ExecFaults, m.WXRequests)
	ids := slices.Sorted(maps.Keys(m.Usage))
	for _, id := range ids {
		fmt.Fprintf(w, "  resident %s: %s\n", record.ShortID(id), humanBytes(m.Usage[id]))
	}
}

// writeNetworkSummary shows the packet path's section of a status.
func writeNetworkSummary(w io.Writer, n *sentry.NetworkStatus) {
	if n == nil {
		return
	}
	fmt.Fprintf(w, "\nnetwork (%s", n.Stack)
	switch {
	case n.Filter:
		fmt.Fprintf(w, ", packet filter on; egress %s)\n", orDash(n.Egress))
	default:
		fmt.Fprintf(w, ", NO packet filter: %s)\n", orDash(n.Why))
	}
	if !n.Filter {
		return
	}
	fmt.Fprintf(w, "  flows %d (%d live), refused %d, blocked %d, packets %d, sent %s, received %s\n",
		n.Flows, n.LiveFlows, n.Refused, n.Blocked, n.Packets, humanBytes(n.BytesOut), humanBytes(n.BytesIn))
	if n.TableMiss > 0 || n.RingDrops > 0 {
		fmt.Fprintf(w, "  flow table misses %d, events dropped %d\n", n.TableMiss, n.RingDrops)
	}
	for _, b := range n.Blocks {
		fmt.Fprintf(w, "  blocked %s until %s: %s\n", b.Remote, b.Until, orDash(b.Why))
	}
	if len(n.TopRemotes) > 0 {
		tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "  REMOTE\tFLOWS\tSENT\tRECEIVED")
		for _, r := range n.TopRemotes {
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\n", r.Remote, r.Flows, humanBytes(r.BytesOut), humanBytes(r.BytesIn))
		}
		tw.Flush()
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Top.

// statusTarget is one status file to watch: id names it for people.
type statusTarget struct{ id, path string }

// statusTargets lists the status files to read: those of the containers
// ids (status resolves an ID to its file: a pod container's is its
// sandbox's), or every one in dir when ids is empty.
func statusTargets(dir string, ids []string, status func(id string) string) ([]statusTarget, error) {
	var ts []statusTarget
	if len(ids) == 0 {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if id, ok := strings.CutSuffix(e.Name(), ".json"); ok && e.Type().IsRegular() {
				ts = append(ts, statusTarget{id, filepath.Join(dir, e.Name())})
			}
		}
		return ts, nil
	}
	seen := map[string]bool{}
	for _, id := range ids {
		p := status(id)
		if !seen[p] {
			seen[p] = true
			ts = append(ts, statusTarget{id, p})
		}
	}
	return ts, nil
}

// topView is the state of "swarm top": the watched status files and
// their rates.
type topView struct {
	dir    string
	ids    []string
	status func(id string) string

	watched map[string]*topEntry // by path
}

type topEntry struct {
	id    string
	st    *sentry.Status // nil until the sandbox reports
	err   error
	rates rateTracker
}

func newTopView(dir string, ids []string, status func(string) string) *topView {
	return &topView{dir: dir, ids: ids, status: status, watched: map[string]*topEntry{}}
}

// errAllGone ends a top of named containers once all are deleted.
var errAllGone = errors.New("every container watched is gone")

// poll reads the status files at now: new containers appear, deleted
// ones disappear.
func (v *topView) poll(now time.Time) error {
	ts, err := statusTargets(v.dir, v.ids, v.status)
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, t := range ts {
		st, err := readStatusFile(t.path)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted (or never there)
		}
		present[t.path] = true
		e := v.watched[t.path]
		if e == nil {
			e = &topEntry{id: t.id}
			v.watched[t.path] = e
		}
		e.err = err
		if err == nil {
			e.st = st
			e.rates.observe(st, now)
		}
	}
	for p := range v.watched {
		if !present[p] {
			delete(v.watched, p)
		}
	}
	if len(v.ids) > 0 && len(v.watched) == 0 {
		return errAllGone
	}
	return nil
}

// ready reports whether every watched container that reports has rates.
func (v *topView) ready() bool {
	for _, e := range v.watched {
		if e.st != nil && !e.rates.ok {
			return false
		}
	}
	return true
}

// entries returns the watched containers sorted by ID.
func (v *topView) entries() []*topEntry {
	es := make([]*topEntry, 0, len(v.watched))
	for _, e := range v.watched {
		es = append(es, e)
	}
	sort.Slice(es, func(i, j int) bool { return es[i].id < es[j].id })
	return es
}

// render writes one frame.
func (v *topView) render(w io.Writer, now time.Time, interval time.Duration) {
	es := v.entries()
	fmt.Fprintf(w, "athena swarm top  %s  every %v  %d container(s)\n\n", now.Format("15:04:05"), interval, len(es))
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMODE\tEVENTS/S\tDROPS/S\tDECISIONS/S\tDELAY/DENY/KILL\tTASKS\tSTATE MiB\tDEGRADED\tUPDATED")
	for _, e := range es {
		id := record.ShortID(e.id)
		switch {
		case e.err != nil && e.st == nil:
			msg := e.err.Error()
			if errors.Is(e.err, errNoStatus) {
				msg = "starting"
			}
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t%s\n", id, msg)
			continue
		case e.st == nil:
			continue
		}
		st := e.st
		evs, drops, decs := "-", "-", "-"
		if e.rates.ok {
			r := e.rates.rates
			evs, drops, decs = fmt.Sprintf("%.1f", r.Events), fmt.Sprintf("%.1f", r.Drops), fmt.Sprintf("%.1f", r.Decisions)
		}
		actions, tasks, state, degraded := "-", "-", "-", "-"
		if sw := st.Swarm; sw != nil {
			actions = fmt.Sprintf("%d/%d/%d", sw.Actions["delay"], sw.Actions["deny"], sw.Actions["kill"])
			tasks = fmt.Sprint(sw.Tasks)
			state = fmt.Sprintf("%.1f", float64(sw.StateBytes)/mib)
			degraded = "no"
			if sw.Degraded {
				degraded = "YES"
			}
		} else {
			decs = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", id, st.Mode, evs, drops, decs, actions, tasks, state, degraded, ago(statusTime(st), now))
	}
	tw.Flush()

	// The agents: of the containers asked for, or of the only one; with
	// many, only agents that are not running (what needs a look).
	all := len(v.ids) > 0 || len(es) == 1
	title := "AGENTS"
	if !all {
		title = "AGENTS NOT RUNNING"
	}
	var rows []string
	for _, e := range es {
		if e.st == nil || e.st.Swarm == nil {
			continue
		}
		for _, a := range e.st.Swarm.Agents {
			if !all && a.State == "running" {
				continue
			}
			evs, decs := "-", "-"
			if e.rates.ok {
				ar := e.rates.rates.Agents[a.Name]
				evs, decs = fmt.Sprintf("%.1f", ar.Events), fmt.Sprintf("%.1f", ar.Decisions)
			}
			rows = append(rows, fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n",
				record.ShortID(e.id), a.Name, a.State, a.Policy, orDash(a.Mode), a.Restarts, a.Panics, evs, decs))
		}
		if e.st.Swarm.Degraded && all {
			rows = append(rows, fmt.Sprintf("%s\t(degraded: %s)\t\t\t\t\t\t\t\n", record.ShortID(e.id), e.st.Swarm.Why))
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", title)
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAGENT\tSTATE\tPOLICY\tMODE\tRESTARTS\tPANICS\tEVENTS/S\tDECISIONS/S")
	for _, r := range rows {
		fmt.Fprint(tw, r)
	}
	tw.Flush()
}

// ANSI: cursor home, clear the screen.
const clearScreen = "\x1b[H\x1b[2J"

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// swarmTop shows every running container (or those named), refreshing.
func swarmTop(ctx context.Context, args []string) error {
	var once bool
	count := 0
	interval := time.Second
	ids, err := verbFlags("top", args, -1, func(fs *flag.FlagSet) {
		fs.DurationVar(&interval, "interval", time.Second, "time between refreshes")
		fs.BoolVar(&once, "once", false, "print one frame and exit (the same as -n 1)")
		fs.IntVar(&count, "n", 0, "print this many frames and exit (0: until interrupted)")
	})
	if err != nil {
		return err
	}
	if interval <= 0 || count < 0 {
		return fmt.Errorf("top: --interval must be positive and -n not negative: %w", errUsage)
	}
	if once {
		count = 1
	}
	for _, id := range ids {
		if _, err := os.Stat(linkFiles(id).Status); err != nil {
			return fmt.Errorf("no running container %q (no status file %s)", id, linkFiles(id).Status)
		}
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	v := newTopView(statusDir, ids, func(id string) string { return linkFiles(id).Status })
	return runTop(ctx, os.Stdout, v, interval, count, isTerminal(os.Stdout))
}

// runTop polls v and writes a frame every interval, count frames (0: until
// ctx ends). The first frame waits, a little longer than interval if it
// must, until rates are known. clear redraws the screen at each frame
// (stdout is a terminal); otherwise frames follow each other.
func runTop(ctx context.Context, w io.Writer, v *topView, interval time.Duration, count int, clear bool) error {
	poll := min(interval, 250*time.Millisecond)
	tick := time.NewTicker(poll)
	defer tick.Stop()
	start := time.Now()
	if err := v.poll(start); err != nil {
		return err
	}
	next := start.Add(interval)
	firstBy := next.Add(idleAfter)
	var frame bytes.Buffer
	for frames := 0; count == 0 || frames < count; {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		now := time.Now()
		err := v.poll(now)
		if errors.Is(err, errAllGone) {
			fmt.Fprintln(w, "athena swarm top: every container watched is deleted")
			return nil
		}
		if err != nil {
			return err
		}
		if now.Before(next) || (frames == 0 && !v.ready() && now.Before(firstBy)) {
			continue
		}
		frame.Reset()
		if clear {
			frame.WriteString(clearScreen)
		} else if frames > 0 {
			frame.WriteString("\n")
		}
		v.render(&frame, now, interval)
		if _, err := w.Write(frame.Bytes()); err != nil {
			return err
		}
		frames++
		next = now.Add(interval)
	}
	return nil
}

// Explain.

// explainWindow is how far before and after a decision the gate's records
// of the same task are shown.
const explainWindow = 10 * time.Second

// explanation is a swarm decision found in a record, with the gate
// records of its task around it.
type explanation struct {
	Path     string
	Line     []byte
	Decision record.Decision
	Gate     []syscalls.Decision
	// Dropped and Lost count records the sandbox reported as dropped or
	// lost within the window: the gate's evidence may miss some.
	Dropped, Lost int
}

// maxRecordLine bounds one line of a record when reading it back.
const maxRecordLine = 16 << 20

// scanRecord calls fn with each line of the record at path.
func scanRecord(path string, fn func(line []byte)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 256<<10), maxRecordLine)
	for sc.Scan() {
		fn(sc.Bytes())
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

var swarmLinePrefix = []byte(`{"type":"` + record.Type + `"`)

// findDecision finds decision id in the records of dir, and the gate
// records of its task within explainWindow.
func findDecision(dir, id string) (*explanation, error) {
	prefix, ok := record.SplitID(id)
	if !ok {
		return nil, fmt.Errorf("malformed decision ID %q: want the container ID prefix, a dash and a number (as in 3f2a9c1b0d4e-17)", id)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the decision records: %w (wrong --athena-events-dir?)", err)
	}
	var paths []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) && strings.HasSuffix(e.Name(), ".jsonl") && e.Type().IsRegular() {
			paths = append(paths, filepath.Join(dir, e.Name()))
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no decision record of a container whose ID starts with %q in %s (wrong --athena-events-dir, or the record was pruned?)", prefix, dir)
	}
	quoted, _ := json.Marshal(id)
	needle := append([]byte(`"id":`), quoted...)
	var ex *explanation
	var count int
	var firstID, lastID string
	for _, p := range paths {
		err := scanRecord(p, func(line []byte) {
			if !bytes.HasPrefix(line, swarmLinePrefix) || !json.Valid(line) {
				return // another type, or a line cut by a full disk
			}
			count++
			if ex != nil {
				return
			}
			if !bytes.Contains(line, needle) {
				if other := lineID(line); other != "" {
					if firstID == "" {
						firstID = other
					}
					lastID = other
				}
				return
			}
			d, ok, err := record.Parse(line)
			if err == nil && ok && d.ID == id {
				ex = &explanation{Path: p, Line: bytes.Clone(line), Decision: d}
			}
		})
		if err != nil {
			return nil, err
		}
		if ex != nil {
			break
		}
	}
	if ex == nil {
		noun := "decisions"
		if count == 1 {
			noun = "decision"
		}
		msg := fmt.Sprintf("no decision %s in %s: it holds %d swarm %s", id, strings.Join(paths, ", "), count, noun)
		if count > 0 {
			msg += fmt.Sprintf(" (%s to %s)", firstID, lastID)
		}
		return nil, errors.New(msg)
	}
	return ex, ex.gateRecords()
}

// lineID returns the ID of a swarm decision line without decoding all of
// it (record.Append writes "type" and then "id").
func lineID(line []byte) string {
	_, rest, ok := bytes.Cut(line, []byte(`"id":"`))
	if !ok {
		return ""
	}
	id, _, ok := bytes.Cut(rest, []byte(`"`))
	if !ok {
		return ""
	}
	return string(id)
}

// gateRecords collects the gate's records of the decision's task within
// explainWindow of it, and the drops and losses reported then.
func (ex *explanation) gateRecords() error {
	d := &ex.Decision
	from, to := d.Time.Add(-explainWindow), d.Time.Add(explainWindow)
	pid := []byte(fmt.Sprintf(`"pid":%d,`, d.PID))
	gatePrefix := []byte(`{"type":"` + syscalls.DecisionType + `"`)
	return scanRecord(ex.Path, func(line []byte) {
		switch {
		case bytes.HasPrefix(line, gatePrefix):
			if !bytes.Contains(line, pid) {
				return
			}
			g, err := syscalls.ParseDecision(line)
			if err != nil || g.PID != d.PID || (g.Container != d.Container && d.Container != "") {
				return
			}
			if g.Time.Before(from) || g.Time.After(to) {
				return
			}
			ex.Gate = append(ex.Gate, g)
		case bytes.HasPrefix(line, []byte(`{"type":"dropped"`)), bytes.HasPrefix(line, []byte(`{"type":"lost"`)):
			var l struct {
				Type    string
				Time    time.Time
				Records int
			}
			if json.Unmarshal(line, &l) != nil || l.Time.Before(from) || l.Time.After(to) {
				return
			}
			if l.Type == "dropped" {
				ex.Dropped += l.Records
			} else {
				ex.Lost += l.Records
			}
		}
	})
}

// swarmExplain prints why the swarm took a decision.
func swarmExplain(args []string) error {
	var asJSON bool
	pos, err := verbFlags("explain", args, 1, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print the decision's line of the record")
	})
	if err != nil {
		return err
	}
	ex, err := findDecision(*eventsDirFlag, pos[0])
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	if asJSON {
		fmt.Fprintf(out, "%s\n", ex.Line)
	} else {
		writeExplanation(out, ex)
	}
	return out.Flush()
}

// writeExplanation writes a decision and its evidence for people.
func writeExplanation(w io.Writer, ex *explanation) {
	d := &ex.Decision
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "decision\t%s\n", d.ID)
	fmt.Fprintf(tw, "time\t%s\n", d.Time.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(tw, "record\t%s\n", ex.Path)
	fmt.Fprintf(tw, "task\tpid %d, tid %d, comm %q, container %s\n", d.PID, d.TID, d.Comm, d.Container)
	fmt.Fprintf(tw, "agent\t%s (mode %s), score %.2f\n", d.Agent, d.Mode, d.Score)
	fmt.Fprintf(tw, "asked\t%s\n", d.Asked)
	action := d.Action
	if d.Delay > 0 {
		action += " " + d.Delay.String()
	}
	switch {
	case d.Carried:
		action += " (the quorum agreed)"
	case d.Pending:
		action += fmt.Sprintf(" (pending: %s lacked the quorum's votes; carried out as %s instead)", d.Asked, d.Action)
	case d.Asked != d.Action:
		action += fmt.Sprintf(" (not %s: mode %s)", d.Asked, d.Mode)
	}
	fmt.Fprintf(tw, "carried out\t%s\n", action)
	if d.Quorum != "" {
		fmt.Fprintf(tw, "quorum\t%s\n", d.Quorum)
	}
	fmt.Fprintf(tw, "reason\t%s\n", d.Reason)
	if d.Repeats > 0 {
		fmt.Fprintf(tw, "repeats\t%d more alike folded into this one\n", d.Repeats)
	}
	tw.Flush()
	writeEvidence(w, "  ", d.Evidence)

	if len(d.Votes) > 0 {
		fmt.Fprintf(w, "\nvotes (%d, the deciding one last)\n", len(d.Votes))
		for _, v := range d.Votes {
			fmt.Fprintf(w, "  %s: %s, score %.2f, %s (%s)\n", v.Agent, v.Action, v.Score, v.Reason, offset(v.Time, d.Time))
			writeEvidence(w, "    ", v.Evidence)
		}
	}

	fmt.Fprintf(w, "\ngate records of pid %d within ±%v (%d)\n", d.PID, explainWindow, len(ex.Gate))
	tw = tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	for _, g := range ex.Gate {
		what := g.Path
		if n := g.Net; n != nil {
			what = n.Protocol + " " + n.Endpoint
			if n.Op != g.Syscall {
				what = n.Op + " " + what
			}
		}
		rule := g.Rule
		if g.RuleLine > 0 {
			rule += fmt.Sprintf(" (line %d)", g.RuleLine)
		}
		calls := ""
		if g.Repeats > 0 {
			calls = fmt.Sprintf(" ×%d", g.Repeats+1)
		}
		fmt.Fprintf(tw, "  %s\ttid %d\t%s\t%s%s\t%s\t%s\tintended %s\trule %s\n", offset(g.Time, d.Time), g.TID, g.Comm, g.Syscall, calls, what, g.Action, g.Intended, rule)
	}
	tw.Flush()
	if ex.Dropped > 0 || ex.Lost > 0 {
		fmt.Fprintf(w, "  (%d records were dropped and %d lost around then: this list may miss some)\n", ex.Dropped, ex.Lost)
	}
}

// writeEvidence writes evidence items, one a line.
func writeEvidence(w io.Writer, indent string, ev []string) {
	if len(ev) == 0 {
		return
	}
	fmt.Fprintf(w, "%sevidence:\n", indent)
	for _, e := range ev {
		fmt.Fprintf(w, "%s  %s\n", indent, e)
	}
}

// offset writes t relative to the decision's time ref.
func offset(t, ref time.Time) string {
	if t.IsZero() {
		return "time unknown"
	}
	d := t.Sub(ref).Round(time.Millisecond)
	if d >= 0 {
		return "+" + d.String()
	}
	return d.String()
}
