package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/athenaos/athena/swarm/selfmodel"
)

// ModelInfo is what athena's long memory holds about one workload: its
// sense-of-self model, as `runsc-athena swarm profile list` and `swarm
// profile export WORKLOAD` give it.
type ModelInfo struct {
	Workload string `json:"workload"`
	Label    string `json:"label"`
	Runs     int    `json:"runs"`
	Model    bool   `json:"model"`
	Windows  uint64 `json:"windows"`
	Pairs    int    `json:"pairs"`
	// Quiet is the training windows since the model last changed: the
	// model is stable when Quiet >= stable_after.
	Quiet  uint64 `json:"quiet"`
	Policy bool   `json:"policy"` // a learned policy is stored too
	Error  string `json:"error,omitempty"`
}

// memoryArgs are the global flags that point runsc-athena at the run's
// long-memory database.
func (h *harness) memoryArgs() []string {
	if h.memoryDB == "" {
		return nil
	}
	return []string{"--athena-memory-db=" + h.memoryDB}
}

// memorySnapshot lists the workloads of the long memory, each with its
// model decoded. Errors are the caller's to report; the run goes on
// without the figures.
func (h *harness) memorySnapshot(ctx context.Context) ([]ModelInfo, error) {
	out, err := must(ctx, time.Minute, h.bin, append(h.memoryArgs(), "swarm", "profile", "list", "--json")...)
	if err != nil {
		return nil, err
	}
	var ws []ModelInfo
	if err := json.Unmarshal([]byte(out), &ws); err != nil {
		return nil, fmt.Errorf("swarm profile list --json: %w", err)
	}
	for i := range ws {
		w := &ws[i]
		if !w.Model || w.Error != "" {
			continue
		}
		f := filepath.Join(h.runDir, "bundle-"+w.Workload+".json")
		if _, err := must(ctx, time.Minute, h.bin, append(h.memoryArgs(), "swarm", "profile", "export", "-o", f, w.Workload)...); err != nil {
			w.Error = err.Error()
			continue
		}
		data, err := os.ReadFile(f)
		os.Remove(f)
		var b struct {
			Model string `json:"model"`
		}
		if err == nil {
			err = json.Unmarshal(data, &b)
		}
		var raw []byte
		if err == nil {
			raw, err = base64.StdEncoding.DecodeString(b.Model)
		}
		var m selfmodel.Model
		if err == nil {
			err = m.UnmarshalBinary(raw)
		}
		if err != nil {
			w.Error = "decoding the exported model: " + err.Error()
			continue
		}
		w.Windows, w.Pairs, w.Quiet = m.Windows(), m.Pairs(), m.Windows()-m.LastChange()
	}
	return ws, nil
}

// memoryOf picks the workloads of a family from a snapshot, by the
// command their label ends with.
func memoryOf(ws []ModelInfo, family string) []ModelInfo {
	var out []ModelInfo
	for _, w := range ws {
		l := w.Label
		var ok bool
		switch family {
		case "web":
			ok = strings.Contains(l, "/eval/app/server.py")
		case "redis":
			ok = strings.Contains(l, "redis-server --port 6379")
		case "build":
			ok = strings.Contains(l, "make -s -C /tmp/build")
		case confFamily:
			ok = strings.Contains(l, " /conf/")
		case gostdFamily:
			ok = strings.Contains(l, "/gosuite/")
		}
		if ok {
			out = append(out, w)
		}
	}
	return out
}

// stableAt is the stable_after the profiles ask for, or the model's own
// default.
func stableAt(s Settings) uint64 {
	if s.StableAfter > 0 {
		return s.StableAfter
	}
	return selfmodel.DefaultStableAfter
}
