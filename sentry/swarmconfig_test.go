package sentry

import (
	"testing"

	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/quorum"
	"github.com/athenaos/athena/swarm/rate"
	"github.com/athenaos/athena/swarm/security"
	"github.com/athenaos/athena/swarm/selfmodel"
)

// Every swarm section the policy parser accepts, at the edges of its
// ranges, makes agents that start: the parser's copies of the agents'
// limits and defaults agree with the agents.
func TestSwarmSectionsMakeAgentsThatStart(t *testing.T) {
	for _, section := range []string{
		"",
		"swarm:\n  selfmodel:\n    window: 16\n    frame: 128\n    delay_at: 128\n    deny_at: 128\n    kill_at: 128\n    keep: 1024\n",
		"swarm:\n  selfmodel:\n    window: 2\n    frame: 1\n    delay_at: 0\n    deny_at: 1\n    kill_at: 1\n",
		"swarm:\n  selfmodel:\n    frame: 24\n",
		"swarm:\n  selfmodel:\n    delay_base: 1s\n    delay_max: 1s\n    delay_factor: 1\n    stable_after: 1\n",
		"swarm:\n  rate:\n    factor: 1000\n    spawn: 1\n    connect: 4294967295\n  quorum:\n    need: 3\n    window: 1s\n  supervisor:\n    intensity: 256\n    period: 1s\n",
		"swarm:\n  quorum:\n    need: 1\n    voters: [rate]\n",
	} {
		p, err := policy.Parse("t.yaml", []byte("version: 1\nmode: enforce\ndefault: allow\n"+section))
		if err != nil {
			t.Errorf("%q: %v", section, err)
			continue
		}
		cfg, note := NewSwarmConfig(p, nil, -1, OCIResources{})
		if note != "" {
			t.Errorf("%q: note %q without a stored model", section, note)
		}
		if _, err := selfmodel.New(cfg.SelfModel); err != nil {
			t.Errorf("%q: selfmodel: %v", section, err)
		}
		if _, err := rate.New(*cfg.Rate); err != nil {
			t.Errorf("%q: rate: %v", section, err)
		}
		if _, err := quorum.New(cfg.Security.Quorum); err != nil {
			t.Errorf("%q: quorum: %v", section, err)
		}
		if _, err := security.New(cfg.Security); err != nil {
			t.Errorf("%q: security: %v", section, err)
		}
	}
}

func TestDefaultSectionIsTheAgentsDefaults(t *testing.T) {
	p, _ := policy.Parse("t.yaml", []byte("version: 1\nmode: enforce\ndefault: allow\n"))
	cfg, _ := NewSwarmConfig(p, nil, -1, OCIResources{})
	want := selfmodel.DefaultConfig()
	want.Mode = selfmodel.ModeLearn // no stored model: learning
	if cfg.SelfModel != want {
		t.Errorf("selfmodel config %+v, want the defaults %+v", cfg.SelfModel, want)
	}
	if q := quorum.DefaultConfig(); cfg.Security.Quorum.Need != q.Need || cfg.Security.Quorum.Window != q.Window || len(cfg.Security.Quorum.Voters) != len(q.Voters) {
		t.Errorf("quorum %+v, want %+v", cfg.Security.Quorum, q)
	}
	r := rate.DefaultConfig()
	r.Mode = rate.ModeEnforce
	if *cfg.Rate != r {
		t.Errorf("rate %+v, want %+v", *cfg.Rate, r)
	}
}

func TestSelfModelModeNeedsAStableModel(t *testing.T) {
	stable, _ := selfmodel.NewModel(selfmodel.DefaultK)
	stable.Train([]uint16{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3})
	for range 100 {
		stable.Train([]uint16{0, 1, 2, 3, 0, 1, 2, 3})
	}
	data, _ := stable.MarshalBinary()
	for _, tc := range []struct {
		src  string
		data []byte
		want selfmodel.Mode
	}{
		{"mode: enforce\n", nil, selfmodel.ModeLearn},
		{"mode: enforce\nswarm:\n  selfmodel:\n    stable_after: 100\n", data, selfmodel.ModeEnforce},
		{"mode: observe\nswarm:\n  selfmodel:\n    stable_after: 100\n", data, selfmodel.ModeObserve},
		{"mode: enforce\n", data, selfmodel.ModeLearn}, // 800 windows, not the default 100,000
		{"mode: enforce\nswarm:\n  selfmodel:\n    mode: enforce\n", nil, selfmodel.ModeEnforce},
		{"mode: learn\nswarm:\n  selfmodel:\n    stable_after: 100\n", data, selfmodel.ModeLearn},
	} {
		p, err := policy.Parse("t.yaml", []byte("version: 1\ndefault: allow\n"+tc.src))
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := NewSwarmConfig(p, tc.data, -1, OCIResources{})
		if cfg.SelfModel.Mode != tc.want || (tc.data != nil && cfg.Model == nil) {
			t.Errorf("%q: mode %v (model %v), want %v (%s)", tc.src, cfg.SelfModel.Mode, cfg.Model != nil, tc.want, cfg.Why)
		}
	}
	// A corrupt stored model is ignored, with a note.
	p, _ := policy.Parse("t.yaml", []byte("version: 1\nmode: enforce\ndefault: allow\n"))
	cfg, note := NewSwarmConfig(p, []byte("garbage"), -1, OCIResources{})
	if cfg.Model != nil || note == "" || cfg.SelfModel.Mode != selfmodel.ModeLearn {
		t.Errorf("corrupt model: model %v, note %q, mode %v", cfg.Model != nil, note, cfg.SelfModel.Mode)
	}
}
