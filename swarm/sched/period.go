package sched

import (
	"fmt"
	"strconv"
	"time"

	"github.com/athenaos/athena/swarm/agent"
)

// closePeriod ends the current period at a.now: it measures the tasks,
// splits the CPUs among containers, thread groups and tasks, publishes
// the holds of the next period and appends busy-loop decisions.
func (a *Agent) closePeriod(out []agent.Decision) []agent.Decision {
	now := a.now
	window := float64(now - a.periodStart)
	period := float64(a.cfg.Period)
	a.stats.Periods++

	// Containers: index by order, reset the period's sums.
	a.cshares = a.cshares[:0]
	for _, c := range a.order {
		c.used, c.demand, c.interDemand, c.alloc, c.held, c.hold = 0, 0, 0, 0, 0, 0
		a.cshares = append(a.cshares, share{weight: float64(c.cfg.Weight)})
	}
	a.gshares, a.gowner = a.gshares[:0], a.gowner[:0]
	a.tshares, a.towner, a.tkeys = a.tshares[:0], a.towner[:0], a.tkeys[:0]
	clear(a.gindex)

	// Tasks: demand, interactivity, busy loops; claimants by group.
	burst := uint64(a.cfg.InteractiveBurst)
	a.tasks.All(func(key uint64, t *taskSlot) bool {
		slot := uint32(key >> 32)
		ci := a.containerIndex(slot)
		if ci < 0 {
			return true
		}
		c := a.order[ci]
		r, w, b := t.wRun, t.wWait, t.wBlocks
		c.used += uint64(r)
		// A task measured for the first time is not held yet: one
		// window does not tell a server that has not blocked yet from
		// a hog.
		fresh := t.flags&flagHasDuty == 0
		switch {
		case r+w > 0:
			d := float32(r) / float32(uint64(r)+uint64(w))
			if t.flags&flagHasDuty != 0 {
				d = (t.duty + d) / 2
			}
			t.duty = d
			t.flags |= flagHasDuty
			t.flags &^= flagInteractive
			// Short bursts between blocks, or blocked at all in the
			// last 8 periods: the sentry samples blocks every 5ms, so it
			// undercounts them and overestimates bursts, and under
			// gVisor a loaded server spends most of its time in the
			// sentry, runnable; only a task never seen blocked is a
			// hog to hold for the others' sake.
			t.blockedHist <<= 1
			if w > 0 || b > 0 {
				t.blockedHist |= 1
			}
			if r > 0 && b > 0 && uint64(r)/uint64(b) <= burst || t.blockedHist != 0 {
				t.flags |= flagInteractive
			}
		case t.hold == 0:
			// no sample, or no time in it, and not held: idle.
			if t.duty /= 2; t.duty < 1e-3 {
				t.duty = 0
			}
		}
		out = a.busy(c, key, t, now, out)
		// The rate it ran at while not held (its hold in this window
		// is taken as the one computed for it).
		// Smoothed like the duty: the CPU figures are 10ms ticks.
		if r+w > 0 || t.hold > 0 {
			rate := float32(min(float64(r)/max(window-float64(t.hold), window/20), 1))
			if t.flags&flagHasRate != 0 {
				rate = (t.rate + rate) / 2
			}
			t.rate = rate
			t.flags |= flagHasRate
		}
		t.wRun, t.wWait, t.wBlocks, t.hold = 0, 0, 0, 0
		if t.duty == 0 {
			return true
		}
		dem := float64(t.duty) * period
		c.demand += dem
		if c.cfg.Mode == ModeLearn {
			return true
		}
		inter := t.flags&flagInteractive != 0
		if inter {
			c.interDemand += dem
		}
		gk := uint64(slot) << 32
		if c.cfg.FairGroups {
			gk |= uint64(uint32(t.pid))
		}
		gi, ok := a.gindex[gk]
		if !ok {
			gi = int32(len(a.gshares))
			a.gindex[gk] = gi
			a.gshares = append(a.gshares, share{weight: 1, interactive: true})
			a.gowner = append(a.gowner, int32(ci))
		}
		g := &a.gshares[gi]
		g.demand += dem
		g.interactive = g.interactive && inter
		a.tshares = append(a.tshares, share{demand: dem, weight: 1, interactive: inter, rate: float64(t.rate), fresh: fresh})
		a.towner = append(a.towner, gi)
		a.tkeys = append(a.tkeys, key)
		return true
	})

	// Containers: quota (with its debt), then fair share of the CPUs
	// that learn-mode containers leave.
	capacity := a.cfg.CPUs * period
	for ci, c := range a.order {
		c.usedTotal += c.used
		if c.cfg.Mode == ModeLearn {
			capacity -= c.demand
			c.alloc = c.demand
			continue
		}
		dem := c.demand
		if q := c.cfg.Quota; q > 0 {
			c.debt = min(max(c.debt+float64(c.used)-q*window, -q*period), q*period*DebtPeriods)
			// The debt is paid back over debtPayback periods: the
			// sentry's CPU figures are 10ms ticks, noisy period to
			// period, and paying all of it at once swings the
			// holds between none and the whole period.
			// The debt is the hogs' to pay: the allowance never
			// drops below what the interactive tasks need (within
			// the quota), so they are not held for the others'
			// overrun; the hogs, cut first, pay it back.
			dem = min(dem, max(q*period-c.debt/debtPayback, min(c.interDemand, q*period)))
		}
		a.cshares[ci].demand = dem
	}
	all := a.gorder[:0]
	for ci, c := range a.order {
		if c.cfg.Mode != ModeLearn {
			all = append(all, int32(ci))
		}
	}
	if len(all) == 1 && a.order[all[0]].cfg.Quota == 0 && !a.order[all[0]].cfg.FairGroups {
		// A container alone, without a quota or fair groups, has
		// nobody to give CPU to: holding its tasks for a share of the
		// CPUs would only leave them idle (the host already shares
		// them among its threads).
		capacity = max(capacity, a.cshares[all[0]].demand)
	}
	split(a.cshares, all, capacity)
	a.gorder, a.gstarts = bucket(a.gowner, len(a.order), all, a.gstarts)
	for ci, c := range a.order {
		if c.cfg.Mode == ModeLearn {
			continue
		}
		c.alloc = a.cshares[ci].alloc
		split(a.gshares, a.gorder[a.gstarts[ci]:a.gstarts[ci+1]], c.alloc)
	}
	a.torder, a.tstarts = bucket(a.towner, len(a.gshares), a.torder, a.tstarts)
	for gi := range a.gshares {
		split(a.tshares, a.torder[a.tstarts[gi]:a.tstarts[gi+1]], a.gshares[gi].alloc)
	}

	// Holds: a task that runs at rate r while not held, held h, runs
	// about r × (Period − h), so allowing it alloc needs h = Period ×
	// (1 − alloc/(r × Period)). The rate, not the demand (duty × Period):
	// a hog that the host already gives less than its demand (more
	// runnable threads than CPUs) needs less holding, or none, and
	// holding it anyway would leave CPUs idle.
	until := now + int64(a.cfg.Period)
	var entries []Throttle
	minHold := float64(a.cfg.MinHold)
	for i, ts := range a.tshares {
		runs := ts.rate * period
		if ts.alloc >= ts.demand || ts.alloc >= runs || ts.fresh {
			continue
		}
		h := min(period*(1-ts.alloc/runs), period)
		key := a.tkeys[i]
		t, _ := a.tasks.Get(key)
		t.hold = uint32(h)
		if h < minHold || t.hold == 0 {
			continue
		}
		c := a.order[a.gowner[a.towner[i]]]
		c.held++
		c.hold += uint64(t.hold)
		if c.cfg.Mode != ModeEnforce {
			a.stats.WouldHold++
			continue
		}
		a.stats.Holds++
		entries = append(entries, Throttle{TID: int32(uint32(key)), Container: uint32(key >> 32), HoldNS: t.hold, Until: until})
	}
	sortThrottles(entries)
	a.gen++
	a.published.Store(&Table{Gen: a.gen, Start: now, Until: until, Entries: entries})
	a.periodStart = now
	return out
}

// containerIndex returns a container's index in a.order, -1 if absent.
func (a *Agent) containerIndex(slot uint32) int {
	lo, hi := 0, len(a.order)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a.order[m].slot < slot {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(a.order) && a.order[lo].slot == slot {
		return lo
	}
	return -1
}

// busy follows a task's run without blocking, at the close of a period
// in which it ran r and blocked b times: a period with CPU time, no
// block and at most 1% of its time waiting continues the run; a period
// the task spent held without running neither continues nor ends it;
// any other ends it. A run of BusyAfter decides (ActDelay for Delay in
// enforce mode) and starts counting again, so a busy loop gets one
// decision every BusyAfter.
func (a *Agent) busy(c *container, key uint64, t *taskSlot, now int64, out []agent.Decision) []agent.Decision {
	if a.cfg.BusyAfter < 0 {
		return out
	}
	r, w, b := uint64(t.wRun), uint64(t.wWait), t.wBlocks
	switch {
	case r > 0 && b == 0 && w*100 <= r+w:
		if t.busySince == 0 {
			t.busySince = a.periodStart
		}
	case r == 0 && b == 0 && w == 0 && t.hold > 0:
		return out
	default:
		t.busySince = 0
		return out
	}
	streak := time.Duration(now - t.busySince)
	if streak < a.cfg.BusyAfter || c.cfg.Mode == ModeLearn {
		return out
	}
	t.busySince = now
	tid := int32(uint32(key))
	d := agent.Decision{
		Agent:     Name,
		Container: c.slot,
		PID:       t.pid,
		TID:       tid,
		Action:    agent.ActDelay,
		Delay:     a.cfg.Delay,
		Score:     min(1, float64(streak)/float64(2*a.cfg.BusyAfter)),
		Reason: fmt.Sprintf("busy loop: ran %v without blocking (threshold %v)",
			streak.Round(time.Millisecond), a.cfg.BusyAfter),
		Evidence: []string{
			"streak=" + streak.Round(time.Millisecond).String(),
			"duty=" + strconv.FormatFloat(float64(t.duty), 'f', 2, 32),
			"blocks=0",
			"tid=" + strconv.Itoa(int(tid)),
		},
	}
	return a.emit(c, d, out)
}
