package sentry

import (
	"gvisor.dev/gvisor/pkg/log"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/heal"
	"github.com/athenaos/athena/swarm/supervisor"
)

// HealStatus is the healer agent's view in swarm status: per container,
// the processes athena init supervises (docs/healer.md).
type HealStatus struct {
	Containers []HealContainerStatus `json:"containers"`
	// Dropped counts reaps the sentry could not hand to the agent (its
	// channel was full).
	Dropped uint64 `json:"dropped,omitempty"`
}

// HealContainerStatus is one container's supervised processes.
type HealContainerStatus struct {
	Container string               `json:"container"`
	Finished  bool                 `json:"finished"`
	Orphans   uint64               `json:"orphans"`
	Processes []heal.ProcessStatus `json:"processes"`
}

// startHeal adds the healer agent to the swarm. It follows a container
// from the first exit athena init reaps there (its configuration comes
// from the container's policy, its main command from init's arguments).
func (d *swarmDriver) startHeal() error {
	a := heal.New()
	// Advisory: athena init restarts on its own; without the agent only
	// the swarm's view of it stops.
	if err := d.sec.AddAgent(supervisor.Spec{Agent: a, Policy: supervisor.FailOpen}); err != nil {
		return err
	}
	d.healAgent = a
	return nil
}

// drainHeal feeds the reaps athena init made to the healer agent.
func (d *swarmDriver) drainHeal() int {
	w := d.rec.gate.reaps
	if w == nil || d.healAgent == nil {
		return 0
	}
	n := 0
	for {
		select {
		case r := <-w.reaps:
			n++
			if r.slot >= maxSlots {
				continue
			}
			if !d.healFollows[r.slot] {
				d.healFollows[r.slot] = true
				table, _ := d.rec.gate.TableOf(r.slot)
				if cfg, ok := heal.ConfigFromPolicy(table.Policy().Heal, []string{r.main}); ok {
					if err := d.healAgent.AddContainer(r.slot, cfg); err != nil {
						log.Warningf("athena: swarm: healer does not follow container slot %d: %v", r.slot, err)
					}
				}
			}
			d.oev = event.Event{Time: r.time, Kind: event.KindLifecycle, Ops: event.LifeOpExit, Container: r.slot, PID: r.pid, TID: r.pid}
			copy(d.oev.Comm[:], r.comm)
			if r.status.Exited() {
				d.oev.Args[0], d.oev.Args[1] = 1, uint64(r.status.ExitStatus())
			} else {
				d.oev.Args[2] = uint64(r.status.TerminationSignal())
			}
			d.observe(&d.oev)
		default:
			return n
		}
	}
}

// healStatus returns the healer's view, nil when it follows nothing.
func (d *swarmDriver) healStatus() *HealStatus {
	if d.healAgent == nil {
		return nil
	}
	hs := d.healAgent.Status()
	dropped := d.rec.gate.reaps.Dropped.Load()
	if len(hs.Containers) == 0 && dropped == 0 {
		return nil
	}
	st := &HealStatus{Dropped: dropped}
	for _, c := range hs.Containers {
		st.Containers = append(st.Containers, HealContainerStatus{Container: d.containerID(c.Slot), Finished: c.Finished, Orphans: c.Orphans, Processes: c.Processes})
	}
	return st
}
