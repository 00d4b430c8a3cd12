package sentry

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/sched"
)

// OCIResources is what the sandbox needs of a container's OCI resources
// (linux.resources): Docker's --cpu-shares is Shares, --cpus is
// Quota/Period (µs), --pids-limit is Pids. Zero fields are unset.
type OCIResources struct {
	Shares uint64
	Quota  int64
	Period uint64
	Pids   int64
}

// String encodes c for the link ("shares/quota/period/pids").
func (c OCIResources) String() string {
	return fmt.Sprintf("%d/%d/%d/%d", c.Shares, c.Quota, c.Period, c.Pids)
}

// ParseOCIResources decodes String's form.
func ParseOCIResources(s string) (OCIResources, error) {
	f := strings.Split(s, "/")
	if len(f) != 4 {
		return OCIResources{}, fmt.Errorf("resources %q: want shares/quota/period/pids", s)
	}
	var c OCIResources
	var err [4]error
	c.Shares, err[0] = strconv.ParseUint(f[0], 10, 64)
	c.Quota, err[1] = strconv.ParseInt(f[1], 10, 64)
	c.Period, err[2] = strconv.ParseUint(f[2], 10, 64)
	c.Pids, err[3] = strconv.ParseInt(f[3], 10, 64)
	for _, e := range err {
		if e != nil {
			return OCIResources{}, fmt.Errorf("resources %q: %w", s, e)
		}
	}
	return c, nil
}

// SchedConfigFrom makes a container's scheduler configuration from its
// policy's cpu section and its OCI resources: the policy's weight and
// quota win, then the OCI spec's, then the defaults (weight 1024, no
// quota). It reports whether the container is scheduled at all (cpu.mode
// off: not) and where its weight and quota came from.
func SchedConfigFrom(p *policy.Policy, oci OCIResources) (sched.ContainerConfig, bool, string) {
	m := p.CPU.Mode.Resolve(p.Mode, true)
	if m == policy.AgentOff {
		return sched.ContainerConfig{}, false, ""
	}
	cc := sched.ContainerConfig{Mode: schedModes[m], Weight: sched.DefaultWeight}
	var from []string
	switch {
	case p.CPU.Weight != 0:
		cc.Weight = p.CPU.Weight
		from = append(from, "weight: policy")
	case oci.Shares != 0:
		cc.Weight = uint32(min(max(oci.Shares, sched.MinWeight), sched.MaxWeight))
		from = append(from, "weight: oci")
	default:
		from = append(from, "weight: default")
	}
	switch {
	case p.CPU.Quota != 0:
		cc.Quota = p.CPU.Quota
		from = append(from, "quota: policy")
	case oci.Quota > 0 && oci.Period > 0:
		cc.Quota = max(sched.QuotaFromCFS(oci.Quota, int64(oci.Period)), sched.MinQuota)
		from = append(from, "quota: oci")
	default:
		from = append(from, "quota: none")
	}
	if p.CPU.Share == policy.CPUShareGroups {
		cc.FairGroups = true
		from = append(from, "share: groups")
	}
	return cc, true, strings.Join(from, ", ")
}

var schedModes = map[policy.AgentMode]sched.Mode{policy.AgentLearn: sched.ModeLearn, policy.AgentObserve: sched.ModeObserve, policy.AgentEnforce: sched.ModeEnforce}
