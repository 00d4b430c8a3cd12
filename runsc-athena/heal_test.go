package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/restart"
)

// newCheckpoint writes a fake gVisor image in dir/.tmp-seq and seals it.
func newCheckpoint(t *testing.T, dir, id string, seq int, taken time.Time) string {
	t.Helper()
	tmp := filepath.Join(dir, ".tmp-"+string(rune('0'+seq)))
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"checkpoint.img", "pages.img"} {
		if err := os.WriteFile(filepath.Join(tmp, f), []byte(strings.Repeat(f, seq)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	final, err := sealCheckpoint(tmp, checkpointManifest{Container: id, Seq: seq, Taken: taken})
	if err != nil {
		t.Fatal(err)
	}
	return final
}

func TestCheckpointSealVerifyPrune(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	for seq := 1; seq <= 4; seq++ {
		newCheckpoint(t, dir, "c1", seq, now.Add(time.Duration(seq)*time.Second))
	}
	cks, err := listCheckpoints(dir)
	if err != nil || len(cks) != 4 || cks[0].Seq != 4 {
		t.Fatalf("list: %v %v", cks, err)
	}
	if _, err := verifyCheckpoint(cks[0].Path, "c1"); err != nil {
		t.Errorf("whole checkpoint: %v", err)
	}
	if _, err := verifyCheckpoint(cks[0].Path, "other"); err == nil {
		t.Errorf("another container's checkpoint verified")
	}
	// Corrupt a file: same size, other bytes.
	img := filepath.Join(cks[1].Path, "pages.img")
	data, _ := os.ReadFile(img)
	data[0] ^= 0xff
	os.WriteFile(img, data, 0o600)
	if _, err := verifyCheckpoint(cks[1].Path, "c1"); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("corrupt checkpoint: %v", err)
	}
	os.Remove(filepath.Join(cks[2].Path, manifestName))
	if _, err := verifyCheckpoint(cks[2].Path, "c1"); err == nil || !strings.Contains(err.Error(), "no manifest") {
		t.Errorf("checkpoint without manifest: %v", err)
	}
	// A crashed checkpoint's leftovers go; the pinned one stays.
	os.MkdirAll(filepath.Join(dir, ".tmp-9"), 0o700)
	pruneCheckpoints(dir, 2, 1)
	cks, _ = listCheckpoints(dir)
	var seqs []int
	for _, c := range cks {
		seqs = append(seqs, c.Seq)
	}
	if len(seqs) != 3 || seqs[0] != 4 || seqs[1] != 3 || seqs[2] != 1 {
		t.Errorf("after prune: %v, want [4 3 1]", seqs)
	}
	if _, err := os.Stat(filepath.Join(dir, ".tmp-9")); err == nil {
		t.Errorf("temporary directory left")
	}
}

func TestIntrusionWatch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.jsonl")
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	lines := []string{
		`{"type":"start","time":"2026-01-02T03:04:05Z"}`,
		`{"type":"decision","time":"2026-01-02T03:04:06Z","action":"allow"}`,
		`{"type":"swarm","time":"2026-01-02T03:04:07Z","agent":"healer","action":"record"}`,
		`{"type":"swarm","time":"2026-01-02T03:04:08Z","agent":"selfmodel","action":"record","reason":"odd"}`,
		`{"type":"swarm","time":"2026-01-02T03:04:09Z","agent":"selfmodel","action":"kill","carried":false}`,
	}
	os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	w := &intrusionWatch{path: path}
	if w.scan() {
		t.Fatalf("an uncarried kill is no intrusion")
	}
	if want := t0.Add(3 * time.Second); !w.firstAnomaly.Equal(want) {
		t.Errorf("first anomaly %v, want %v", w.firstAnomaly, want)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"type":"decision","time":"2026-01-02T03:04:10Z","action":"kill","pid":7,"comm":"mkdir","syscall":"mkdirat","rule":"no-mkdir"}` + "\n" + `{"type":"decision","time":`)
	f.Close()
	if !w.scan() || !strings.Contains(w.intrusion, `mkdirat by rule "no-mkdir"`) {
		t.Errorf("rule kill: %q", w.intrusion)
	}
	w.skipToEnd()
	if w.scan() || !w.firstAnomaly.IsZero() {
		t.Errorf("after skipToEnd: %q %v", w.intrusion, w.firstAnomaly)
	}
}

func TestKeeperConfigFor(t *testing.T) {
	spec := &specs.Spec{Process: &specs.Process{Args: []string{"sh"}}, Annotations: map[string]string{}}
	if cfg, err := keeperConfigFor(spec, nil); cfg != nil || err != nil {
		t.Errorf("no checkpoints asked: %v %v", cfg, err)
	}
	p := policy.Default()
	p.Heal.Checkpoint = policy.HealCheckpoint{Every: 30 * time.Second, Keep: 5}
	p.Heal.OnIntrusion = policy.IntrusionRollback
	cfg, err := keeperConfigFor(spec, p)
	if err != nil || cfg == nil || cfg.Every != 30*time.Second || cfg.Keep != 5 || !cfg.Rollback {
		t.Errorf("from the policy: %+v %v", cfg, err)
	}
	spec.Annotations[annotationCheckpoint] = "2s"
	spec.Annotations[annotationCheckpointKeep] = "7"
	if cfg, err := keeperConfigFor(spec, p); err != nil || cfg.Every != 2*time.Second || cfg.Keep != 7 {
		t.Errorf("annotations win: %+v %v", cfg, err)
	}
	for _, bad := range []map[string]string{{annotationCheckpoint: "10ms"}, {annotationCheckpoint: "often"}, {annotationCheckpointKeep: "0"}, {annotationCheckpoint: "1s", annotationCheckpointKeep: "1000"}} {
		spec.Annotations = bad
		if _, err := keeperConfigFor(spec, nil); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	spec.Annotations = map[string]string{annotationCheckpoint: "off"}
	if cfg, err := keeperConfigFor(spec, p); cfg != nil || err != nil {
		t.Errorf("off: %v %v", cfg, err)
	}
	spec.Annotations = map[string]string{annotationCheckpoint: "5s"}
	spec.Process.Terminal = true
	if _, err := keeperConfigFor(spec, nil); err == nil || !strings.Contains(err.Error(), "terminal") {
		t.Errorf("terminal: %v", err)
	}
}

func TestInstallAthenaInit(t *testing.T) {
	bundle := t.TempDir()
	initBin := filepath.Join(t.TempDir(), "athena-init")
	os.WriteFile(initBin, []byte("#!/bin/true\n"), 0o755)
	*initPathFlag = initBin
	defer func() { *initPathFlag = "" }()
	doc := `{"ociVersion":"1.0.2","process":{"args":["/bin/sh","-c","x"],"cwd":"/","x-unknown":1.50},"mounts":[{"destination":"/proc","type":"proc","source":"proc"}],"linux":{"resources":{"cpu":{"quota":12345678901234}}}}`
	os.WriteFile(filepath.Join(bundle, "config.json"), []byte(doc), 0o644)
	spec, err := readSpec(bundle)
	if err != nil {
		t.Fatal(err)
	}
	h := policy.Heal{Restart: restart.OnFailure}
	if err := installAthenaInit(bundle, spec, h); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
	var got struct {
		Process struct {
			Args []string `json:"args"`
		} `json:"process"`
		Mounts []specs.Mount `json:"mounts"`
	}
	json.Unmarshal(data, &got)
	args := strings.Join(got.Process.Args, " ")
	if got.Process.Args[0] != athenaInitPath || !strings.Contains(args, "--restart=on-failure") || !strings.HasSuffix(args, "-- /bin/sh -c x") {
		t.Errorf("args %q", args)
	}
	if m := got.Mounts[len(got.Mounts)-1]; m.Destination != athenaInitPath || m.Source != initBin || m.Options[1] != "ro" {
		t.Errorf("mount %+v", m)
	}
	for _, keep := range []string{`"x-unknown":1.50`, `"quota":12345678901234`} {
		if !strings.Contains(string(data), keep) {
			t.Errorf("lost %s: %s", keep, data)
		}
	}
	// Once is enough: a recovery's create finds it done.
	spec, _ = readSpec(bundle)
	installAthenaInit(bundle, spec, h)
	again, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
	if string(again) != string(data) {
		t.Errorf("rewritten twice:\n%s\n%s", data, again)
	}
	// Nothing asked: nothing changes; asked without the binary: an error.
	*initPathFlag = filepath.Join(t.TempDir(), "missing")
	spec.Process.Args = []string{"sh"}
	if err := installAthenaInit(bundle, spec, h); err == nil || !strings.Contains(err.Error(), "not installed") {
		t.Errorf("missing athena init: %v", err)
	}
	if err := installAthenaInit(bundle, spec, policy.Heal{}); err != nil {
		t.Errorf("nothing asked: %v", err)
	}
}

func TestWithHeal(t *testing.T) {
	text, p, err := withHeal([]byte("x"), nil, policy.Heal{})
	if string(text) != "x" || p != nil || err != nil {
		t.Errorf("unchanged: %q %v %v", text, p, err)
	}
	text, p, err = withHeal([]byte("x"), nil, policy.Heal{Restart: restart.Always})
	if err != nil || p == nil || p.Heal.Restart != restart.Always || !strings.Contains(string(text), "restart: always") {
		t.Errorf("with restart: %s %v", text, err)
	}
}

func TestAppExited(t *testing.T) {
	exited := func(code int) unix.WaitStatus { return unix.WaitStatus(code << 8) }
	killed := func(sig unix.Signal) unix.WaitStatus { return unix.WaitStatus(sig) }
	for _, tc := range []struct {
		ws       unix.WaitStatus
		answered bool
		want     bool
	}{
		{exited(0), false, true},
		{exited(137), false, true}, // the app killed: runsc exits 128+9
		{exited(3), true, true},
		{exited(2), true, true},   // the app's own status 2, answered
		{exited(2), false, false}, // a sentry panic
		{killed(unix.SIGKILL), true, false},
		{killed(unix.SIGKILL), false, false},
	} {
		if got := appExited(tc.ws, tc.answered); got != tc.want {
			t.Errorf("appExited(%v, %v) = %v", describeWait(tc.ws), tc.answered, got)
		}
	}
}
