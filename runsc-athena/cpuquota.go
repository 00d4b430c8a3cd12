package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/athenaos/athena/internal/atomicfile"
	"github.com/athenaos/athena/swarm/policy"
)

// The scheduler agent enforces a container's CPU quota (docker --cpus)
// inside the sandbox, holding only the tasks over it. runsc also sets the
// same quota on the sandbox's host cgroup, which throttles the whole
// sandbox (the sentry, the network stack, every task) for the rest of a
// 100ms CFS period once it is spent: the two limits then compound (a 0.5
// CPU quota gave 0.38 CPU measured on the host) and the host's freezes
// undo the scheduler's latency protection. So when the scheduler enforces
// the OCI quota, create hands runsc a host quota raised to a backstop:
// hostQuotaFactor times the quota (at least a tenth of a CPU more) over a
// one-second CFS period, the longest the kernel allows, so that the
// scheduler's holds, which balance out over a few 100ms periods, never
// meet it. The backstop still bounds the sandbox if the scheduler fails
// (it is fail-open).
const (
	hostQuotaFactor = 1.25
	backstopPeriod  = 1_000_000 // µs
)

// backstopQuota returns the host quota (µs per backstopPeriod) for an OCI
// quota (µs per period).
func backstopQuota(quota int64, period uint64) int64 {
	cpus := float64(quota) / float64(period)
	return int64(max(cpus*hostQuotaFactor, cpus+0.1) * backstopPeriod)
}

// schedEnforcesQuota reports whether the scheduler will enforce the
// OCI quota of spec itself under policy p (nil: the built-in default),
// that is with cpu mode enforce and no quota of the policy's own.
func schedEnforcesQuota(spec *specs.Spec, p *policy.Policy) bool {
	cpu := ociResources(spec)
	if cpu.Quota <= 0 || cpu.Period == 0 {
		return false
	}
	if p == nil {
		p = policy.Default() // parsed only for a container with a quota
	}
	return p.CPU.Quota == 0 && p.CPU.Mode.Resolve(p.Mode, true) == policy.AgentEnforce
}

// relaxHostQuota rewrites the bundle's config.json with the backstop
// quota. Only linux.resources.cpu.quota and .period change; every other field,
// known to this build's runtime-spec or not, is kept as it is (numbers
// included: decoded as json.Number).
func relaxHostQuota(bundle string, spec *specs.Spec) error {
	return editBundle(bundle, func(doc map[string]any) error {
		cpu, ok := dig(doc, "linux", "resources", "cpu")
		if !ok {
			return errors.New("no linux.resources.cpu")
		}
		c := ociResources(spec)
		cpu["quota"] = json.Number(fmt.Sprint(backstopQuota(c.Quota, c.Period)))
		cpu["period"] = json.Number(fmt.Sprint(backstopPeriod))
		return nil
	})
}

// editBundle rewrites the bundle's config.json through edit, keeping every
// field edit does not touch as it is, known to this build's runtime-spec
// or not (numbers included: decoded as json.Number).
func editBundle(bundle string, edit func(doc map[string]any) error) error {
	path := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := edit(doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, out, st.Mode().Perm())
}

// dig returns the object at keys in doc.
func dig(doc map[string]any, keys ...string) (map[string]any, bool) {
	for _, k := range keys {
		next, ok := doc[k].(map[string]any)
		if !ok {
			return nil, false
		}
		doc = next
	}
	return doc, true
}
