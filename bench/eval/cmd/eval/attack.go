package main

import (
	"context"
	"fmt"
	"log"
	"strings"
	"sync"
	"time"
)

// attackDescriptions say what each trigger route makes the server do
// (bench/eval/app/server.py).
var attackDescriptions = []struct{ name, desc string }{
	{"shell", "spawns `sh -c id` (command injection)"},
	{"revshell", "connects to the host and runs `sh -i` on the socket (reverse shell)"},
	{"shadow", "reads /etc/shadow, then connects to the host and sends it"},
	{"exfil", "reads up to 200 files under /etc, then connects to the host and sends them"},
	{"ptrace", "forks a child and PTRACE_ATTACHes to it"},
	{"forkbomb", "forks as fast as it can for up to 5 s (at most 200 children; --pids-limit 2048, --memory 4g)"},
	{"drop", "writes a 161-byte ELF to /tmp/.cache-update (mode 0755) and runs it"},
}

func attackNames() []string {
	var out []string
	for _, a := range attackDescriptions {
		out = append(out, a.name)
	}
	return out
}

func attackDescription(name string) string {
	for _, a := range attackDescriptions {
		if a.name == name {
			return a.desc
		}
	}
	return ""
}

// afterRequests is how many benign requests follow a trigger, to see
// whether the server still serves.
const afterRequests = 20

// triggerRun is one web container with one trigger.
type triggerRun struct {
	id                      string
	t0                      time.Time
	status                  int
	steps                   []Step
	text                    string
	seconds                 float64
	sinkConns, sinkBytes    int
	shell                   bool
	servedBefore, servedAft int
	seen                    *time.Duration // when a decision first showed in the record
	record                  *recordFile
	err                     string // the run could not trigger (server not up)
}

// runTrigger starts the web server under rt, sends warm-up requests,
// triggers the attack, watches the record, sends some requests after,
// and stops the server. The record is read after the container is gone.
func (h *harness) runTrigger(ctx context.Context, rt, family, name, cname string) (*triggerRun, error) {
	w := &webWorkload{h: h}
	s, notReady, err := w.startServer(ctx, rt, cname)
	if err != nil {
		if s != nil {
			h.stop(ctx, s.c)
		}
		return nil, err
	}
	tr := &triggerRun{id: s.c.id}
	if notReady != "" {
		h.stop(ctx, s.c)
		tr.err = notReady
		tr.record, err = readRecord(h.recordPath(family, tr.id))
		return tr, err
	}
	st := load(ctx, s.base, h.warmup, 0)
	tr.servedBefore = st.requests - st.failures
	sleep(ctx, 500*time.Millisecond) // the warm-up's records reach the file

	// Watch the record from the trigger on, for when a decision is
	// first visible to a reader on the host.
	path := h.recordPath(family, tr.id)
	tr.t0 = time.Now().UTC()
	watchCtx, stopWatch := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for watchCtx.Err() == nil {
			if rf, err := readRecord(path); err == nil {
				if d := rf.detect(tr.t0); d.detected {
					v := time.Since(tr.t0)
					tr.seen = &v
					return
				}
			}
			sleep(watchCtx, 50*time.Millisecond)
		}
	}()
	start := time.Now()
	status, steps, text, err := trigger(ctx, s.base, name)
	tr.seconds = time.Since(start).Seconds()
	if err != nil {
		tr.text = "request failed: " + errorKind(err)
	} else {
		tr.status, tr.steps, tr.text = status, steps, text
	}
	// Let the recorder drain (it sleeps up to 320 ms when idle) and the
	// sink's connections finish.
	h.sink.settle(3 * time.Second)
	sleep(ctx, 2*time.Second)
	stopWatch()
	wg.Wait()
	tr.sinkConns, tr.sinkBytes, tr.shell = h.sink.since(tr.t0)
	tr.shell = tr.shell && name == "revshell" // others may send "uid=" in a file

	after := load(ctx, s.base, afterRequests, 0)
	tr.servedAft = after.requests - after.failures
	h.stop(ctx, s.c)
	tr.record, err = readRecord(path)
	return tr, err
}

// attack runs one attack under the web family's enforcing runtime and,
// with control, under plain athena.
func (h *harness) attack(ctx context.Context, name string, control bool) (*Attack, error) {
	if err := h.restoreMemory(); err != nil {
		return nil, err
	}
	tr, err := h.runTrigger(ctx, enforceRuntime("web"), "web", name, "athena-eval-web-x-"+name)
	if err != nil {
		return nil, err
	}
	a := &Attack{Name: name, Description: attackDescription(name), Runtime: enforceRuntime("web"), Container: tr.id,
		Steps: tr.steps, HTTPStatus: tr.status, Response: tr.text, Seconds: tr.seconds,
		SinkConnections: tr.sinkConns, SinkBytes: tr.sinkBytes, ShellAnswered: tr.shell,
		ServedBefore: tr.servedBefore, WarmupRequests: h.warmup, ServedAfter: tr.servedAft, AfterRequests: afterRequests,
		Error: tr.err, Action: strengthNames[strNone]}
	if tr.err == "" {
		a.Trigger = tr.t0.Format(time.RFC3339Nano)
		d := tr.record.detect(tr.t0)
		a.Detected, a.Agents, a.Noise, a.Events = d.detected, d.agents, d.noise, d.afterTrigger
		a.Action = strengthNames[d.strongest]
		if d.detected {
			a.FirstMS = ms(d.first)
		}
		if d.hasAct {
			a.FirstActMS = ms(d.firstAct)
		}
		if tr.seen != nil {
			a.SeenMS = ms(*tr.seen)
		}
	} else {
		a.Events = tr.record.summarize(nil)
	}
	first := "-"
	if a.FirstMS != nil {
		first = fmt.Sprintf("%.1f ms", *a.FirstMS)
	}
	log.Printf("attack %s: detected=%v first=%s action=%s agents=%v steps=%s %s", name, a.Detected, first, a.Action, a.Agents, stepsLine(a.Steps), a.Error)
	if control {
		c, err := h.runTrigger(ctx, plainRuntime, "plain", name, "athena-eval-web-control-"+name)
		if err != nil {
			return nil, err
		}
		a.Control = &Control{Runtime: plainRuntime, Steps: c.steps, HTTPStatus: c.status, Response: c.text,
			SinkConnections: c.sinkConns, SinkBytes: c.sinkBytes, ShellAnswered: c.shell, Events: c.record.summarize(nil)}
		a.Control.Worked = c.err == "" && len(c.steps) > 0
		for _, s := range c.steps {
			if !strings.HasPrefix(s.Result, "ok") {
				a.Control.Worked = false
			}
		}
		if c.err != "" {
			a.Control.Response = c.err
		}
		log.Printf("control %s: worked=%v steps=%s", name, a.Control.Worked, stepsLine(c.steps))
	}
	return a, ctx.Err()
}

func stepsLine(steps []Step) string {
	var s []string
	for _, st := range steps {
		s = append(s, st.Step+": "+st.Result)
	}
	return "[" + strings.Join(s, " | ") + "]"
}
