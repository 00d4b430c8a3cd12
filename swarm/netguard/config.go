package netguard

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/athenaos/athena/swarm/agent"
	"github.com/athenaos/athena/swarm/policy"
)

// Mode is a container's mode (agent.Mode): learn learns the burst peak and
// decides nothing, observe records what enforce would do, enforce votes.
type Mode = agent.Mode

// Modes.
const (
	ModeLearn   = agent.ModeLearn
	ModeObserve = agent.ModeObserve
	ModeEnforce = agent.ModeEnforce
)

// Defaults (see the package doc for the reasons) and limits.
const (
	DefaultScanPorts   = 20
	DefaultScanHosts   = 20
	DefaultScanWindow  = 5 * time.Second
	DefaultBurstFloor  = 100
	DefaultBurstFactor = 4.0
	DefaultLimitHold   = time.Second
	DefaultBlockHold   = 30 * time.Second

	// MaxScanThreshold bounds ScanPorts and ScanHosts (and so the
	// probe ring, see ProbeRoom).
	MaxScanThreshold = 1024
	// MaxScanWindow bounds ScanWindow.
	MaxScanWindow = 10 * time.Minute
	// MaxBurstFactor bounds BurstFactor.
	MaxBurstFactor = 1000
	// MaxBlockHold and MaxLimitHold bound BlockHold and LimitHold.
	MaxBlockHold = 24 * time.Hour
	MaxLimitHold = time.Hour
)

// Errors of Agent.
var (
	// ErrConfig: a Config or Mode is invalid.
	ErrConfig = errors.New("netguard: invalid config")
	// ErrFull: the agent already has MaxContainers containers.
	ErrFull = errors.New("netguard: too many containers")
	// ErrSnapshot: Restore was given something Snapshot did not return.
	ErrSnapshot = errors.New("netguard: not a netguard snapshot")
)

// Config configures the agent for one container. New and AddContainer
// fill every zero field with its default.
type Config struct {
	// Mode is the container's mode (learn for the zero value).
	Mode Mode
	// ScanPorts is the vertical scan threshold: failed probes to this
	// many distinct ports of one host within ScanWindow. ScanHosts is the
	// horizontal one: failed probes to one port on this many distinct
	// hosts. 2..MaxScanThreshold; default 20 each.
	ScanPorts, ScanHosts int
	// ScanWindow is the scan detector's sliding window, positive, at
	// most MaxScanWindow; default 5s.
	ScanWindow time.Duration
	// BurstFloor and BurstFactor set the burst threshold: new outbound
	// flows per second above max(ceil(peak*BurstFactor), BurstFloor).
	// Floor at least 1, default 100; factor 1..MaxBurstFactor, default 4.
	BurstFloor  uint32
	BurstFactor float64
	// Limit is the operator's limit on new outbound flows per second (0:
	// none); LimitHold how long its block lasts (positive, at most
	// MaxLimitHold; default 1s).
	Limit     uint32
	LimitHold time.Duration
	// BlockHold is how long a block the quorum carried lasts after the
	// last decision that asked for it (positive, at most MaxBlockHold;
	// default 30s). The agent only reports it (Hold); the enforcement
	// side keeps the time.
	BlockHold time.Duration
	// Egress is a copy of the egress rules the packet filter applies;
	// the agent uses them only to say which rule refused a flow in its
	// evidence. The zero value allows everything.
	Egress policy.Egress
}

// DefaultConfig returns the defaults, in learn mode.
func DefaultConfig() Config {
	return Config{
		ScanPorts:   DefaultScanPorts,
		ScanHosts:   DefaultScanHosts,
		ScanWindow:  DefaultScanWindow,
		BurstFloor:  DefaultBurstFloor,
		BurstFactor: DefaultBurstFactor,
		LimitHold:   DefaultLimitHold,
		BlockHold:   DefaultBlockHold,
	}
}

// withDefaults fills zero fields and validates.
func (c Config) withDefaults() (Config, error) {
	def := DefaultConfig()
	c.ScanPorts = orDefault(c.ScanPorts, def.ScanPorts)
	c.ScanHosts = orDefault(c.ScanHosts, def.ScanHosts)
	c.ScanWindow = orDefault(c.ScanWindow, def.ScanWindow)
	c.BurstFloor = orDefault(c.BurstFloor, def.BurstFloor)
	c.BurstFactor = orDefault(c.BurstFactor, def.BurstFactor)
	c.LimitHold = orDefault(c.LimitHold, def.LimitHold)
	c.BlockHold = orDefault(c.BlockHold, def.BlockHold)
	switch {
	case c.Mode > ModeEnforce:
		return c, fmt.Errorf("config: mode %d: %w", c.Mode, ErrConfig)
	case c.ScanPorts < 2 || c.ScanPorts > MaxScanThreshold || c.ScanHosts < 2 || c.ScanHosts > MaxScanThreshold:
		return c, fmt.Errorf("config: ScanPorts %d, ScanHosts %d not in [2, %d]: %w", c.ScanPorts, c.ScanHosts, MaxScanThreshold, ErrConfig)
	case c.ScanWindow < 0 || c.ScanWindow > MaxScanWindow:
		return c, fmt.Errorf("config: ScanWindow %v not in (0, %v]: %w", c.ScanWindow, MaxScanWindow, ErrConfig)
	case !(c.BurstFactor >= 1 && c.BurstFactor <= MaxBurstFactor): // also refuses NaN
		return c, fmt.Errorf("config: BurstFactor %g not in [1, %d]: %w", c.BurstFactor, MaxBurstFactor, ErrConfig)
	case c.LimitHold < 0 || c.LimitHold > MaxLimitHold:
		return c, fmt.Errorf("config: LimitHold %v not in (0, %v]: %w", c.LimitHold, MaxLimitHold, ErrConfig)
	case c.BlockHold < 0 || c.BlockHold > MaxBlockHold:
		return c, fmt.Errorf("config: BlockHold %v not in (0, %v]: %w", c.BlockHold, MaxBlockHold, ErrConfig)
	}
	return c, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// threshold is the burst threshold of a container that learnt peak.
func (c *Config) threshold(peak uint32) uint32 {
	t := math.Ceil(float64(peak) * c.BurstFactor)
	if t > math.MaxUint32 {
		t = math.MaxUint32
	}
	return max(uint32(t), c.BurstFloor)
}

// ProbeRoom is the size of a container's probe ring under c: room for
// twice the larger scan threshold, at least 256, so that a scan shows
// even when benign failures share the ring with it.
func (c Config) ProbeRoom() int { return max(256, 2*max(c.ScanPorts, c.ScanHosts)) }

// ConfigFrom converts a policy's network section into a Config for a
// container whose policy is in mode pm (the section's auto mode follows
// it; the agent has no stability rule). run is false when the section
// turns the agent off. Parse has checked the section's ranges, which are
// the agent's: New accepts the result.
func ConfigFrom(n *policy.Network, pm policy.Mode) (cfg Config, run bool) {
	switch n.Mode.Resolve(pm, true) {
	case policy.AgentOff:
		return Config{}, false
	case policy.AgentObserve:
		cfg.Mode = ModeObserve
	case policy.AgentEnforce:
		cfg.Mode = ModeEnforce
	default:
		cfg.Mode = ModeLearn
	}
	cfg.ScanPorts, cfg.ScanHosts, cfg.ScanWindow = n.Scan.Ports, n.Scan.Hosts, n.Scan.Window
	cfg.BurstFloor, cfg.BurstFactor = n.Burst.Floor, n.Burst.Factor
	cfg.Limit, cfg.LimitHold = n.Limits.NewFlows, n.Limits.Hold
	cfg.BlockHold = n.BlockHold
	cfg.Egress = n.Egress.Clone()
	c, _ := cfg.withDefaults()
	return c, true
}
