package dockerconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"

	"github.com/athenaos/athena/internal/atomicfile"
)

// ErrMalformed is returned when daemon.json (or the state file) exists but is
// not the JSON shape Docker expects. Nothing is written in that case.
var ErrMalformed = errors.New("malformed docker daemon config")

// Runtime is the entry Docker reads from daemon.json's "runtimes" map.
type Runtime struct {
	Path        string   `json:"path"`
	RuntimeArgs []string `json:"runtimeArgs,omitempty"`
}

// State records what Install changed, so Uninstall can undo exactly that.
// It lives beside the binary's other state (by default
// /var/lib/athena/docker-install.json).
type State struct {
	// CreatedFile is true when daemon.json did not exist before Install.
	CreatedFile bool `json:"createdFile"`
	// Runtimes lists the runtime names Install added (not ones it found).
	Runtimes []string `json:"runtimes"`
}

// Result says what Install or Uninstall did.
type Result struct {
	Changed bool // the config file was rewritten
	Removed bool // the config file was deleted (Uninstall only)
}

// readConfig reads daemon.json into a generic map so unknown keys survive a
// round trip. A missing file reads as an empty map with exists=false.
func readConfig(path string) (cfg map[string]any, exists bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]any{}, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", path, err)
	}
	cfg = map[string]any{}
	if len(bytes.TrimSpace(data)) == 0 {
		return cfg, true, nil
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, true, fmt.Errorf("%w: %s: %v (fix or move the file; nothing was changed)", ErrMalformed, path, err)
	}
	return cfg, true, nil
}

// runtimesOf returns the "runtimes" object of cfg, creating it when absent.
func runtimesOf(path string, cfg map[string]any) (map[string]any, error) {
	v, ok := cfg["runtimes"]
	if !ok || v == nil {
		rts := map[string]any{}
		cfg["runtimes"] = rts
		return rts, nil
	}
	rts, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s: \"runtimes\" is a %T, want an object (nothing was changed)", ErrMalformed, path, v)
	}
	return rts, nil
}

// writeAtomic writes data to path atomically, keeping the old file's mode
// (0644 for a new file).
func writeAtomic(path string, data []byte) error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	return atomicfile.WriteFile(path, data, mode)
}

func marshal(v any) ([]byte, error) {
	data, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// ReadState reads the install state; a missing file is an empty state.
func ReadState(path string) (State, error) {
	var st State
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("reading %s: %w", path, err)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return st, fmt.Errorf("%w: install state %s: %v", ErrMalformed, path, err)
	}
	return st, nil
}

func writeState(path string, st State) error {
	if len(st.Runtimes) == 0 && !st.CreatedFile {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", path, err)
		}
		return nil
	}
	data, err := marshal(st)
	if err != nil {
		return err
	}
	return writeAtomic(path, data)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Install adds (or updates) runtime name in the daemon config at cfgPath and
// records in statePath what it added. It is idempotent: a second call with
// the same arguments changes nothing. A runtime of that name that Install did
// not add itself is replaced only when it already points at the same path,
// so an operator's own entry is never overwritten by accident.
func Install(cfgPath, statePath, name string, rt Runtime) (Result, error) {
	if name == "" || rt.Path == "" {
		return Result{}, errors.New("runtime name and path must not be empty")
	}
	cfg, exists, err := readConfig(cfgPath)
	if err != nil {
		return Result{}, err
	}
	st, err := ReadState(statePath)
	if err != nil {
		return Result{}, err
	}
	rts, err := runtimesOf(cfgPath, cfg)
	if err != nil {
		return Result{}, err
	}
	want := map[string]any{"path": rt.Path}
	if len(rt.RuntimeArgs) > 0 {
		args := make([]any, len(rt.RuntimeArgs))
		for i, a := range rt.RuntimeArgs {
			args[i] = a
		}
		want["runtimeArgs"] = args
	}
	if old, ok := rts[name]; ok {
		if reflect.DeepEqual(old, want) {
			return Result{}, nil
		}
		oldMap, _ := old.(map[string]any)
		if !contains(st.Runtimes, name) && (oldMap == nil || oldMap["path"] != rt.Path) {
			return Result{}, fmt.Errorf("%s already has a runtime %q that athena did not install (%v); remove it or pick another name", cfgPath, name, old)
		}
	}
	rts[name] = want
	data, err := marshal(cfg)
	if err != nil {
		return Result{}, err
	}
	// Record the state first: if writing daemon.json then fails, Uninstall
	// still knows the entry may be ours; the reverse order could orphan it.
	if !exists {
		st.CreatedFile = true
	}
	if !contains(st.Runtimes, name) {
		st.Runtimes = append(st.Runtimes, name)
	}
	if err := writeState(statePath, st); err != nil {
		return Result{}, err
	}
	if err := writeAtomic(cfgPath, data); err != nil {
		return Result{}, err
	}
	return Result{Changed: true}, nil
}

// Uninstall removes runtime name from the daemon config if Install added it,
// and deletes daemon.json when Install had created it and nothing else is
// left in it. Entries Install did not add are left alone.
func Uninstall(cfgPath, statePath, name string) (Result, error) {
	st, err := ReadState(statePath)
	if err != nil {
		return Result{}, err
	}
	if !contains(st.Runtimes, name) {
		return Result{}, nil
	}
	cfg, exists, err := readConfig(cfgPath)
	if err != nil {
		return Result{}, err
	}
	var res Result
	if exists {
		rts, err := runtimesOf(cfgPath, cfg)
		if err != nil {
			return Result{}, err
		}
		if _, ok := rts[name]; ok {
			delete(rts, name)
			res.Changed = true
		}
		if len(rts) == 0 {
			delete(cfg, "runtimes")
		}
		if st.CreatedFile && len(cfg) == 0 {
			if err := os.Remove(cfgPath); err != nil {
				return Result{}, fmt.Errorf("removing %s: %w", cfgPath, err)
			}
			res.Removed = true
		} else if res.Changed {
			data, err := marshal(cfg)
			if err != nil {
				return Result{}, err
			}
			if err := writeAtomic(cfgPath, data); err != nil {
				return Result{}, err
			}
		}
	}
	var left []string
	for _, r := range st.Runtimes {
		if r != name {
			left = append(left, r)
		}
	}
	st.Runtimes = left
	if len(left) == 0 {
		st.CreatedFile = false
	}
	if err := writeState(statePath, st); err != nil {
		return Result{}, err
	}
	return res, nil
}
