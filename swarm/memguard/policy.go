package memguard

import "github.com/athenaos/athena/swarm/policy"

// ConfigFrom converts a policy's memory section into container
// configuration, for a policy in mode pm: the section's mode resolved
// (policy.AgentMode.Resolve; the agent has no stability rule, its floor
// applies until it has learnt), its budget, actions and fault-rate
// values, defaults filled in. on is false when the section turns the
// agent off for the container (mode: off): then it is not to be added.
func ConfigFrom(m *policy.Memory, pm policy.Mode) (cfg ContainerConfig, on bool) {
	mode := m.Mode.Resolve(pm, true)
	if mode == policy.AgentOff {
		return ContainerConfig{}, false
	}
	cfg = ContainerConfig{
		Mode:           policyModes[mode],
		Budget:         m.Budget,
		RecordBudget:   m.BudgetAction == policy.MemoryRecord,
		RecordAnonExec: m.AnonExec == policy.MemoryRecord,
		RecordWX:       m.WX == policy.MemoryRecord,
		Floor:          m.FaultRate.Floor,
		Factor:         m.FaultRate.Factor,
	}
	if c, err := cfg.withDefaults(); err == nil { // Parse checked the ranges
		cfg = c
	}
	return cfg, true
}

var policyModes = map[policy.AgentMode]Mode{
	policy.AgentLearn: ModeLearn, policy.AgentObserve: ModeObserve, policy.AgentEnforce: ModeEnforce,
}
