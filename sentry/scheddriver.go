package sentry

import (
	"runtime"
	"time"

	"gvisor.dev/gvisor/pkg/log"
	"gvisor.dev/gvisor/pkg/sentry/kernel"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/sched"
	"github.com/athenaos/athena/swarm/supervisor"
)

// startSched adds the scheduler agent to the swarm and starts its kernel
// side. The agent shares the CPUs the sandbox process may run on.
func (d *swarmDriver) startSched() error {
	sc := d.cfg.SchedAgent
	if sc == (sched.Config{}) {
		sc = sched.DefaultConfig()
		sc.CPUs = float64(runtime.NumCPU())
	}
	a, err := sched.New(sc)
	if err != nil {
		return err
	}
	// Advisory: if it cannot be kept running, the holds lapse within a
	// period and the tasks run as under plain gVisor.
	if err := d.sec.AddAgent(supervisor.Spec{Agent: a, Policy: supervisor.FailOpen}); err != nil {
		return err
	}
	d.schedAgent, d.schedFrom = a, map[uint32]string{}
	if d.cfg.SchedOn {
		if err := a.AddContainer(0, d.cfg.Sched); err != nil {
			return err
		}
		d.schedFrom[0] = d.cfg.SchedFrom
	}
	d.schedLoop = newSchedLoop(a.Published, d.slotOf, d.rec.gate.wakeDrainer)
	go d.schedLoop.run(func() *kernel.Kernel {
		if k := sandboxKernel.Load(); k != nil {
			return k
		}
		return d.feed.kernel.Load()
	})
	return nil
}

// addSchedContainer schedules a pod's container under its own policy.
func (d *swarmDriver) addSchedContainer(slot uint32, p *policy.Policy) {
	if d.schedAgent == nil {
		return
	}
	cc, on, from := SchedConfigFrom(p, d.rec.gate.ociResources(d.containerID(slot)))
	if !on {
		return
	}
	if err := d.schedAgent.AddContainer(slot, cc); err != nil {
		log.Warningf("athena: swarm: container slot %d is not scheduled: %v", slot, err)
		return
	}
	d.schedFrom[slot] = from
}

// drainSched feeds the kernel side's samples to the swarm.
func (d *swarmDriver) drainSched() int {
	if d.schedLoop == nil {
		return 0
	}
	n := 0
	for {
		select {
		case batch := <-d.schedLoop.samples:
			ns := time.Now().UnixNano()
			trace := log.IsLogging(log.Debug)
			for i := range batch {
				s := &batch[i]
				if trace {
					// The scheduler's input, one line a task a period
					// (runsc --debug): swarm/sched's replay tests read
					// traces recorded this way.
					log.Debugf("athena: sched sample %d %d %d %d %d %d %d %d", ns, s.container, s.pid, s.tid, s.runNS, s.waitNS, s.blocks, s.spawned)
				}
				d.oev = event.Event{Time: ns, Kind: event.KindCPU, Container: s.container, PID: s.pid, TID: s.tid}
				if s.spawned > 0 {
					d.oev.Args[0], d.oev.Args[1] = event.CPUOpSpawned, uint64(s.spawned)
				} else {
					d.oev.Args[0], d.oev.Args[1], d.oev.Args[2], d.oev.Args[4] = event.CPUOpTask, s.runNS, s.waitNS, s.blocks
				}
				d.observe(&d.oev)
			}
			n += len(batch)
		default:
			return n
		}
	}
}
