package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/sentry"
	"github.com/athenaos/athena/swarm/record"
)

// swarmStatus polls a running container's swarm status until cond holds.
func swarmStatus(t *testing.T, id, what string, cond func(*sentry.Status) bool) *sentry.Status {
	t.Helper()
	bin := athenaBinary(t)
	var st sentry.Status
	eventually(t, 20*time.Second, what, func() bool {
		st = sentry.Status{}
		r := runCmd(t, "", bin, "swarm", "status", "--json", id)
		return r.code == 0 && json.Unmarshal([]byte(r.stdout), &st) == nil && st.Swarm != nil && cond(&st)
	})
	return &st
}

// TestFaultAddresses: the athena platform reports the page faults the
// sentry handles with their addresses and access. The probe maps 16 MiB of
// anonymous memory at a fixed address and writes to every page; gVisor
// maps private anonymous memory in 2 MiB units, so the writes fault once
// per unit, at each unit's first page.
func TestFaultAddresses(t *testing.T) {
	requireIntegration(t)
	probe := probeBinary(t)
	name := uniqueName("athena-faults")
	startDetached(t, "athena", name, "-v", probe+":/probe:ro", "--", "/probe", "touch", "7e0000000000", "4096", "30")
	id := inspect(t, name, "{{.Id}}")
	const base, unit, units = 0x7e0000000000, 2 << 20, 8
	st := swarmStatus(t, id, "the probe's faults in the status", func(st *sentry.Status) bool {
		m := st.Swarm.Memory
		if m == nil {
			return false
		}
		seen := 0
		for _, f := range m.Recent {
			if f.Addr >= base && f.Addr < base+units*unit {
				seen++
			}
		}
		return seen == units && m.Usage[id] >= 16<<20 // sampled each second
	})
	m := st.Swarm.Memory
	if m.Platform != "athena" || !m.Faults {
		t.Errorf("platform %q, faults watched %v: want athena, true", m.Platform, m.Faults)
	}
	want := map[uint64]bool{}
	for i := range uint64(units) {
		want[base+i*unit] = true
	}
	for _, f := range m.Recent {
		if f.Addr < base || f.Addr >= base+units*unit {
			continue
		}
		if !want[f.Addr] || f.Access != "-w-" || f.PID != 1 || f.TID != 1 {
			t.Errorf("fault %+v: want a write by PID 1 at the start of a 2 MiB unit of %#x", f, uint64(base))
		}
		delete(want, f.Addr)
	}
	if len(want) > 0 {
		t.Errorf("no fault at %v", want)
	}
}

// memoryPolicy allows every call and configures the memory agent.
const memoryPolicy = "version: 1\nmode: enforce\ndefault: allow\nmemory:\n"

// TestMemoryBudgetKills: a container over its memory budget loses its
// largest thread group (the documented budget action, kill), which is
// recorded as a limit the operator set, carried without a quorum.
func TestMemoryBudgetKills(t *testing.T) {
	requireIntegration(t)
	probe := probeBinary(t)
	dir := t.TempDir()
	rt := "athena-it-budget"
	registerRuntime(t, rt, "--athena-events-dir="+dir, "--athena-policy="+writePolicy(t, memoryPolicy+"  budget: 64Mi\n"))
	start := time.Now()
	r, id := runRecorded(t, rt, busybox, []string{"-v", probe + ":/probe:ro"}, "/probe", "alloc", "160", "60")
	if r.code != 137 || time.Since(start) > 40*time.Second {
		t.Fatalf("probe over budget: %v after %v; want killed (137) within seconds", r, time.Since(start))
	}
	var kill *record.Decision
	for _, d := range swarmDecisions(t, dir, id) {
		if d.Agent == "memory" && d.Action == "kill" && d.Carried {
			kill = &d
		}
	}
	if kill == nil || kill.PID != 1 || !strings.Contains(kill.Reason, "over budget 64 MiB") || !strings.HasPrefix(kill.Quorum, "none needed") {
		t.Fatalf("budget kill record %+v; decisions %+v", kill, swarmDecisions(t, dir, id))
	}

	// Under the budget the same program runs to its end.
	r, _ = runRecorded(t, rt, busybox, []string{"-v", probe + ":/probe:ro"}, "/probe", "alloc", "16", "0")
	if r.code != 0 || !strings.Contains(r.stdout, "ok") {
		t.Errorf("probe under budget: %v", r)
	}
}

// TestAnonExecAndWX: executing code written into anonymous memory, and
// asking for a writable and executable mapping, are detected and recorded
// with their evidence. The memory agent alone has no quorum to kill, so
// the probe runs on: the votes are what another detector would meet.
func TestAnonExecAndWX(t *testing.T) {
	requireIntegration(t)
	probe := probeBinary(t)
	dir := t.TempDir()
	rt := "athena-it-anonexec"
	registerRuntime(t, rt, "--athena-events-dir="+dir, "--athena-policy="+writePolicy(t, memoryPolicy+"  mode: enforce\n"))
	r, id := runRecorded(t, rt, busybox, []string{"-v", probe + ":/probe:ro"}, "sh", "-c", "/probe anonexec; /probe wx")
	if r.code != 0 || strings.Count(r.stdout, "ok") != 2 {
		t.Fatalf("probe: %v", r)
	}
	var exec, wx *record.Decision
	for _, d := range swarmDecisions(t, dir, id) {
		if d.Agent != "memory" {
			continue
		}
		switch {
		case d.Asked == "kill" && strings.Contains(strings.Join(d.Evidence, " "), "anon"):
			exec = &d
		case d.Asked == "deny" && strings.Contains(strings.Join(d.Evidence, " "), "PROT_WRITE|PROT_EXEC"):
			wx = &d
		}
	}
	if exec == nil || !exec.Pending || exec.Carried {
		t.Errorf("anonymous exec decision %+v: want a pending kill vote with the fault's evidence", exec)
	}
	if wx == nil || !wx.Pending {
		t.Errorf("W+X decision %+v: want a pending deny vote naming the protection", wx)
	}
	if t.Failed() {
		t.Logf("decisions: %+v", swarmDecisions(t, dir, id))
	}
}
