package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// buildWorkload is `make -j2 check` of bench/eval/src (a small C project:
// a static library, two programs, their tests), copied to /tmp first
// because the source is mounted read-only.
type buildWorkload struct{ h *harness }

func (w *buildWorkload) family() string { return "build" }

const buildScript = "rm -rf /tmp/build && cp -a /eval/src /tmp/build && make -s -C /tmp/build -j2 check"

func (w *buildWorkload) cmd() []string { return []string{"sh", "-c", buildScript} }

func (w *buildWorkload) commandLine() string { return "sh -c '" + buildScript + "'" }

func (w *buildWorkload) run(ctx context.Context, rt, name string) (*outcome, error) {
	start := time.Now()
	removeContainer(ctx, name)
	cidfile := filepath.Join(w.h.runDir, name+".cid")
	os.Remove(cidfile)
	args := []string{"run", "--name", name, "--runtime", rt, "--cidfile", cidfile,
		"-v", filepath.Join(w.h.root, "bench/eval/src") + ":/eval/src:ro", w.h.image}
	w.h.containers[name] = true
	r, err := docker(ctx, 10*time.Minute, append(args, w.cmd()...)...)
	if err != nil {
		return nil, err
	}
	id, ierr := os.ReadFile(cidfile)
	if ierr != nil || r.code == 125 {
		return nil, fmt.Errorf("starting %s under %s: exit %d: %s", name, rt, r.code, firstLine(r.stderr))
	}
	os.WriteFile(filepath.Join(w.h.logDir, name+".log"), []byte(r.stdout+r.stderr), 0o644)
	removeContainer(ctx, name)
	delete(w.h.containers, name)
	o := &outcome{id: strings.TrimSpace(string(id)), requests: 1, seconds: time.Since(start).Seconds()}
	o.ok = r.code == 0 && strings.Contains(r.stdout, "check: ok")
	if !o.ok {
		o.failures = 1
		o.detail = fmt.Sprintf("exit %d: %s", r.code, strings.TrimSpace(tail(r.stderr+r.stdout, 400)))
	}
	return o, ctx.Err()
}
