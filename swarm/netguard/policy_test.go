package netguard

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/policy"
)

// TestPolicyLimits: the copies of the agent's limits in package policy
// (which cannot import this one) agree with them.
func TestPolicyLimits(t *testing.T) {
	if policy.NetScanMax != MaxScanThreshold || policy.NetScanWindowMax != MaxScanWindow || policy.NetFactorMax != MaxBurstFactor ||
		policy.NetBlockHoldMax != MaxBlockHold || policy.NetLimitHoldMax != MaxLimitHold {
		t.Error("policy's copies of the limits differ")
	}
	// The largest values a policy may give make a valid config.
	p, err := policy.Parse("p.yaml", []byte(`version: 1
default: allow
network:
  mode: enforce
  scan: {ports: 1024, hosts: 1024, window: 10m}
  burst: {floor: 4294967295, factor: 1000}
  limits: {new_flows: 4294967295, hold: 1h}
  block_hold: 24h
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg, run := ConfigFrom(&p.Network, p.Mode)
	if !run {
		t.Fatal("not run")
	}
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.AddContainer(1, cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.ProbeRoom() != 2048 {
		t.Errorf("probe room %d", cfg.ProbeRoom())
	}
}

func TestConfigFrom(t *testing.T) {
	p, err := policy.Parse("p.yaml", []byte(`version: 1
mode: observe
default: allow
network:
  egress:
    default: deny
    rules:
      - {action: allow, protocol: udp, to: ["*:53"]}
      - {action: allow, to: ["10.0.0.0/8:*"]}
  scan: {ports: 30, window: 2s}
  burst: {floor: 500}
  limits: {new_flows: 1000}
  block_hold: 1m
`))
	if err != nil {
		t.Fatal(err)
	}
	cfg, run := ConfigFrom(&p.Network, p.Mode)
	want := DefaultConfig()
	want.Mode, want.ScanPorts, want.ScanWindow, want.BurstFloor, want.Limit, want.BlockHold =
		ModeObserve, 30, 2*time.Second, 500, 1000, time.Minute
	want.Egress = p.Network.Egress
	if !run || !reflect.DeepEqual(cfg, want) {
		t.Errorf("ConfigFrom = %+v, %v\nwant %+v", cfg, run, want)
	}
	// The config's rules are a copy.
	p.Network.Egress.Rules[0].To[0] = p.Network.Egress.Rules[1].To[0]
	if allow, rule := cfg.Egress.Decide(17, netip.MustParseAddr("1.1.1.1"), 53); !allow || rule != 0 {
		t.Errorf("Decide = %v, %d", allow, rule)
	}
	for _, tc := range []struct {
		mode policy.AgentMode
		pm   policy.Mode
		want Mode
		run  bool
	}{
		{policy.AgentAuto, policy.ModeLearn, ModeLearn, true},
		{policy.AgentAuto, policy.ModeObserve, ModeObserve, true},
		{policy.AgentAuto, policy.ModeEnforce, ModeEnforce, true},
		{policy.AgentLearn, policy.ModeEnforce, ModeLearn, true},
		{policy.AgentEnforce, policy.ModeLearn, ModeEnforce, true},
		{policy.AgentOff, policy.ModeEnforce, 0, false},
	} {
		n := policy.Network{Mode: tc.mode}
		cfg, run := ConfigFrom(&n, tc.pm)
		if run != tc.run || (run && cfg.Mode != tc.want) {
			t.Errorf("%v under %v: %v, %v", tc.mode, tc.pm, cfg.Mode, run)
		}
		if run {
			if _, err := New(cfg); err != nil {
				t.Errorf("%v: %v", tc.mode, err)
			}
		}
	}
}
