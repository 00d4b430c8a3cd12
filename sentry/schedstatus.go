package sentry

import (
	"slices"
	"time"

	"github.com/athenaos/athena/swarm/sched"
)

// SchedStatus is the scheduler's view, for the status file: the agent's
// per-container state and the kernel side's per-task times.
type SchedStatus struct {
	// CPUs is the capacity the agent shares; Period its scheduling
	// period; Periods the periods closed.
	CPUs    float64 `json:"cpus"`
	Period  string  `json:"period"`
	Periods uint64  `json:"periods"`
	// Holds counts holds published (enforce) and WouldHold those only
	// computed (observe); Stops the external stops begun.
	Holds     uint64 `json:"holds"`
	WouldHold uint64 `json:"would_hold"`
	Stops     uint64 `json:"stops"`
	// Dropped counts sample batches lost (the drainer was behind);
	// Crashes the kernel side's restarts.
	Dropped uint64 `json:"dropped,omitempty"`
	Crashes uint64 `json:"crashes,omitempty"`
	// TaskLimit is the most tasks the sandbox may hold (its share of
	// --pids-limit; 0: none); SpawnsRefused counts task creations
	// refused with EAGAIN over it (limit) or under a fork-bomb block
	// (block).
	TaskLimit     int64                  `json:"task_limit,omitempty"`
	SpawnsRefused map[string]uint64      `json:"spawns_refused,omitempty"`
	Containers    []SchedContainerStatus `json:"containers"`
	// Tasks are the busiest tasks (CPU time plus time held), at most 32.
	Tasks []SchedTaskStatus `json:"tasks,omitempty"`
}

// SchedContainerStatus is one container's share of the CPUs.
type SchedContainerStatus struct {
	Container string `json:"container"`
	Mode      string `json:"mode"`
	// Weight and Quota (CPUs; 0: none) as in force, and where they came
	// from ("oci", "policy" or "default").
	Weight     uint32  `json:"weight"`
	Quota      float64 `json:"quota,omitempty"`
	ConfigFrom string  `json:"config_from,omitempty"`
	// Used, Demand and Alloc are CPUs over the latest period (Used) and
	// for the next (Demand: unheld; Alloc: allowed); Debt is CPU time
	// used over the quota and not yet paid back.
	Used   float64 `json:"used_cpus"`
	Demand float64 `json:"demand_cpus"`
	Alloc  float64 `json:"alloc_cpus"`
	Debt   string  `json:"debt,omitempty"`
	Held   int     `json:"held_tasks"`
	// RunNS, WaitNS and ThrottledNS are its tasks' totals (live tasks:
	// CPU time, time blocked, time held).
	RunNS       uint64 `json:"run_ns"`
	WaitNS      uint64 `json:"wait_ns"`
	ThrottledNS uint64 `json:"throttled_ns"`
	// SpawnRate is thread groups created in its latest busy second.
	SpawnRate uint32 `json:"spawn_rate"`
	Spawned   uint64 `json:"spawned"`
	// SpawnsBlockedUntil is when a fork-bomb block of its new processes
	// ends (empty: none in force).
	SpawnsBlockedUntil string `json:"spawns_blocked_until,omitempty"`
}

// schedStatus builds the status from the agent and the kernel side.
func schedStatus(a *sched.Agent, l *schedLoop, g *spawnGuard, name func(uint32) string, from map[uint32]string) *SchedStatus {
	cfg := a.Config()
	st := a.Stats()
	s := &SchedStatus{CPUs: cfg.CPUs, Period: cfg.Period.String(), Periods: st.Periods, Holds: st.Holds, WouldHold: st.WouldHold,
		Stops: l.stops.Load(), Dropped: l.dropped.Load(), Crashes: l.crashes.Load()}
	s.TaskLimit = g.limit.Load()
	if lim, blk := g.RefusedLimit.Load(), g.RefusedBlock.Load(); lim+blk > 0 {
		s.SpawnsRefused = map[string]uint64{"limit": lim, "block": blk}
	}
	ls := l.status.Load()
	per := float64(cfg.Period)
	for _, c := range a.Containers() {
		cs := SchedContainerStatus{Container: name(c.Container), Mode: c.Config.Mode.String(), Weight: c.Config.Weight, Quota: c.Config.Quota,
			ConfigFrom: from[c.Container], Used: float64(c.Used) / per, Demand: float64(c.Demand) / per, Alloc: float64(c.Alloc) / per,
			Held: c.Held, SpawnRate: c.SpawnRate, Spawned: c.Spawned}
		if c.Container < maxSlots {
			if until := g.blockUntil[c.Container].Load(); until > time.Now().UnixNano() {
				cs.SpawnsBlockedUntil = time.Unix(0, until).UTC().Format(time.RFC3339)
			}
		}
		if c.Debt > 0 {
			cs.Debt = c.Debt.Round(time.Microsecond).String()
		}
		if ls != nil {
			cs.RunNS, cs.WaitNS, cs.ThrottledNS = ls.Run[c.Container], ls.Wait[c.Container], ls.Held[c.Container]
		}
		s.Containers = append(s.Containers, cs)
	}
	if ls != nil {
		s.Tasks = slices.Clone(ls.Tasks)
		for i := range s.Tasks {
			t := &s.Tasks[i]
			if at, ok := a.Task(t.Container, t.TID); ok {
				t.Duty, t.Interactive = at.Duty, at.Interactive
				if at.Hold > 0 {
					t.Hold = at.Hold.Round(time.Microsecond).String()
				}
			}
		}
	}
	return s
}
