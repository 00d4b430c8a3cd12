package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/athenaos/athena/swarm/record"
	"github.com/athenaos/athena/syscalls"
)

// maxExamples bounds Events.Examples.
const maxExamples = 6

// entry is one decision of a record: a gate decision or a swarm one.
type entry struct {
	time  time.Time
	gate  *syscalls.Decision
	swarm *record.Decision
}

// recordFile is a container's decision record, read back.
type recordFile struct {
	found   bool
	mode    string
	policy  string
	entries []entry
	dropped int
	lost    int
	cut     int
}

// readRecord reads a decision record. A missing file is an empty record
// with found false: athena removes the record of a deleted container that
// holds no decisions.
func readRecord(path string) (*recordFile, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &recordFile{}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseRecord(data), nil
}

// parseRecord parses the JSON lines of a record. Lines it cannot read (a
// line cut by a full disk or a kill) are counted, never fatal.
func parseRecord(data []byte) *recordFile {
	rf := &recordFile{found: true}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var head struct {
			Type    string `json:"type"`
			Mode    string `json:"mode"`
			Policy  string `json:"policy"`
			Records int    `json:"records"`
		}
		if err := json.Unmarshal(line, &head); err != nil {
			rf.cut++
			continue
		}
		switch head.Type {
		case "start":
			rf.mode, rf.policy = head.Mode, head.Policy
		case "dropped":
			rf.dropped += head.Records
		case "lost":
			rf.lost += head.Records
		case syscalls.DecisionType:
			d, err := syscalls.ParseDecision(line)
			if err != nil {
				rf.cut++
				continue
			}
			rf.entries = append(rf.entries, entry{time: d.Time, gate: &d})
		case record.Type:
			d, ok, err := record.Parse(line)
			if err != nil || !ok {
				rf.cut++
				continue
			}
			rf.entries = append(rf.entries, entry{time: d.Time, swarm: &d})
		}
	}
	sort.SliceStable(rf.entries, func(i, j int) bool { return rf.entries[i].time.Before(rf.entries[j].time) })
	return rf
}

// Strengths of actions, for "the strongest action taken".
const (
	strNone = iota
	strRecord
	strDelay
	strDeny
	strKill
)

var strengthNames = []string{"none", "record", "delay", "deny", "kill"}

// strength ranks an entry's action. A gate refusal is a deny (errno) or a
// kill; a gate call that ran is nothing (it is a learn-mode or log
// record, not a response).
func (e entry) strength() int {
	if e.gate != nil {
		switch a := e.gate.Action; {
		case a == "allow" || a == "":
			return strNone
		case a == "kill" || a == "kill-thread":
			return strKill
		default:
			return strDeny
		}
	}
	switch e.swarm.Action {
	case "kill":
		return strKill
	case "deny":
		return strDeny
	case "delay":
		return strDelay
	default:
		return strRecord
	}
}

// isDecision reports whether the entry counts as a decision about the
// container: a refusal, or any swarm decision.
func (e entry) isDecision() bool { return e.swarm != nil || e.strength() > strNone }

// agents names who decided: "rules" for the gate (its rule in brackets),
// the agent and its voters for the swarm.
func (e entry) agents() []string {
	if e.gate != nil {
		return []string{"rules"}
	}
	out := []string{e.swarm.Agent}
	for _, v := range e.swarm.Votes {
		out = append(out, v.Agent)
	}
	return out
}

// describe renders an entry for people, on one line.
func (e entry) describe() string {
	if d := e.gate; d != nil {
		what := d.Syscall
		switch {
		case d.Net != nil && d.Net.Endpoint != "":
			what += " " + d.Net.Endpoint
		case d.Path != "":
			what += " " + d.Path
			if d.Target != "" && d.Target != d.Path {
				what += " -> " + d.Target
			}
		}
		s := fmt.Sprintf("rules: %s %s => %s [%s]", d.Comm, what, d.Action, d.Rule)
		if d.Repeats > 0 {
			s += fmt.Sprintf(" x%d", d.Repeats+1)
		}
		return s
	}
	d := e.swarm
	s := fmt.Sprintf("%s: %s asked %s => %s (%s)", d.Agent, d.Comm, d.Asked, d.Action, d.Reason)
	if len(d.Votes) > 0 {
		var v []string
		for _, x := range d.Votes {
			v = append(v, x.Agent+":"+x.Action)
		}
		s += " votes " + strings.Join(v, ",")
	}
	return s
}

// count is how many calls an entry stands for (a folded gate line stands
// for Repeats+1).
func (e entry) count() int {
	if e.gate != nil {
		return e.gate.Repeats + 1
	}
	return e.swarm.Repeats + 1
}

// summarize folds the entries that keep says into Events. comm, when not
// empty, keeps only entries of tasks with that command name.
func (rf *recordFile) summarize(keep func(entry) bool) Events {
	ev := Events{Found: rf.found, Mode: rf.mode, Policy: rf.policy, Dropped: rf.dropped, Lost: rf.lost, Cut: rf.cut}
	agents, wd := map[string]bool{}, map[string]bool{}
	for _, e := range rf.entries {
		if keep != nil && !keep(e) {
			continue
		}
		if e.gate != nil && e.gate.WouldDeny {
			ev.WouldDeny += e.count()
			k := e.gate.Syscall + " [" + e.gate.Rule + "]"
			if !wd[k] {
				wd[k] = true
				ev.WouldDenyCalls = append(ev.WouldDenyCalls, k)
			}
		}
		switch {
		case e.swarm != nil:
			if ev.Swarm == nil {
				ev.Swarm = map[string]int{}
			}
			ev.Swarm[e.swarm.Action] += e.count()
		case e.strength() > strNone:
			ev.Refusals += e.count()
			if ev.ByRule == nil {
				ev.ByRule = map[string]int{}
			}
			ev.ByRule[e.gate.Rule] += e.count()
		default:
			ev.Logged += e.count()
			continue
		}
		for _, a := range e.agents() {
			agents[a] = true
		}
		if len(ev.Examples) < maxExamples {
			ev.Examples = append(ev.Examples, e.describe())
		}
	}
	ev.Agents = sortedKeys(agents)
	return ev
}

// falsePositive reports whether a benign run's events count against the
// enforcement: a refusal, or a swarm deny or kill.
func (ev Events) falsePositive() bool {
	return ev.Refusals > 0 || ev.Swarm["deny"] > 0 || ev.Swarm["kill"] > 0
}

// detection is what a record says about an attack triggered at t0.
type detection struct {
	detected     bool
	first        time.Duration // to the first decision at or after t0
	firstAct     time.Duration // to the first that did something
	hasAct       bool
	strongest    int
	agents       []string
	noise        int // decisions before t0
	afterTrigger Events
}

// detect looks at the decisions of a record relative to a trigger at t0.
func (rf *recordFile) detect(t0 time.Time) detection {
	var d detection
	agents := map[string]bool{}
	for _, e := range rf.entries {
		if !e.isDecision() {
			continue
		}
		if e.time.Before(t0) {
			d.noise += e.count()
			continue
		}
		dt := e.time.Sub(t0)
		if !d.detected {
			d.detected, d.first = true, dt
		}
		if s := e.strength(); s >= strDelay && !d.hasAct {
			d.hasAct, d.firstAct = true, dt
		}
		if s := e.strength(); s > d.strongest {
			d.strongest = s
		}
		for _, a := range e.agents() {
			agents[a] = true
		}
	}
	d.agents = sortedKeys(agents)
	d.afterTrigger = rf.summarize(func(e entry) bool { return !e.time.Before(t0) })
	return d
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ms converts a duration to float milliseconds for the results file.
func ms(d time.Duration) *float64 {
	v := float64(d.Microseconds()) / 1000
	return &v
}
