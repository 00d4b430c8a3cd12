package syscalls

import (
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/athenaos/athena/swarm/policy"
)

// maxLearnedValues bounds the values learned per argument; past it the
// argument is treated as unconstrained.
const maxLearnedValues = 16

// learnedArgs are the arguments a Profile learns value sets for, with the
// constant-name prefix used to write them back. Others are not constrained.
var learnedArgs = map[string]struct{ arg, prefix string }{
	"socket":      {"family", "AF_"},
	"personality": {"persona", "PER_"},
}

// nsFlags are the clone flags a Profile keeps forbidden unless seen.
var nsFlags = []string{"CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWUSER", "CLONE_NEWPID", "CLONE_NEWNET", "CLONE_NEWCGROUP"}

// Profile builds a policy from what a container was seen doing (learn
// mode). It is not safe for concurrent use; the learning agent owns it.
type Profile struct {
	seen      [MaxSyscall + 1]bool
	values    map[string]map[uint64]bool // syscall -> learned argument values
	overflow  map[string]bool
	cloneSeen uint64 // union of namespace flags seen on clone
	execs     map[string]bool
	paths     map[string]map[string]bool // op -> paths
	net       map[[2]string]map[string]bool
}

// NewProfile returns an empty profile.
func NewProfile() *Profile {
	return &Profile{values: map[string]map[uint64]bool{}, overflow: map[string]bool{}, execs: map[string]bool{},
		paths: map[string]map[string]bool{}, net: map[[2]string]map[string]bool{}}
}

// Observe records one system call.
func (p *Profile) Observe(sysno uintptr, args *[6]uint64) {
	name := Name(sysno)
	if name == "" {
		return
	}
	p.seen[sysno] = true
	if la, ok := learnedArgs[name]; ok && !p.overflow[name] {
		spec, _ := arg(name, la.arg)
		if p.values[name] == nil {
			p.values[name] = map[uint64]bool{}
		}
		p.values[name][args[spec.Index]&spec.Mask] = true
		if len(p.values[name]) > maxLearnedValues {
			p.overflow[name] = true
		}
	}
	if name == "clone" {
		for _, f := range nsFlags {
			v, _ := policy.ConstValue(f)
			p.cloneSeen |= args[0] & v
		}
	}
}

// ObserveExec records an executed file. Paths that are not valid policy
// globs (relative, or holding ?, [ or other glob syntax) are skipped: a
// policy could not name them exactly.
func (p *Profile) ObserveExec(path string) {
	if policy.CheckGlob(path) == nil {
		p.execs[path] = true
	}
}

// ObservePath records a file access; op is a policy path op (read, write, ...).
// Paths that are not valid policy globs are skipped, as in ObserveExec.
func (p *Profile) ObservePath(op, path string) {
	if policy.CheckGlob(path) != nil || !slices.Contains(policy.PathOps, op) {
		return
	}
	if p.paths[op] == nil {
		p.paths[op] = map[string]bool{}
	}
	p.paths[op][path] = true
}

// ObserveNet records an endpoint for op (connect, bind, sendto) and
// protocol (tcp, udp, any), in policy endpoint syntax ("10.0.0.1:443").
// Invalid ops, protocols or endpoints are skipped.
func (p *Profile) ObserveNet(op, protocol, endpoint string) {
	if policy.CheckEndpoint(endpoint) != nil || !slices.Contains(policy.NetOps, op) || !slices.Contains(policy.NetProtocols, protocol) {
		return
	}
	k := [2]string{op, protocol}
	if p.net[k] == nil {
		p.net[k] = map[string]bool{}
	}
	p.net[k][endpoint] = true
}

// Policy returns the learned policy in enforce mode: what was seen is
// allowed, anything else gets deny (errno(EPERM) or kill, say). Its
// Marshal output parses back to an equal policy and it compiles.
func (p *Profile) Policy(deny policy.Action) (*policy.Policy, error) {
	pol := &policy.Policy{Version: policy.Version, Mode: policy.ModeEnforce, Default: deny}
	// Exec, path and net rules come first: they concern only their own
	// syscalls and never end the search (see Compile).
	if len(p.execs) > 0 {
		pol.Rules = append(pol.Rules, policy.Rule{Name: "learned executables", Action: deny, Exec: keys(p.execs)})
	}
	for _, op := range sortedKeys(p.paths) {
		pol.Rules = append(pol.Rules, policy.Rule{Name: "learned " + op + " paths", Action: policy.Allow, Paths: keys(p.paths[op]), Ops: []string{op}})
	}
	if len(p.paths) > 0 {
		pol.Rules = append(pol.Rules, policy.Rule{Name: "other paths", Action: deny, Paths: []string{"/**"}, Ops: []string{"any"}})
	}
	var netKeys [][2]string
	for k := range p.net {
		netKeys = append(netKeys, k)
	}
	sort.Slice(netKeys, func(i, j int) bool { return netKeys[i][0]+netKeys[i][1] < netKeys[j][0]+netKeys[j][1] })
	var otherNet []policy.NetRule
	for _, k := range netKeys {
		pol.Rules = append(pol.Rules, policy.Rule{Name: "learned " + k[0] + " endpoints", Action: policy.Allow,
			Net: []policy.NetRule{{Op: k[0], Protocol: k[1], To: keys(p.net[k])}}})
		if !slices.ContainsFunc(otherNet, func(n policy.NetRule) bool { return n.Op == k[0] }) {
			otherNet = append(otherNet, policy.NetRule{Op: k[0], Protocol: "any", To: []string{"*"}})
		}
	}
	if len(otherNet) > 0 {
		pol.Rules = append(pol.Rules, policy.Rule{Name: "other endpoints", Action: deny, Net: otherNet})
	}
	var plain []string
	for n, ok := range p.seen {
		if !ok {
			continue
		}
		name := names[n]
		switch {
		case name == "clone":
			var forbid []string
			for _, f := range nsFlags {
				v, _ := policy.ConstValue(f)
				if p.cloneSeen&v == 0 {
					forbid = append(forbid, f)
				}
			}
			if len(forbid) == 0 {
				plain = append(plain, name)
				continue
			}
			pol.Rules = append(pol.Rules, policy.Rule{Name: "learned clone flags", Action: policy.Allow, Syscalls: []string{name},
				Args: []policy.ArgPred{{Arg: "flags", Tests: []policy.ArgTest{{Op: policy.NoneOf, Values: forbid}}}}})
		case learnedArgs[name].arg != "" && !p.overflow[name]:
			la := learnedArgs[name]
			var vals []uint64
			for v := range p.values[name] {
				vals = append(vals, v)
			}
			slices.Sort(vals)
			var toks []string
			for _, v := range vals {
				if c, ok := policy.ConstName(la.prefix, v); ok {
					toks = append(toks, c)
				} else {
					toks = append(toks, "0x"+strconv.FormatUint(v, 16))
				}
			}
			pol.Rules = append(pol.Rules, policy.Rule{Name: "learned " + name + " " + la.arg, Action: policy.Allow, Syscalls: []string{name},
				Args: []policy.ArgPred{{Arg: la.arg, Tests: []policy.ArgTest{{Op: policy.In, Values: toks}}}}})
		default:
			plain = append(plain, name)
		}
	}
	if len(plain) > 0 {
		pol.Rules = append(pol.Rules, policy.Rule{Name: "learned syscalls", Action: policy.Allow, Syscalls: plain})
	}
	// Round-trip through the parser: the learned profile must be a valid
	// policy by the same rules as a hand-written one.
	text, err := policy.Marshal(pol)
	if err != nil {
		return nil, err
	}
	out, err := policy.Parse("learned", text)
	if err != nil {
		return nil, fmt.Errorf("learned profile does not parse: %w", err)
	}
	if _, err := Compile(out); err != nil {
		return nil, fmt.Errorf("learned profile does not compile: %w", err)
	}
	return out, nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
