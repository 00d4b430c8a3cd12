package integration

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/athenaos/athena/sentry"
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
