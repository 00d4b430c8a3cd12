package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/athenaos/athena/swarm/policy"
)

func TestRelaxHostQuotaKeepsTheRest(t *testing.T) {
	dir := t.TempDir()
	// A field this build's runtime-spec does not know, and an integer
	// too large for a float64, must come through unchanged.
	in := `{"ociVersion":"1.0.2","x-future":{"a":[1,2]},"linux":{"resources":{"memory":{"limit":9223372036854775807},"cpu":{"shares":512,"quota":50000,"period":100000}}}}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	spec, err := readSpec(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := relaxHostQuota(dir, spec); err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	for _, want := range []string{`"quota":625000`, `"period":1000000`, `"shares":512`, `"limit":9223372036854775807`, `"x-future":{"a":[1,2]}`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rewritten config %s: missing %s", out, want)
		}
	}
	if st, _ := os.Stat(filepath.Join(dir, "config.json")); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v: want 0600 kept", st.Mode().Perm())
	}
}

func TestBackstopQuota(t *testing.T) {
	for _, tc := range []struct {
		q    int64
		p    uint64
		want int64
	}{{50000, 100000, 625000}, {150000, 100000, 1875000}, {20000, 100000, 300000}, {25000, 50000, 625000}} {
		if got := backstopQuota(tc.q, tc.p); got != tc.want {
			t.Errorf("backstopQuota(%d, %d) = %d, want %d", tc.q, tc.p, got, tc.want)
		}
	}
}

func TestSchedEnforcesQuota(t *testing.T) {
	q, p := int64(50000), uint64(100000)
	spec := &specs.Spec{Linux: &specs.Linux{Resources: &specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: &q, Period: &p}}}}
	for _, tc := range []struct {
		policy string
		want   bool
	}{
		{"version: 1\nmode: enforce\ndefault: allow\n", true},
		{"version: 1\nmode: observe\ndefault: allow\n", false},
		{"version: 1\nmode: enforce\ndefault: allow\ncpu:\n  mode: observe\n", false},
		{"version: 1\nmode: enforce\ndefault: allow\ncpu:\n  quota: 1\n", false},
	} {
		p, err := policy.Parse("p.yaml", []byte(tc.policy))
		if err != nil {
			t.Fatal(err)
		}
		if got := schedEnforcesQuota(spec, p); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.policy, got, tc.want)
		}
	}
	if schedEnforcesQuota(&specs.Spec{}, nil) {
		t.Errorf("a spec without a quota: enforced")
	}
	if !schedEnforcesQuota(spec, nil) {
		t.Errorf("the built-in default policy with a quota: not enforced")
	}
}
