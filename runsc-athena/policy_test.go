package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/athenaos/athena/swarm/policy"
)

func TestSubcommandAndBundle(t *testing.T) {
	cmd, args := subcommand([]string{"--root", "/r", "--log=/l", "create", "--bundle", "/b", "--pid-file", "/p", "cid"})
	if cmd != "create" {
		t.Fatalf("subcommand = %q", cmd)
	}
	if b, id := bundleAndID(args); b != "/b" || id != "cid" {
		t.Errorf("bundleAndID = %q, %q", b, id)
	}
	if b, id := bundleAndID([]string{"--bundle=/x", "--detach", "c2"}); b != "/x" || id != "c2" {
		t.Errorf("bundleAndID = %q, %q", b, id)
	}
	if b, id := bundleAndID([]string{"c3"}); b != "." || id != "c3" {
		t.Errorf("bundleAndID = %q, %q", b, id)
	}
	if cmd, _ := subcommand([]string{"--bogus", "create"}); cmd != "" {
		t.Errorf("bad flags gave subcommand %q", cmd)
	}
}

func specWith(annotations map[string]string) *specs.Spec {
	return &specs.Spec{Annotations: annotations}
}

func writeFile(t *testing.T, content string) string {
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func setFlags(t *testing.T, pol, mode string) {
	oldP, oldM := *policyFlag, *modeFlag
	*policyFlag, *modeFlag = pol, mode
	t.Cleanup(func() { *policyFlag, *modeFlag = oldP, oldM })
}

const denyMkdir = "version: 1\nmode: enforce\ndefault: allow\nrules:\n  - syscalls: [mkdir]\n    action: errno(EPERM)\n"

func TestResolvePolicyPrecedence(t *testing.T) {
	annotated := writeFile(t, denyMkdir)
	spec := specWith(map[string]string{annotationPolicy: annotated, annotationMode: "observe"})

	// No flags: the annotations decide.
	setFlags(t, "", "")
	p, err := resolved(t, spec)
	if err != nil || p.Mode != policy.ModeObserve || len(p.Rules) != 1 {
		t.Fatalf("from annotations: %+v, %v", p, err)
	}
	// A runtime flag overrides the annotations, both of them.
	setFlags(t, "", "enforce")
	if p, err = resolved(t, spec); err != nil || p.Mode != policy.ModeEnforce || !p.Equal(policy.Default()) {
		t.Errorf("flag --athena-mode alone must ignore the annotated policy: %+v, %v", p, err)
	}
	// Nothing set: the default policy.
	setFlags(t, "", "")
	if p, err = resolved(t, specWith(nil)); err != nil || !p.Equal(policy.Default()) {
		t.Errorf("default: %v", err)
	}
}

// resolved resolves the policy of spec and parses the text the sandbox
// would read.
func resolved(t *testing.T, spec *specs.Spec) (*policy.Policy, error) {
	text, _, err := resolvePolicy(spec)
	if err != nil {
		return nil, err
	}
	p, err := policy.Parse("stored", text)
	if err != nil {
		t.Fatalf("the stored text does not parse: %v", err)
	}
	return p, nil
}

func TestResolvePolicyErrorsNameFileAndLine(t *testing.T) {
	setFlags(t, writeFile(t, "version: 1\nmode: enforce\ndefault: allow\nrules:\n  - syscalls: [no_such_call]\n    action: allow\n"), "")
	_, _, err := resolvePolicy(specWith(nil))
	if !errors.Is(err, policy.ErrInvalid) || !strings.Contains(err.Error(), "policy.yaml:5") || !strings.Contains(err.Error(), "no_such_call") {
		t.Errorf("unknown syscall: %v", err)
	}
	setFlags(t, "", "paranoid")
	if _, _, err := resolvePolicy(specWith(nil)); err == nil || !strings.Contains(err.Error(), "paranoid") {
		t.Errorf("bad mode: %v", err)
	}
	setFlags(t, "/no/such/policy.yaml", "")
	if _, _, err := resolvePolicy(specWith(nil)); err == nil || !strings.Contains(err.Error(), "/no/such/policy.yaml") {
		t.Errorf("missing file: %v", err)
	}
}
