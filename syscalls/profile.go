package syscalls

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

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

// learnsArgs marks the syscalls whose argument values a Profile keeps
// (learnedArgs, and clone's namespace flags).
var learnsArgs = func() (t [MaxSyscall + 1]bool) {
	for name := range learnedArgs {
		n, _ := Number(name)
		t[n] = true
	}
	n, _ := Number("clone")
	t[n] = true
	return t
}()

// LearnsArguments reports whether a Profile learns from the arguments of
// sysno, not only from its being called: learn mode must then record every
// call of it, not just the first. The learned argument is always the first
// (socket's family, personality's persona, clone's flags).
func LearnsArguments(sysno uintptr) bool {
	return sysno <= MaxSyscall && learnsArgs[sysno]
}

// Profile builds a policy from what a container was seen doing (learn
// mode). It is not safe for concurrent use; the learning agent owns it.
type Profile struct {
	seen      [MaxSyscall + 1]bool
	values    map[string]map[uint64]bool // syscall -> learned argument values
	overflow  map[string]bool
	cloneSeen uint64 // union of namespace flags seen on clone
	execs     map[string]bool
	paths     map[string]map[string]bool // ops ("read", "read,write") -> paths
	net       map[[2]string]map[string]bool
	netOps    map[string]bool // net ops whose checks were seen
}

// NewProfile returns an empty profile.
func NewProfile() *Profile {
	return &Profile{values: map[string]map[uint64]bool{}, overflow: map[string]bool{}, execs: map[string]bool{},
		paths: map[string]map[string]bool{}, net: map[[2]string]map[string]bool{}, netOps: map[string]bool{}}
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

// ObserveExec records an executed file, exactly as given (ObserveDecision
// generalizes first). Paths that are not valid policy globs (relative, or
// holding ?, [ or other glob syntax) or not UTF-8 are skipped: a policy
// could not name them exactly.
func (p *Profile) ObserveExec(path string) {
	if policy.CheckGlob(path) == nil && utf8.ValidString(path) {
		p.execs[path] = true
	}
}

// ObservePath records a file access, exactly as given; op is a policy path
// op (read, write, ...). Paths that are not valid policy globs are skipped,
// as in ObserveExec.
func (p *Profile) ObservePath(op, path string) {
	if bits, ok := policy.ParseOp(op); ok && op != "any" {
		p.observeOps(bits, path)
	}
}

// observeOps records a path that one call did all of ops to. The learned
// rule for it lists exactly these ops: a rule that allows must cover all
// the ops of a call (DecidePath).
func (p *Profile) observeOps(ops policy.OpSet, path string) {
	if ops == 0 || policy.CheckGlob(path) != nil || !utf8.ValidString(path) {
		return
	}
	k := strings.Join(ops.Names(), ",")
	if p.paths[k] == nil {
		p.paths[k] = map[string]bool{}
	}
	p.paths[k][path] = true
}

// ObserveNet records an endpoint for op (connect, bind, sendto) and
// protocol (tcp, udp, any), in policy endpoint syntax ("10.0.0.1:443").
// Invalid ops, protocols or endpoints (and endpoints that are not UTF-8)
// are skipped.
func (p *Profile) ObserveNet(op, protocol, endpoint string) {
	if policy.CheckEndpoint(endpoint) != nil || !utf8.ValidString(endpoint) || !slices.Contains(policy.NetOps, op) || !slices.Contains(policy.NetProtocols, protocol) {
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
//
// The rules come in this order, for the slow path's first-match
// precedence (DecidePath, DecideExec, DecideNet):
//
//  1. deny the path, exec and net syscalls that were never seen, so that
//     no learned path or endpoint lets them through;
//  2. allow the learned paths (one rule per set of ops one call did) and
//     endpoints (one per op and protocol);
//  3. deny every other exec (the learned executables as an allowlist),
//     path (/**) and IP or unix path endpoint (*:* and unix:/**) of the
//     ops seen;
//  4. allow the learned syscalls, with argument rules for clone, socket
//     and personality.
func (p *Profile) Policy(deny policy.Action) (*policy.Policy, error) {
	pol := &policy.Policy{Version: policy.Version, Mode: policy.ModeEnforce, Default: deny}
	var allows, denies []policy.Rule
	for _, k := range sortedKeys(p.paths) {
		ops := strings.Split(k, ",")
		allows = append(allows, policy.Rule{Name: "learned " + strings.Join(ops, "+") + " paths", Action: policy.Allow, Paths: keys(p.paths[k]), Ops: ops})
	}
	netOps := map[string]bool{}
	for op := range p.netOps {
		netOps[op] = true
	}
	var netKeys [][2]string
	for k := range p.net {
		netKeys = append(netKeys, k)
		netOps[k[0]] = true
	}
	sort.Slice(netKeys, func(i, j int) bool { return netKeys[i][0]+netKeys[i][1] < netKeys[j][0]+netKeys[j][1] })
	for _, k := range netKeys {
		allows = append(allows, policy.Rule{Name: "learned " + k[0] + " endpoints", Action: policy.Allow,
			Net: []policy.NetRule{{Op: k[0], Protocol: k[1], To: keys(p.net[k])}}})
	}
	if len(p.execs) > 0 {
		denies = append(denies, policy.Rule{Name: "learned executables", Action: deny, Exec: keys(p.execs)})
	}
	if len(p.paths) > 0 {
		denies = append(denies, policy.Rule{Name: "other paths", Action: deny, Paths: []string{"/**"}, Ops: []string{"any"}})
	}
	var otherNet []policy.NetRule
	for _, op := range policy.NetOps {
		if netOps[op] {
			otherNet = append(otherNet, policy.NetRule{Op: op, Protocol: "any", To: []string{"*:*", "unix:/**"}})
		}
	}
	if len(otherNet) > 0 {
		denies = append(denies, policy.Rule{Name: "other endpoints", Action: deny, Net: otherNet})
	}
	// The syscalls of the slow rules that were never seen are denied
	// first: otherwise a learned path or endpoint would allow them (a
	// slow rule before the rule that decides a syscall decides for it).
	// A rule none of whose syscalls was seen (observed through
	// ObservePath, ObserveExec or ObserveNet without Observe) keeps them.
	slowRules := append(allows, denies...)
	deny1, keep := map[string]bool{}, map[string]bool{}
	for i := range slowRules {
		sys := slowSyscalls(&slowRules[i])
		seen := slices.ContainsFunc(sys, func(s string) bool { n, _ := Number(s); return p.seen[n] })
		for _, s := range sys {
			if seen {
				deny1[s] = true
			} else {
				keep[s] = true
			}
		}
	}
	var unseen []string
	for n, name := range names {
		if deny1[name] && !keep[name] && !p.seen[n] {
			unseen = append(unseen, name)
		}
	}
	if len(unseen) > 0 {
		pol.Rules = append(pol.Rules, policy.Rule{Name: "checked syscalls not seen", Action: deny, Syscalls: unseen})
	}
	pol.Rules = append(pol.Rules, slowRules...)
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

// slowSyscalls returns the syscalls a path, exec or net rule concerns (as
// Compile marks them).
func slowSyscalls(r *policy.Rule) []string {
	var out []string
	switch r.Kind() {
	case policy.KindPath:
		ops := r.Ops
		if refuses(r.Action) {
			ops = append(slices.Clone(ops), "link", "rename", "mount")
		}
		for _, op := range ops {
			if op == "any" {
				for _, l := range pathOpSyscalls {
					out = append(out, l...)
				}
				continue
			}
			out = append(out, pathOpSyscalls[op]...)
		}
	case policy.KindExec:
		out = append(out, execSyscalls...)
	case policy.KindNet:
		for _, n := range r.Net {
			out = append(out, netOpSyscalls[n.Op]...)
		}
	}
	return out
}

// ProfileFromPolicy returns the profile a learned policy (the output of
// Policy) was built from, as far as the policy says it: the seen syscalls,
// learned argument values and clone flags, paths, executables, endpoints
// and the net ops that were checked. It makes a stored profile the
// starting point of the next run's learning, so that learning goes on as a
// union: observations added to the returned profile extend what q allows,
// and with no observations ProfileFromPolicy(q).Policy(q.Default) is q
// again.
//
// Errors: a policy that says more than a learned profile can is refused,
// naming the rule, rather than folded in with a different meaning: a
// default that allows (allow, log), a rule with a class, an argument test
// other than the learned ones (clone flags none_of, socket family and
// personality persona in), an allowing exec rule, a refusing rule other
// than the learned refusals, or a rule that only logs.
func ProfileFromPolicy(q *policy.Policy) (*Profile, error) {
	p := NewProfile()
	if err := p.ObservePolicy(q); err != nil {
		return nil, err
	}
	return p, nil
}

// ObservePolicy adds to p what the learned policy q allows, as
// ProfileFromPolicy reads it: p.Policy then allows the union of both. On
// error p may hold part of q; discard it.
func (p *Profile) ObservePolicy(q *policy.Policy) error {
	if !refuses(q.Default) {
		return fmt.Errorf("not a learned profile: default %s allows", q.Default)
	}
	for i := range q.Rules {
		r := &q.Rules[i]
		if err := p.observeRule(r); err != nil {
			name := r.Name
			if name == "" {
				name = fmt.Sprintf("#%d", i+1)
			}
			return fmt.Errorf("not a learned profile: rule %q: %w", name, err)
		}
	}
	return nil
}

// observeRule learns what one rule of a learned policy allows.
func (p *Profile) observeRule(r *policy.Rule) error {
	allow := r.Action == policy.Allow
	if !allow && !refuses(r.Action) {
		return fmt.Errorf("action %s", r.Action)
	}
	switch r.Kind() {
	case policy.KindSyscall:
		if r.Class != "" {
			return fmt.Errorf("class %s", r.Class)
		}
		if !allow {
			return nil // "checked syscalls not seen": teaches nothing
		}
		return p.observeSyscallRule(r)
	case policy.KindPath:
		if !allow {
			return nil // "other paths"
		}
		var ops policy.OpSet
		for _, o := range r.Ops {
			bits, ok := policy.ParseOp(o)
			if !ok || o == "any" {
				return fmt.Errorf("path op %q", o)
			}
			ops |= bits
		}
		for _, g := range r.Paths {
			p.observeOps(ops, g)
		}
	case policy.KindExec:
		if allow {
			return fmt.Errorf("an exec rule that allows")
		}
		for _, e := range r.Exec {
			p.ObserveExec(e)
		}
	case policy.KindNet:
		for _, n := range r.Net {
			p.netOps[n.Op] = true
			if allow {
				for _, ep := range n.To {
					p.ObserveNet(n.Op, n.Protocol, ep)
				}
			}
		}
	}
	return nil
}

// observeSyscallRule learns an allowing syscall rule: plain syscalls, or
// one syscall with the argument test Policy writes for it.
func (p *Profile) observeSyscallRule(r *policy.Rule) error {
	nums := make([]uintptr, len(r.Syscalls))
	for i, s := range r.Syscalls {
		n, ok := Number(s)
		if !ok {
			return fmt.Errorf("unknown syscall %q", s)
		}
		nums[i] = n
	}
	if len(r.Args) == 0 {
		for i, s := range r.Syscalls {
			p.seen[nums[i]] = true
			if _, ok := learnedArgs[s]; ok {
				p.overflow[s] = true // allowed with any value
			}
			if s == "clone" {
				for _, f := range nsFlags {
					v, _ := policy.ConstValue(f)
					p.cloneSeen |= v
				}
			}
		}
		return nil
	}
	if len(r.Syscalls) != 1 || len(r.Args) != 1 || len(r.Args[0].Tests) != 1 {
		return fmt.Errorf("argument rule not of a learned shape")
	}
	name, pred, test := r.Syscalls[0], r.Args[0], r.Args[0].Tests[0]
	switch la, learned := learnedArgs[name]; {
	case name == "clone" && pred.Arg == "flags" && test.Op == policy.NoneOf:
		var forbid, all uint64
		for _, v := range test.Resolve() {
			forbid |= v
		}
		for _, f := range nsFlags {
			v, _ := policy.ConstValue(f)
			all |= v
		}
		if forbid&^all != 0 {
			return fmt.Errorf("clone flags %#x beyond the namespace flags", forbid&^all)
		}
		p.cloneSeen |= all &^ forbid
	case learned && pred.Arg == la.arg && test.Op == policy.In:
		spec, _ := arg(name, la.arg)
		if p.values[name] == nil {
			p.values[name] = map[uint64]bool{}
		}
		for _, v := range test.Resolve() {
			p.values[name][v&spec.Mask] = true
		}
		if len(p.values[name]) > maxLearnedValues {
			p.overflow[name] = true
		}
	default:
		return fmt.Errorf("argument test %s %s not of a learned shape", pred.Arg, test.Op)
	}
	p.seen[nums[0]] = true
	return nil
}

// ObserveDecision learns from one decision record: the call (Observe,
// with its raw arguments), the paths a path check saw (for the ops the
// call did, generalized by learnedPath), an executed file and where it led
// (ObserveExec, generalized alike) and the endpoint a net check saw
// (ObserveNet; a bind's address is learned as "*", keeping the port, so a
// server may bind its port on any address). Decisions of calls that were
// refused (an action other than allow) and of unknown syscalls teach
// nothing; paths of a decision whose paths were cut are not learned.
func (p *Profile) ObserveDecision(d *Decision) {
	if (d.Type != "" && d.Type != DecisionType) || (d.Action != "" && d.Action != "allow") {
		return
	}
	sysno := uintptr(d.Sysno)
	name := Name(sysno)
	if name == "" {
		return
	}
	raw := d.Raw
	p.Observe(sysno, &raw)
	if !d.PathCut {
		var ops policy.OpSet
		for _, o := range d.Ops {
			if bits, ok := policy.ParseOp(o); ok && o != "any" {
				ops |= bits
			}
		}
		for _, f := range []string{d.Path, d.Path2, d.Target} {
			if f != "" && ops != 0 {
				p.observeOps(ops, learnedPath(ops, f))
			}
		}
		if slices.Contains(execSyscalls, name) {
			for _, f := range []string{d.Path, d.Target} {
				if f != "" {
					p.ObserveExec(learnedPath(policy.OpExec, f))
				}
			}
		}
	}
	if d.Net != nil {
		op := netOpName(sysno)
		if op == "" {
			return
		}
		p.netOps[op] = true
		proto := d.Net.Protocol
		if proto != "tcp" && proto != "udp" {
			proto = "any"
		}
		ep := d.Net.Endpoint
		if op == "bind" && ep != "" && !strings.HasPrefix(ep, "unix:") {
			ep = "*:" + ep[strings.LastIndexByte(ep, ':')+1:]
		}
		if ep != "" {
			p.ObserveNet(op, proto, ep)
		}
	}
}

// tempDirs are the directories whose files are learned as DIR/**: their
// names change from run to run.
var tempDirs = []string{"/tmp", "/var/tmp", "/dev/shm", "/run"}

// learnedPath generalizes a path one call did ops to, so that a replay of
// the same workload matches the learned rule:
//
//   - /proc/PID (and what lies below /proc/self/, /proc/thread-self/,
//     /proc/PID/task/TID/) become /proc/* (and /proc/*/task/*/);
//   - anything under /tmp, /var/tmp, /dev/shm or /run becomes DIR/**;
//   - for ops other than read and exec, the path becomes its directory's
//     DIR/* (a server writing /var/log/app/x.log learns /var/log/app/*),
//     except directly under / where it stays exact.
func learnedPath(ops policy.OpSet, p string) string {
	if !strings.HasPrefix(p, "/") {
		return p
	}
	p = collapseProc(p)
	for _, d := range tempDirs {
		if policy.IsAncestorOrSelf(d, p) {
			return d + "/**"
		}
	}
	if ops&^(policy.OpRead|policy.OpExec) != 0 {
		if dir := path.Dir(p); dir != "/" {
			return dir + "/*"
		}
	}
	return p
}

// collapseProc replaces the task directories of a /proc path by "*".
func collapseProc(p string) string {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return p
	}
	comps := strings.Split(rest, "/")
	switch {
	case len(comps) == 1 && !isDigits(comps[0]):
		return p // the link /proc/self itself, or a file such as /proc/meminfo
	case comps[0] == "self" || isDigits(comps[0]):
		comps[0] = "*"
		if len(comps) > 2 && comps[1] == "task" && isDigits(comps[2]) {
			comps[2] = "*"
		}
	case comps[0] == "thread-self":
		comps[0] = "*/task/*"
	default:
		return p
	}
	return "/proc/" + strings.Join(comps, "/")
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
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
