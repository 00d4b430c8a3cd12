package sentry

import (
	"fmt"
	"runtime"

	"github.com/athenaos/athena/swarm/memguard"
	"github.com/athenaos/athena/swarm/netguard"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/quorum"
	"github.com/athenaos/athena/swarm/rate"
	"github.com/athenaos/athena/swarm/sched"
	"github.com/athenaos/athena/swarm/selfmodel"
	"github.com/athenaos/athena/swarm/supervisor"
)

// NewSwarmConfig makes a sandbox's swarm configuration from its policy's
// swarm section, the workload's stored model (the model file's content,
// possibly empty), the model file's descriptor and the root container's
// OCI CPU resources. A stored model that
// does not decode, or was learnt with another window, is not fatal: the
// swarm starts from an empty model and the returned note says why.
func NewSwarmConfig(p *policy.Policy, modelData []byte, modelFD int, oci OCIResources) (SwarmConfig, string) {
	sw := &p.Swarm
	cfg := SwarmConfig{SelfModel: selfModelConfig(&sw.SelfModel), ModelFile: modelFD}
	var note string
	if len(modelData) > 0 {
		m := new(selfmodel.Model)
		if err := m.UnmarshalBinary(modelData); err != nil {
			note = fmt.Sprintf("the stored model was unreadable (%v) and is ignored", err)
		} else if m.K() != cfg.SelfModel.K {
			note = fmt.Sprintf("the stored model's window (%d) is not the policy's (%d) and is ignored", m.K(), cfg.SelfModel.K)
		} else {
			cfg.Model = m
		}
	}
	cfg.SelfModelOff = sw.SelfModel.Mode == policy.AgentOff
	cfg.SelfModel.Mode, cfg.Why = resolveSelfModel(sw.SelfModel.Mode, p.Mode, cfg.Model, cfg.SelfModel.StableAfter)
	if note != "" {
		cfg.Why += "; " + note
	}
	if m := sw.Rate.Mode.Resolve(p.Mode, true); m != policy.AgentOff {
		rc := rate.DefaultConfig()
		rc.Mode = rateModes[m]
		if sw.Rate.Factor != 0 {
			rc.Factor = sw.Rate.Factor
		}
		for c, v := range [rate.NumClasses]uint32{rate.ClassSpawn: sw.Rate.Spawn, rate.ClassConnect: sw.Rate.Connect, rate.ClassOpen: sw.Rate.Open} {
			if v != 0 {
				rc.Floors[c] = v
			}
		}
		cfg.Rate = &rc
	}
	q := quorum.DefaultConfig()
	if sw.Quorum.Need != 0 {
		q.Need = sw.Quorum.Need
	}
	if sw.Quorum.Window != 0 {
		q.Window = sw.Quorum.Window
	}
	if sw.Quorum.Voters != nil {
		q.Voters = sw.Quorum.Voters
	}
	cfg.Security.Quorum = q
	cfg.Memory, cfg.MemoryOn = memguard.ConfigFrom(&p.Memory, p.Mode)
	cfg.Network, cfg.NetworkOn = netguard.ConfigFrom(&p.Network, p.Mode)
	cfg.Sched, cfg.SchedOn, cfg.SchedFrom = SchedConfigFrom(p, oci)
	cfg.SchedAgent = sched.DefaultConfig()
	cfg.SchedAgent.CPUs = float64(runtime.NumCPU())
	if p.CPU.SpawnFloor != 0 {
		cfg.SchedAgent.SpawnFloor = p.CPU.SpawnFloor
	}
	if p.CPU.BusyAfter != 0 {
		cfg.SchedAgent.BusyAfter = p.CPU.BusyAfter
	}
	cfg.Security.Supervisor = supervisor.Config{Intensity: sw.Supervisor.Intensity, Period: sw.Supervisor.Period}
	return cfg, note
}

var rateModes = map[policy.AgentMode]rate.Mode{policy.AgentLearn: rate.ModeLearn, policy.AgentObserve: rate.ModeObserve, policy.AgentEnforce: rate.ModeEnforce}

// selfModelConfig is the detector's config from the policy's section:
// the defaults, overridden by what the section sets.
func selfModelConfig(s *policy.SwarmSelfModel) selfmodel.Config {
	c := selfmodel.DefaultConfig()
	setInt := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	setInt(&c.K, s.Window)
	setInt(&c.Frame, s.Frame)
	setInt(&c.Keep, s.Keep)
	for _, th := range []struct {
		dst *int
		v   *int
	}{{&c.DelayAt, s.DelayAt}, {&c.DenyAt, s.DenyAt}, {&c.KillAt, s.KillAt}} {
		if th.v != nil {
			*th.dst = *th.v
		}
	}
	if s.DelayBase != 0 {
		c.DelayBase = s.DelayBase
	}
	if s.DelayFactor != 0 {
		c.DelayFactor = s.DelayFactor
	}
	if s.DelayMax != 0 {
		c.DelayMax = s.DelayMax
	}
	if s.StableAfter != 0 {
		c.StableAfter = s.StableAfter
	}
	c.PerProcess = s.PerProcess
	if s.Frame != 0 && s.Keep == 0 {
		c.Keep = s.Frame // Keep defaults to the frame
	}
	return c
}

// resolveSelfModel picks the sense-of-self mode and says why, for status:
// an explicit mode is taken as it is; auto follows the policy's mode but
// observes or enforces only a stable model, and goes on learning until
// the model is stable (policy.AgentMode.Resolve).
func resolveSelfModel(set policy.AgentMode, pm policy.Mode, m *selfmodel.Model, stableAfter uint64) (selfmodel.Mode, string) {
	stable := m != nil && m.Windows() > 0 && m.Stable(stableAfter)
	resolved := set.Resolve(pm, stable)
	var why string
	switch {
	case set == policy.AgentOff:
		return selfmodel.ModeLearn, "off (swarm.selfmodel.mode)"
	case set != policy.AgentAuto:
		why = fmt.Sprintf("set by the policy (swarm.selfmodel.mode: %s)", set)
	case pm == policy.ModeLearn:
		why = "the policy learns"
	case m == nil || m.Windows() == 0:
		why = fmt.Sprintf("no model of this workload yet: learning (policy mode %s)", pm)
	case !stable:
		why = fmt.Sprintf("model not stable yet (%d of %d windows without change): learning", m.Windows()-m.LastChange(), stableAfter)
	default:
		why = fmt.Sprintf("stable model (%d windows, %d pairs), policy mode %s", m.Windows(), m.Pairs(), pm)
	}
	return selfModes[resolved], why
}

var selfModes = map[policy.AgentMode]selfmodel.Mode{policy.AgentLearn: selfmodel.ModeLearn, policy.AgentObserve: selfmodel.ModeObserve, policy.AgentEnforce: selfmodel.ModeEnforce}
