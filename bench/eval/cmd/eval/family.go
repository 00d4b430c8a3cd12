package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/athenaos/athena/swarm/policy"
)

// workload is a benign workload family: web, redis, build.
type workload interface {
	family() string
	// commandLine is the workload's command for people (the same in
	// every run: athena keys its per-workload memory on it).
	commandLine() string
	// run runs the workload once in a new container named name under
	// runtime rt. An error means the run could not be carried out at all
	// (docker failed); a workload that ran and failed is an outcome.
	run(ctx context.Context, rt, name string) (*outcome, error)
}

// outcome is one run of a workload.
type outcome struct {
	id                 string
	ok                 bool
	detail             string
	requests, failures int
	seconds            float64
}

// learn runs a workload learnRuns times under its learn runtime, then
// exports the union of the runs' records as the family's profile.
func (h *harness) learn(ctx context.Context, w workload) (*Family, error) {
	f := w.family()
	fam := &Family{Name: f, Workload: w.commandLine(), LearnRuntime: learnRuntime(f), Runtime: enforceRuntime(f), Profile: h.profilePath(f)}
	var ids []string
	for i := 1; i <= h.learnRuns; i++ {
		o, err := w.run(ctx, learnRuntime(f), fmt.Sprintf("athena-eval-%s-learn-%d", f, i))
		if err != nil {
			return nil, err
		}
		lr := LearnRun{Container: o.id, Seconds: o.seconds, OK: o.ok, Detail: o.detail}
		rf, err := readRecord(h.recordPath(f, o.id))
		if err != nil {
			return nil, err
		}
		lr.Events = rf.summarize(nil)
		fam.Learn = append(fam.Learn, lr)
		log.Printf("%s learn %d/%d: ok=%v %d requests, %d failed, %.1fs, %d records %s", f, i, h.learnRuns, o.ok, o.requests, o.failures, o.seconds, lr.Events.Logged, o.detail)
		if !o.ok {
			return nil, fmt.Errorf("%s: learn run %d failed: %s", f, i, o.detail)
		}
		if !rf.found || rf.mode != "learn" {
			return nil, fmt.Errorf("%s: learn run %d left no learn-mode record (%s, mode %q)", f, i, h.recordPath(f, o.id), rf.mode)
		}
		ids = append(ids, o.id)
	}
	info, err := h.exportProfile(ctx, f, ids)
	if err != nil {
		return nil, err
	}
	fam.ProfileInfo = info
	return fam, nil
}

// benign runs a workload once under its enforcing runtime.
func (h *harness) benign(ctx context.Context, w workload, i int) (*BenignRun, error) {
	f := w.family()
	o, err := w.run(ctx, enforceRuntime(f), fmt.Sprintf("athena-eval-%s-enforce-%d", f, i))
	if err != nil {
		return nil, err
	}
	rf, err := readRecord(h.recordPath(f, o.id))
	if err != nil {
		return nil, err
	}
	b := &BenignRun{Family: f, Run: i, Container: o.id, Seconds: o.seconds, OK: o.ok, Detail: o.detail,
		Requests: o.requests, Failures: o.failures, Events: rf.summarize(nil)}
	b.FalsePositive = b.Events.falsePositive()
	log.Printf("%s enforce %d/%d: ok=%v %d requests, %d failed, %.1fs, %d refusals, swarm %v %s", f, i, h.enforceRuns, o.ok, o.requests, o.failures, o.seconds, b.Events.Refusals, b.Events.Swarm, o.detail)
	return b, nil
}

// recordPath is a container's decision record.
func (h *harness) recordPath(family, id string) string {
	return filepath.Join(h.eventsDir(family), id+".jsonl")
}

// exportProfile concatenates the records of the learn runs into one
// record, eval-FAMILY-learned.jsonl, in the family's events directory,
// and has `runsc-athena swarm profile export` build the profile from it:
// the union of what the runs did, by the operator's own tool.
func (h *harness) exportProfile(ctx context.Context, family string, ids []string) (ProfileInfo, error) {
	var all []byte
	for _, id := range ids {
		data, err := os.ReadFile(h.recordPath(family, id))
		if err != nil {
			return ProfileInfo{}, err
		}
		if len(data) > 0 && data[len(data)-1] != '\n' {
			data = append(data, '\n')
		}
		all = append(all, data...)
	}
	merged := "eval-" + family + "-learned"
	if err := os.WriteFile(h.recordPath(family, merged), all, 0o644); err != nil {
		return ProfileInfo{}, err
	}
	out := h.profilePath(family)
	r, err := command(ctx, time.Minute, h.bin, "--athena-events-dir="+h.eventsDir(family), "swarm", "profile", "export", "-o", out, merged)
	if err != nil {
		return ProfileInfo{}, err
	}
	if r.code != 0 {
		return ProfileInfo{}, fmt.Errorf("%s: profile export: exit %d: %s", family, r.code, strings.TrimSpace(r.stderr))
	}
	if s := strings.TrimSpace(r.stderr); s != "" {
		log.Printf("%s: profile export: %s", family, s)
	}
	if h.stableAfter > 0 {
		if err := addStableAfter(out, h.stableAfter); err != nil {
			return ProfileInfo{}, fmt.Errorf("%s: %w", family, err)
		}
	}
	info, err := profileInfo(out)
	if err != nil {
		return info, fmt.Errorf("%s: the exported profile: %w", family, err)
	}
	log.Printf("%s: profile %s: %d rules, %d syscalls, %d paths, %d execs, %d endpoints", family, out, info.Rules, info.Syscalls, info.Paths, info.Execs, info.Endpoints)
	return info, nil
}

// addStableAfter adds swarm.selfmodel.stable_after to a profile that has
// no swarm section (one that has is left as it is, and said so).
func addStableAfter(path string, n uint64) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "swarm:") {
			log.Printf("%s already has a swarm section; -stable-after is not applied to it", path)
			return nil
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	data = append(data, fmt.Sprintf("# Added by bench/eval (-stable-after).\nswarm:\n  selfmodel:\n    stable_after: %d\n", n)...)
	if _, err := policy.Parse(path, data); err != nil {
		return fmt.Errorf("the profile with stable_after: %w", err)
	}
	return os.WriteFile(path, data, 0o644)
}

// profileInfo counts what a learned profile allows.
func profileInfo(path string) (ProfileInfo, error) {
	var info ProfileInfo
	data, err := os.ReadFile(path)
	if err != nil {
		return info, err
	}
	p, err := policy.Parse(path, data)
	if err != nil {
		return info, err
	}
	info.Rules = len(p.Rules)
	for _, r := range p.Rules {
		allow := r.Action.Kind == policy.ActAllow
		switch r.Kind() {
		case policy.KindSyscall:
			if allow {
				info.Syscalls += len(r.Syscalls)
			}
		case policy.KindPath:
			info.PathRules++
			if allow {
				info.Paths += len(r.Paths)
			}
		case policy.KindExec:
			info.Execs += len(r.Exec)
		case policy.KindNet:
			if allow {
				for _, n := range r.Net {
					info.Endpoints += len(n.To)
				}
			}
		}
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "swarm:") {
			info.SwarmSection = true
		}
	}
	return info, nil
}

// learnEvents summarizes the records of a family's learn passes (the
// containers ids), read together.
func (h *harness) learnEvents(family string, ids []string) (Events, error) {
	learnt := &recordFile{found: true}
	for _, id := range ids {
		rf, err := readRecord(h.recordPath(family, id))
		if err != nil {
			return Events{}, err
		}
		learnt.entries = append(learnt.entries, rf.entries...)
	}
	return learnt.summarize(nil), nil
}
