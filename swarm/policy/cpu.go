package policy

import (
	"math"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"
)

// CPU is a policy's "cpu:" section (docs/policy.md, "The cpu section"):
// how the scheduler agent (swarm/sched) shares the sandbox's CPUs and
// watches for runaway tasks. The zero value of every field means "the
// default" (for Weight and Quota: the OCI spec's value, else the agent's
// default). Parse has checked every range; the constants below are the
// bounds, for the agent side to reuse.
type CPU struct {
	// Mode is the scheduler's mode for the container (AgentAuto: follow
	// the policy's mode, see AgentMode.Resolve; the agent has no
	// stability rule, so auto enforces under mode: enforce from the
	// start). AgentOff: the scheduler neither measures nor holds the
	// container.
	Mode AgentMode
	// Weight is the container's relative share of the sandbox's CPUs
	// against its other containers, MinCPUWeight..MaxCPUWeight (the
	// cgroup cpu.shares scale). 0: the OCI spec's
	// linux.resources.cpu.shares, else 1024.
	Weight uint32
	// Quota is the most CPUs the container may use,
	// MinCPUQuota..MaxCPUQuota (0.5: half a CPU). 0: the OCI spec's
	// linux.resources.cpu.quota / .period (docker --cpus), else none.
	Quota float64
	// Share says how the container's CPU is split among its tasks:
	// CPUShareTasks (the default) among its tasks, hogs cut first;
	// CPUShareGroups first equally among its thread groups, then among
	// each group's threads.
	Share CPUShare
	// SpawnFloor is the fork-bomb threshold: thread groups created per
	// second, container-wide, above which for 2 seconds running the
	// scheduler reports a fork bomb; MinCPUSpawnFloor..MaxCPUSpawnFloor
	// (0: 200).
	SpawnFloor uint32
	// BusyAfter is the busy-loop threshold: a task that runs this long
	// without blocking is reported; MinCPUBusyAfter..MaxCPUBusyAfter
	// (0: 10s).
	BusyAfter time.Duration
}

// CPUShare is the cpu section's "share".
type CPUShare uint8

// CPU share modes; CPUShareDefault (the zero value) is tasks.
const (
	CPUShareDefault CPUShare = iota
	CPUShareTasks
	CPUShareGroups
)

func (s CPUShare) String() string {
	switch s {
	case CPUShareTasks:
		return "tasks"
	case CPUShareGroups:
		return "groups"
	}
	return "default"
}

// The ranges of the cpu section's values (swarm/sched's limits: weights
// are cgroup v1 cpu.shares, MinWeight..MaxWeight; quotas MinQuota..MaxCPUs).
const (
	MinCPUWeight     = 2
	MaxCPUWeight     = 262144
	MinCPUQuota      = 0.01
	MaxCPUQuota      = 4096
	MinCPUSpawnFloor = 1
	MaxCPUSpawnFloor = 1_000_000
	MinCPUBusyAfter  = time.Second
	MaxCPUBusyAfter  = time.Hour
)

// The keys of the cpu section, in the order Marshal writes them.
var cpuKeys = []string{"mode", "weight", "quota", "share", "spawn_floor", "busy_after"}

// IsZero reports whether the section says nothing: the OCI values and the
// agent's defaults. Marshal leaves such a section out.
func (c *CPU) IsZero() bool { return *c == CPU{} }

// clone returns a copy of c (it holds no references).
func (c *CPU) clone() CPU { return *c }

func (p *parser) cpu(n *yaml.Node) (CPU, error) {
	const what = "cpu"
	var c CPU
	var weightLine, quotaLine int
	err := p.fields(n, what, cpuKeys, func(key string, k, v *yaml.Node) error {
		w := what + "." + key
		var err error
		var u uint64
		switch key {
		case "mode":
			c.Mode, err = p.agentMode(v, w)
		case "weight":
			u, err = p.uintIn(v, w, MinCPUWeight, MaxCPUWeight)
			c.Weight, weightLine = uint32(u), v.Line
		case "quota":
			c.Quota, err = p.cpuQuota(v, w)
			quotaLine = v.Line
		case "share":
			var sv string
			if sv, err = p.scalar(v, w); err == nil {
				switch sv {
				case "tasks":
					c.Share = CPUShareTasks
				case "groups":
					c.Share = CPUShareGroups
				default:
					err = p.errf(v, "%s: unknown %q (want tasks or groups)", w, sv)
				}
			}
		case "spawn_floor":
			u, err = p.uintIn(v, w, MinCPUSpawnFloor, MaxCPUSpawnFloor)
			c.SpawnFloor = uint32(u)
		case "busy_after":
			c.BusyAfter, err = p.durationIn(v, w, MinCPUBusyAfter, MaxCPUBusyAfter)
		}
		return err
	})
	if err != nil {
		return c, err
	}
	if c.Mode == AgentOff {
		switch {
		case c.Quota != 0:
			return c, Errorf(p.file, quotaLine, "%s: quota %s is never enforced with mode off (the scheduler does not run); remove one of them", what, formatFloat(c.Quota))
		case c.Weight != 0:
			return c, Errorf(p.file, weightLine, "%s: weight %d is never applied with mode off (the scheduler does not run); remove one of them", what, c.Weight)
		}
	}
	return c, nil
}

// cpuQuota decodes a number of CPUs in MinCPUQuota..MaxCPUQuota. There is
// no word for "no quota": the key is left out.
func (p *parser) cpuQuota(v *yaml.Node, what string) (float64, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return 0, err
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, p.errf(v, "%s: want a number of CPUs such as 0.5 or 2, got %q (omit quota for none)", what, s)
	}
	if f <= 0 {
		return 0, p.errf(v, "%s: %s is not positive (omit quota for none)", what, s)
	}
	if f < MinCPUQuota || f > MaxCPUQuota {
		return 0, p.errf(v, "%s: %s not in [%s, %s]", what, s, formatFloat(MinCPUQuota), formatFloat(MaxCPUQuota))
	}
	return f, nil
}

// durationIn decodes a Go duration ("10s", "2m") in [lo, hi], lo positive.
func (p *parser) durationIn(v *yaml.Node, what string, lo, hi time.Duration) (time.Duration, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, p.errf(v, "%s: want a duration such as 10s or 2m, got %q", what, s)
	}
	if d < lo || d > hi {
		return 0, p.errf(v, "%s: %s not in [%s, %s]", what, s, formatDuration(lo), formatDuration(hi))
	}
	return d, nil
}

// marshalCPU writes the section's non-default values; nil when there are
// none.
func marshalCPU(c *CPU) *yaml.Node {
	if c.IsZero() {
		return nil
	}
	n := mapping(false)
	addMode(n, c.Mode)
	addInt(n, "weight", int64(c.Weight))
	addFloat(n, "quota", c.Quota)
	if c.Share != CPUShareDefault {
		add(n, "share", scalar(c.Share.String()))
	}
	addInt(n, "spawn_floor", int64(c.SpawnFloor))
	addDuration(n, "busy_after", c.BusyAfter)
	return n
}
