package sched

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/athenaos/athena/swarm/agent"
)

// Name is the agent's name, in decisions and status.
const Name = "sched"

// Mode is a container's mode (agent.Mode): learn measures only, observe
// computes holds and decisions but publishes no hold and records only,
// enforce publishes holds and decides.
type Mode = agent.Mode

// Modes.
const (
	ModeLearn   = agent.ModeLearn
	ModeObserve = agent.ModeObserve
	ModeEnforce = agent.ModeEnforce
)

// Defaults (see the package doc for the reasons) and limits.
const (
	DefaultPeriod           = 100 * time.Millisecond
	DefaultCPUs             = 1.0
	DefaultMaxTasks         = 16384
	DefaultIdleTimeout      = 10 * time.Minute
	DefaultMinHold          = 200 * time.Microsecond
	DefaultInteractiveBurst = 2 * time.Millisecond
	DefaultBusyAfter        = 10 * time.Second
	DefaultDelay            = 100 * time.Millisecond
	DefaultSpawnFloor       = 200
	DefaultSpawnSeconds     = 2
	DefaultWeight           = 1024

	// MinPeriod and MaxPeriod bound Config.Period.
	MinPeriod = time.Millisecond
	MaxPeriod = 10 * time.Second
	// MaxCPUs bounds Config.CPUs and ContainerConfig.Quota.
	MaxCPUs = 4096
	// MinQuota is the smallest positive ContainerConfig.Quota.
	MinQuota = 0.01
	// MinWeight and MaxWeight bound ContainerConfig.Weight (the range of
	// cgroup v1 cpu.shares).
	MinWeight = 2
	MaxWeight = 262144
	// MaxTasks bounds Config.MaxTasks.
	MaxTasks = 1 << 24
	// MaxContainers bounds the containers one agent schedules.
	MaxContainers = 4096
	// DebtPeriods bounds a container's quota debt to this many periods of
	// its quota (one second at the default period).
	DebtPeriods = 10
	// debtPayback is how many periods a quota debt is paid back over.
	debtPayback = 4
)

// Config configures an Agent: what is common to the sandbox. New fills
// every zero field with its default.
type Config struct {
	// Period is the scheduling period: Tick recomputes the holds once a
	// period, and a quota is a share of it. MinPeriod..MaxPeriod; default
	// 100ms (the CFS bandwidth period).
	Period time.Duration
	// CPUs is the number of CPUs the sandbox's tasks share (the
	// sandbox's cpuset, or the host's CPU count): above CPUs × Period of
	// runnable demand in a period, fair share holds tasks. (0, MaxCPUs];
	// default 1. The driver should set it.
	CPUs float64
	// MaxTasks bounds the task table; a full table evicts a task not
	// sampled recently (CLOCK). 1..MaxTasks; default 16,384.
	MaxTasks int
	// IdleTimeout forgets a task not sampled for this long (checked by
	// Tick); negative: never. Default 10 minutes.
	IdleTimeout time.Duration
	// MinHold: computed holds shorter than this are not published (not
	// worth a sleep); they count in the quota debt, so a quota is still
	// met. 0..Period; default 200µs. Negative means 0 (publish all).
	MinHold time.Duration
	// InteractiveBurst: a task whose mean run burst (CPU time per block)
	// in a period is at most this long is interactive: over-share tasks
	// that are not absorb a group's or container's holds first. Default
	// 2ms.
	InteractiveBurst time.Duration
	// BusyAfter: a task that runs without blocking for this long is a
	// busy loop (one decision, repeated every BusyAfter while it lasts);
	// negative: never. Default 10s.
	BusyAfter time.Duration
	// Delay is the Delay of enforce decisions: how long a busy loop is
	// held (ActDelay), and a fork bomb's spawner when the quorum does not
	// carry out its kill vote. Default 100ms (one period).
	Delay time.Duration
	// SpawnFloor: a container creating more thread groups than this in
	// one second, for SpawnSeconds consecutive seconds, is a fork bomb.
	// Default 200 per second, 2 seconds.
	SpawnFloor   uint32
	SpawnSeconds int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Period:           DefaultPeriod,
		CPUs:             DefaultCPUs,
		MaxTasks:         DefaultMaxTasks,
		IdleTimeout:      DefaultIdleTimeout,
		MinHold:          DefaultMinHold,
		InteractiveBurst: DefaultInteractiveBurst,
		BusyAfter:        DefaultBusyAfter,
		Delay:            DefaultDelay,
		SpawnFloor:       DefaultSpawnFloor,
		SpawnSeconds:     DefaultSpawnSeconds,
	}
}

// ContainerConfig configures one container (Agent.AddContainer). New
// containers take DefaultWeight for a zero Weight.
type ContainerConfig struct {
	// Mode is the container's mode (learn for the zero value).
	Mode Mode
	// Weight is the container's CPU weight under contention (the OCI
	// linux.resources.cpu.shares, as cgroup v1 cpu.shares).
	// MinWeight..MaxWeight; default 1024.
	Weight uint32
	// Quota is the most CPU the container may use, in CPUs (0.5 for
	// docker --cpus=0.5; QuotaFromCFS converts the OCI quota and
	// period); 0: no quota. 0 or MinQuota..MaxCPUs.
	Quota float64
	// FairGroups splits the container's CPU first equally among its
	// thread groups, then among each group's threads; without it, among
	// its tasks directly (hogs cut first either way).
	FairGroups bool
}

// QuotaFromCFS converts an OCI CFS quota and period (microseconds,
// linux.resources.cpu.quota and .period) to a Quota in CPUs: 0 when
// either is not positive (no quota).
func QuotaFromCFS(quotaUS, periodUS int64) float64 {
	if quotaUS <= 0 || periodUS <= 0 {
		return 0
	}
	return float64(quotaUS) / float64(periodUS)
}

// Errors of Agent.
var (
	// ErrConfig: a Config, ContainerConfig or Mode is invalid.
	ErrConfig = errors.New("sched: invalid config")
	// ErrContainer: AddContainer was given a container already added
	// (or one too many); SetMode or SetContainer one never added.
	ErrContainer = errors.New("sched: container")
	// ErrSnapshot: Restore was given something Snapshot did not return.
	ErrSnapshot = errors.New("sched: not a sched snapshot")
)

func (c Config) withDefaults() (Config, error) {
	def := DefaultConfig()
	if c.Period == 0 {
		c.Period = def.Period
	}
	if c.CPUs == 0 {
		c.CPUs = def.CPUs
	}
	if c.MaxTasks == 0 {
		c.MaxTasks = def.MaxTasks
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = def.IdleTimeout
	}
	if c.MinHold == 0 {
		c.MinHold = def.MinHold
	} else if c.MinHold < 0 {
		c.MinHold = 0
	}
	if c.InteractiveBurst == 0 {
		c.InteractiveBurst = def.InteractiveBurst
	}
	if c.BusyAfter == 0 {
		c.BusyAfter = def.BusyAfter
	}
	if c.Delay == 0 {
		c.Delay = def.Delay
	}
	if c.SpawnFloor == 0 {
		c.SpawnFloor = def.SpawnFloor
	}
	if c.SpawnSeconds == 0 {
		c.SpawnSeconds = def.SpawnSeconds
	}
	switch {
	case c.Period < MinPeriod || c.Period > MaxPeriod:
		return c, fmt.Errorf("config: Period %v not in [%v, %v]: %w", c.Period, MinPeriod, MaxPeriod, ErrConfig)
	case !(c.CPUs > 0 && c.CPUs <= MaxCPUs): // also refuses NaN
		return c, fmt.Errorf("config: CPUs %g not in (0, %d]: %w", c.CPUs, MaxCPUs, ErrConfig)
	case c.MaxTasks < 1 || c.MaxTasks > MaxTasks:
		return c, fmt.Errorf("config: MaxTasks %d not in [1, %d]: %w", c.MaxTasks, MaxTasks, ErrConfig)
	case c.MinHold > c.Period:
		return c, fmt.Errorf("config: MinHold %v above Period %v: %w", c.MinHold, c.Period, ErrConfig)
	case c.InteractiveBurst < 0 || c.Delay < 0:
		return c, fmt.Errorf("config: negative duration: %w", ErrConfig)
	case c.SpawnSeconds < 1 || c.SpawnSeconds > 60:
		return c, fmt.Errorf("config: SpawnSeconds %d not in [1, 60]: %w", c.SpawnSeconds, ErrConfig)
	}
	return c, nil
}

func (c ContainerConfig) withDefaults() (ContainerConfig, error) {
	if c.Weight == 0 {
		c.Weight = DefaultWeight
	}
	switch {
	case c.Mode > ModeEnforce:
		return c, fmt.Errorf("container config: mode %d: %w", c.Mode, ErrConfig)
	case c.Weight < MinWeight || c.Weight > MaxWeight:
		return c, fmt.Errorf("container config: Weight %d not in [%d, %d]: %w", c.Weight, MinWeight, MaxWeight, ErrConfig)
	case math.IsNaN(c.Quota) || c.Quota < 0 || c.Quota > MaxCPUs || (c.Quota > 0 && c.Quota < MinQuota):
		return c, fmt.Errorf("container config: Quota %g not 0 nor in [%g, %d]: %w", c.Quota, MinQuota, MaxCPUs, ErrConfig)
	}
	return c, nil
}
