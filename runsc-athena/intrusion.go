package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"
)

// Security rollback (docs/healer.md): a container whose policy says
// heal.on_intrusion: rollback is restored, on a confirmed intrusion, from
// its newest checkpoint taken before the first anomaly, instead of only
// losing the process the swarm killed. The keeper reads the decisions from
// the container's record, as swarm events does:
//
//   - an anomaly is a gate decision that refused or killed a call (action
//     other than allow or log), or a swarm decision of any agent but the
//     healer's and the scheduler's;
//   - a confirmed intrusion is a kill carried out: by a rule of the
//     operator's (a gate decision) or by the swarm's quorum (carried).
type intrusionWatch struct {
	path   string
	offset int64
	// firstAnomaly is the time of the first anomaly since the last
	// rollback (zero: none); intrusion describes the confirmed one.
	firstAnomaly time.Time
	intrusion    string
}

// recordLine is the part of a record line the watch reads.
type recordLine struct {
	Type    string    `json:"type"`
	Time    time.Time `json:"time"`
	Agent   string    `json:"agent"`
	Action  string    `json:"action"`
	Carried bool      `json:"carried"`
	PID     int32     `json:"pid"`
	Comm    string    `json:"comm"`
	Syscall string    `json:"syscall"`
	Rule    string    `json:"rule"`
	Reason  string    `json:"reason"`
}

// skipToEnd starts the watch at the record's current end: what came
// before is judged already.
func (w *intrusionWatch) skipToEnd() {
	if fi, err := os.Stat(w.path); err == nil {
		w.offset = fi.Size()
	}
	w.firstAnomaly, w.intrusion = time.Time{}, ""
}

// scan reads the lines appended since the last scan and reports whether a
// confirmed intrusion is among them (or was before).
func (w *intrusionWatch) scan() bool {
	f, err := os.Open(w.path)
	if err != nil {
		return w.intrusion != ""
	}
	defer f.Close()
	if _, err := f.Seek(w.offset, io.SeekStart); err != nil {
		return w.intrusion != ""
	}
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			break // a partial last line is read again next time
		}
		w.offset += int64(len(line))
		var l recordLine
		if json.Unmarshal(line, &l) != nil {
			continue
		}
		w.judge(&l)
	}
	return w.intrusion != ""
}

// judge applies the rules above to one record line.
func (w *intrusionWatch) judge(l *recordLine) {
	var anomaly, kill bool
	switch l.Type {
	case "decision":
		anomaly = l.Action != "allow" && l.Action != "log"
		kill = l.Action == "kill"
	case "swarm":
		anomaly = l.Agent != "healer" && l.Agent != "sched"
		kill = anomaly && l.Action == "kill" && l.Carried
	}
	if anomaly && w.firstAnomaly.IsZero() {
		w.firstAnomaly = l.Time
	}
	if kill && w.intrusion == "" {
		what := l.Reason
		if l.Type == "decision" {
			what = fmt.Sprintf("%s by rule %q", l.Syscall, l.Rule)
		}
		w.intrusion = fmt.Sprintf("intrusion: pid %d (%s) killed: %s", l.PID, l.Comm, what)
	}
}
