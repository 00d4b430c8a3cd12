package dockerconfig

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func paths(t *testing.T) (cfg, state string) {
	dir := t.TempDir()
	return filepath.Join(dir, "docker", "daemon.json"), filepath.Join(dir, "state", "install.json")
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	return m
}

func TestInstallMergesAndUninstallRestores(t *testing.T) {
	cfg, state := paths(t)
	orig := `{"log-driver":"json-file","runtimes":{"runsc":{"path":"/usr/bin/runsc"}},"x-unknown":{"nested":[1,2]}}`
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := Install(cfg, state, "athena", Runtime{Path: "/usr/local/bin/runsc-athena", RuntimeArgs: []string{"--platform=systrap"}})
	if err != nil || !res.Changed {
		t.Fatalf("Install = %+v, %v", res, err)
	}
	got := readJSON(t, cfg)
	if got["log-driver"] != "json-file" || got["x-unknown"] == nil {
		t.Errorf("other keys lost: %v", got)
	}
	rts := got["runtimes"].(map[string]any)
	if _, ok := rts["runsc"]; !ok {
		t.Errorf("existing runtime clobbered: %v", rts)
	}
	want := map[string]any{"path": "/usr/local/bin/runsc-athena", "runtimeArgs": []any{"--platform=systrap"}}
	if !reflect.DeepEqual(rts["athena"], want) {
		t.Errorf("athena entry = %v, want %v", rts["athena"], want)
	}
	if st, _ := os.Stat(cfg); st.Mode().Perm() != 0o600 {
		t.Errorf("mode changed to %v", st.Mode().Perm())
	}

	// Idempotent.
	res, err = Install(cfg, state, "athena", Runtime{Path: "/usr/local/bin/runsc-athena", RuntimeArgs: []string{"--platform=systrap"}})
	if err != nil || res.Changed {
		t.Fatalf("second Install = %+v, %v; want no change", res, err)
	}

	res, err = Uninstall(cfg, state, "athena")
	if err != nil || !res.Changed || res.Removed {
		t.Fatalf("Uninstall = %+v, %v", res, err)
	}
	var before, after map[string]any
	json.Unmarshal([]byte(orig), &before)
	after = readJSON(t, cfg)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("after uninstall\n got %v\nwant %v", after, before)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("state file left behind: %v", err)
	}
}

func TestInstallCreatesAndUninstallRemovesFile(t *testing.T) {
	cfg, state := paths(t)
	if _, err := Install(cfg, state, "athena", Runtime{Path: "/bin/a"}); err != nil {
		t.Fatal(err)
	}
	if got := readJSON(t, cfg); !reflect.DeepEqual(got, map[string]any{"runtimes": map[string]any{"athena": map[string]any{"path": "/bin/a"}}}) {
		t.Errorf("new file = %v", got)
	}
	res, err := Uninstall(cfg, state, "athena")
	if err != nil || !res.Removed {
		t.Fatalf("Uninstall = %+v, %v", res, err)
	}
	if _, err := os.Stat(cfg); !os.IsNotExist(err) {
		t.Errorf("daemon.json we created was not removed: %v", err)
	}
}

func TestCreatedFileKeptWhenOperatorAddedKeys(t *testing.T) {
	cfg, state := paths(t)
	if _, err := Install(cfg, state, "athena", Runtime{Path: "/bin/a"}); err != nil {
		t.Fatal(err)
	}
	m := readJSON(t, cfg)
	m["debug"] = true
	data, _ := json.Marshal(m)
	os.WriteFile(cfg, data, 0o644)
	if res, err := Uninstall(cfg, state, "athena"); err != nil || res.Removed {
		t.Fatalf("Uninstall = %+v, %v; must keep a file holding operator settings", res, err)
	}
	if got := readJSON(t, cfg); !reflect.DeepEqual(got, map[string]any{"debug": true}) {
		t.Errorf("left %v", got)
	}
}

func TestMalformedConfigIsRefusedUntouched(t *testing.T) {
	for name, content := range map[string]string{
		"not json":         `{"runtimes": `,
		"runtimes not map": `{"runtimes": ["athena"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			cfg, state := paths(t)
			os.MkdirAll(filepath.Dir(cfg), 0o755)
			os.WriteFile(cfg, []byte(content), 0o644)
			_, err := Install(cfg, state, "athena", Runtime{Path: "/bin/a"})
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Install err = %v, want ErrMalformed", err)
			}
			if data, _ := os.ReadFile(cfg); string(data) != content {
				t.Errorf("file changed to %q", data)
			}
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Errorf("state written for a refused install")
			}
		})
	}
}

func TestForeignRuntimeOfSameNameIsNotOverwritten(t *testing.T) {
	cfg, state := paths(t)
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	orig := `{"runtimes":{"athena":{"path":"/opt/other"}}}`
	os.WriteFile(cfg, []byte(orig), 0o644)
	if _, err := Install(cfg, state, "athena", Runtime{Path: "/bin/a"}); err == nil {
		t.Fatal("Install overwrote an operator's runtime of the same name")
	}
	if data, _ := os.ReadFile(cfg); string(data) != orig {
		t.Errorf("file changed to %q", data)
	}
	// Uninstall must not remove what it did not add.
	if res, err := Uninstall(cfg, state, "athena"); err != nil || res.Changed {
		t.Fatalf("Uninstall = %+v, %v", res, err)
	}
	if data, _ := os.ReadFile(cfg); string(data) != orig {
		t.Errorf("file changed to %q", data)
	}
}

func TestInstallUpdatesOwnEntry(t *testing.T) {
	cfg, state := paths(t)
	if _, err := Install(cfg, state, "athena", Runtime{Path: "/bin/a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Install(cfg, state, "athena", Runtime{Path: "/bin/b", RuntimeArgs: []string{"--debug"}}); err != nil {
		t.Fatal(err)
	}
	rts := readJSON(t, cfg)["runtimes"].(map[string]any)
	if rts["athena"].(map[string]any)["path"] != "/bin/b" {
		t.Errorf("entry not updated: %v", rts)
	}
}
