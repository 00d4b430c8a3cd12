package syscalls

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/athenaos/athena/swarm/policy"
)

// The slow path decides path, exec and net rules, which need what the fast
// path cannot see: the resolved paths of a call (fs/) and the socket
// address it names (sentry/). Decide marks the calls they concern with
// NeedsPathCheck, NeedsExecCheck or NeedsNetCheck; for those, the caller
// resolves what the check needs and asks DecidePath, DecideExec or
// DecideNet, passing the verdict Decide returned.
//
// Precedence is the fast path's: the first matching rule in file order
// wins. A slow rule can therefore decide only if it comes before the rule
// that decided on the fast path (every rule comes before the default).
// Several checks of one call chain: pass the verdict one returned as fast
// to the next (DecideExec(DecidePath(v, ...), ...)); the result is the
// first matching rule of all kinds, whatever the order of the calls.
//
// These functions allocate nothing for clean paths and take no lock; they
// read only the immutable Table.

// FileTarget is one path argument of a call as fs/ resolved it: Path is
// absolute and clean with its directories resolved and its last component
// as named (not followed); Target, when the last component is a symlink the
// call follows, is where it leads ("" otherwise).
type FileTarget struct{ Path, Target string }

// pathRule is a compiled path rule.
type pathRule struct {
	index   int
	verdict Verdict
	ops     policy.OpSet
	// refuse: the action refuses the call (errno, kill, kill-thread).
	// Such a rule matches a call that touches any of its paths with any of
	// its ops, and aliases of its paths. A rule that lets the call run
	// (allow, log) must cover the whole call instead: all its ops and
	// all its paths.
	refuse bool
	globs  []policy.Glob
}

// execRule is a compiled exec allowlist.
type execRule struct {
	index   int
	verdict Verdict
	globs   []policy.Glob
}

// netOps is a set of net rule ops.
type netOps uint8

const (
	netConnect netOps = 1 << iota
	netBind
	netSendto
)

// netMatch is one compiled {op, to, protocol} of a net rule.
type netMatch struct {
	ops   netOps
	proto uint8 // SOCK_STREAM (tcp), SOCK_DGRAM (udp), 0 for any
	to    []policy.Endpoint
}

// netRule is a compiled net rule: any of its matches.
type netRule struct {
	index   int
	verdict Verdict
	nets    []netMatch
}

// Socket types of the protocols a net rule may name.
const (
	sockStream = 1 // tcp
	sockDgram  = 2 // udp
	sockMask   = 0xf
)

// checkFlags are the flags a slow verdict keeps from the fast one.
const checkFlags = NeedsPathCheck | NeedsNetCheck | NeedsExecCheck | HasPredicates

var (
	// netOpOf[n] is the net rule op that syscall n performs, if any.
	netOpOf [MaxSyscall + 1]netOps
	// learnChecks[n] are the checks learn mode asks for on syscall n:
	// every path syscall, execve/execveat and every net op syscall.
	learnChecks [MaxSyscall + 1]Verdict
)

func init() {
	bits := map[string]netOps{"connect": netConnect, "bind": netBind, "sendto": netSendto}
	for op, list := range netOpSyscalls {
		for _, s := range list {
			n, _ := Number(s)
			netOpOf[n] |= bits[op]
			learnChecks[n] |= NeedsNetCheck
		}
	}
	for _, list := range pathOpSyscalls {
		for _, s := range list {
			n, _ := Number(s)
			learnChecks[n] |= NeedsPathCheck
		}
	}
	for _, s := range execSyscalls {
		n, _ := Number(s)
		learnChecks[n] |= NeedsExecCheck
	}
}

// refuses reports whether an action keeps the call from running as asked.
func refuses(a policy.Action) bool {
	switch a.Kind {
	case policy.ActErrno, policy.ActKill, policy.ActKillThread:
		return true
	}
	return false
}

// compileSlow compiles p's path, exec and net rules onto t. Parse has
// checked their globs, ops and endpoints; a policy built in code gets the
// same checks here.
func (t *Table) compileSlow(p *policy.Policy) error {
	globs := func(r *policy.Rule, list []string) ([]policy.Glob, error) {
		out := make([]policy.Glob, 0, len(list))
		for _, g := range list {
			c, err := policy.CompileGlob(g)
			if err != nil {
				return nil, policy.Errorf(p.File, r.Pos.Line, "%v", err)
			}
			out = append(out, c)
		}
		return out, nil
	}
	for i := range p.Rules {
		r := &p.Rules[i]
		v := verdictFor(r.Action, p.Mode, i)
		switch r.Kind() {
		case policy.KindPath:
			pr := pathRule{index: i, verdict: v, refuse: refuses(r.Action)}
			for _, op := range r.Ops {
				bits, ok := policy.ParseOp(op)
				if !ok {
					return policy.Errorf(p.File, r.Pos.Line, "ops: unknown %q", op)
				}
				pr.ops |= bits
			}
			if len(r.Ops) == 0 {
				pr.ops = policy.OpAny
			}
			var err error
			if pr.globs, err = globs(r, r.Paths); err != nil {
				return err
			}
			t.pathRules = append(t.pathRules, pr)
		case policy.KindExec:
			er := execRule{index: i, verdict: v}
			var err error
			if er.globs, err = globs(r, r.Exec); err != nil {
				return err
			}
			t.execRules = append(t.execRules, er)
		case policy.KindNet:
			nr := netRule{index: i, verdict: v}
			for _, n := range r.Net {
				m := netMatch{}
				switch n.Op {
				case "connect":
					m.ops = netConnect
				case "bind":
					m.ops = netBind
				case "sendto":
					m.ops = netSendto
				default:
					return policy.Errorf(p.File, n.Line, "net.op: unknown %q", n.Op)
				}
				switch n.Protocol {
				case "tcp":
					m.proto = sockStream
				case "udp":
					m.proto = sockDgram
				case "any", "":
				default:
					return policy.Errorf(p.File, n.Line, "net.protocol: unknown %q", n.Protocol)
				}
				for _, s := range n.To {
					e, err := policy.ParseEndpoint(s)
					if err != nil {
						return policy.Errorf(p.File, n.Line, "net.to: %v", err)
					}
					m.to = append(m.to, e)
				}
				nr.nets = append(nr.nets, m)
			}
			t.netRules = append(t.netRules, nr)
		}
	}
	return nil
}

// limit returns the number of rules that come before the one that decided
// fast: the slow rules that may still decide.
func limit(fast Verdict) int {
	if r := fast.Rule(); r >= 0 {
		return r
	}
	return maxRules + 1
}

// slow returns the verdict of a slow rule for a call whose fast verdict
// was fast: the rule's verdict (mode folded in, as compiled) keeping the
// fast verdict's check flags (and Record in learn mode, where every call
// is recorded).
func (t *Table) slow(rule, fast Verdict) Verdict {
	v := rule | fast&checkFlags
	if t.policy.Mode == policy.ModeLearn {
		v |= fast & Record
	}
	return v
}

// DecidePath decides the path rules for a call that does ops to targets
// (fast is what Decide returned for it). Among the path rules that come
// before fast's rule, the first that matches decides; if none does, fast
// is returned unchanged.
//
// A rule whose action refuses the call (errno, kill, kill-thread) matches
// when the call's ops intersect its ops and any target's Path or Target
// matches one of its globs. It also catches aliases, whatever its ops: a
// call with OpLink, OpRename or OpMount whose Path or Target matches one
// of its globs (a hard link, rename or bind mount of a protected file
// gives it a second name), and a call with OpRename or OpMount on a
// directory at or above a glob's literal prefix (renaming or mounting
// over /etc moves /etc/shadow; for /home/*/.ssh/** that is /home and
// above).
//
// A rule whose action lets the call run (allow, log) must cover the whole
// call: all of the call's ops are among its ops, and every target's Path
// and Target match its globs (a Target that is not an absolute path, such
// as pipe:[N] where a /proc/PID/fd link leads, is not in the file tree and
// is left out). Otherwise an allow rule for /tmp/** would let
// rename(/tmp/x, /etc/passwd), or an open of a /tmp symlink to
// /etc/shadow, past a later rule that protects /etc.
//
// Paths are cleaned first (fs/ gives clean ones; this costs nothing then).
func (t *Table) DecidePath(fast Verdict, ops policy.OpSet, targets []FileTarget) Verdict {
	if t == nil {
		return fast
	}
	lim := limit(fast)
	targets = cleanTargets(targets)
	for i := range t.pathRules {
		r := &t.pathRules[i]
		if r.index >= lim {
			break
		}
		if r.match(ops, targets) {
			return t.slow(r.verdict, fast)
		}
	}
	return fast
}

// cleanTargets returns targets with every path cleaned (path.Clean). fs/
// gives clean paths, so this normally returns targets itself without
// allocating; it is here so that a path such as /etc//shadow cannot slip
// past a glob.
func cleanTargets(targets []FileTarget) []FileTarget {
	out := targets
	for i, ft := range targets {
		p, tg := path.Clean(ft.Path), ft.Target
		if tg != "" && strings.HasPrefix(tg, "/") {
			tg = path.Clean(tg)
		}
		if ft.Path == "" {
			p = ""
		}
		if p == ft.Path && tg == ft.Target {
			continue
		}
		if &out[0] == &targets[0] {
			out = slices.Clone(targets)
		}
		out[i] = FileTarget{Path: p, Target: tg}
	}
	return out
}

func (r *pathRule) match(ops policy.OpSet, targets []FileTarget) bool {
	if len(targets) == 0 || ops == 0 {
		return false
	}
	if !r.refuse {
		if ops&^r.ops != 0 {
			return false
		}
		for _, ft := range targets {
			// A Target that is not a path (pipe:[N], socket:[N], where
			// /proc/PID/fd links lead) names nothing a glob could.
			if !r.anyGlob(ft.Path) || (strings.HasPrefix(ft.Target, "/") && !r.anyGlob(ft.Target)) {
				return false
			}
		}
		return true
	}
	direct := ops&r.ops != 0
	alias := ops&(policy.OpLink|policy.OpRename|policy.OpMount) != 0
	above := ops&(policy.OpRename|policy.OpMount) != 0
	if !direct && !alias {
		return false
	}
	for _, ft := range targets {
		if r.anyGlob(ft.Path) || (ft.Target != "" && r.anyGlob(ft.Target)) {
			return true
		}
		if above && (r.above(ft.Path) || (ft.Target != "" && r.above(ft.Target))) {
			return true
		}
	}
	return false
}

func (r *pathRule) anyGlob(p string) bool {
	for _, g := range r.globs {
		if g.MatchClean(p) {
			return true
		}
	}
	return false
}

// above reports whether dir is at or above the literal prefix of one of the
// rule's globs: renaming it or mounting on it changes what the glob names.
func (r *pathRule) above(dir string) bool {
	for _, g := range r.globs {
		if policy.IsAncestorOrSelf(dir, g.LiteralPrefix()) {
			return true
		}
	}
	return false
}

// DecideExec decides the exec allowlists for an execve or execveat of file
// (fast is what Decide returned for it). An allowlist rule matches, and
// its action applies, when file.Path matches none of its globs, or when
// file.Target is non-empty and matches none of them: both the name run and
// the file it leads to must be on the list. A file fs/ could not name
// (Path "") is on no list. Precedence as for DecidePath.
func (t *Table) DecideExec(fast Verdict, file FileTarget) Verdict {
	if t == nil {
		return fast
	}
	lim := limit(fast)
	file = cleanTargets([]FileTarget{file})[0]
	for i := range t.execRules {
		r := &t.execRules[i]
		if r.index >= lim {
			break
		}
		if !r.anyGlob(file.Path) || (file.Target != "" && !r.anyGlob(file.Target)) {
			return t.slow(r.verdict, fast)
		}
	}
	return fast
}

func (r *execRule) anyGlob(p string) bool {
	for _, g := range r.globs {
		if g.MatchClean(p) {
			return true
		}
	}
	return false
}

// DecideNet decides the net rules for syscall sysno (connect, bind,
// sendto, sendmsg or sendmmsg; any other gets fast back) on a socket of
// type sockType (SOCK_STREAM, SOCK_DGRAM, ...; flag bits are ignored)
// naming addr (fast is what Decide returned for it). A net rule matches
// when one of its {op, to, protocol} entries has the call's op, a protocol
// that fits (tcp: SOCK_STREAM, udp: SOCK_DGRAM, any: every type, AF_UNIX
// sockets included) and an endpoint that matches addr. A call that names
// no address (addr.Family 0: sendto on a connected socket) matches no
// endpoint. Precedence as for DecidePath.
func (t *Table) DecideNet(fast Verdict, sysno uintptr, sockType uint8, addr policy.Addr) Verdict {
	if t == nil || sysno > MaxSyscall || netOpOf[sysno] == 0 {
		return fast
	}
	op := netOpOf[sysno]
	typ := sockType & sockMask
	lim := limit(fast)
	for i := range t.netRules {
		r := &t.netRules[i]
		if r.index >= lim {
			break
		}
		for j := range r.nets {
			m := &r.nets[j]
			if m.ops&op == 0 || (m.proto != 0 && m.proto != typ) {
				continue
			}
			for k := range m.to {
				if m.to[k].Match(addr) {
					return t.slow(r.verdict, fast)
				}
			}
		}
	}
	return fast
}

// RuleName names rule i of the table's policy for people: its name, or
// "rule N" (N the index in Policy.Rules, as Verdict.Rule gives it), or
// "default" for -1.
func (t *Table) RuleName(i int) string {
	if i < 0 {
		return "default"
	}
	if t != nil && i < len(t.policy.Rules) && t.policy.Rules[i].Name != "" {
		return t.policy.Rules[i].Name
	}
	return "rule " + strconv.Itoa(i)
}

// RuleLine returns the source line of rule i (-1: of the default action),
// 0 when unknown.
func (t *Table) RuleLine(i int) int {
	switch {
	case t == nil || i >= len(t.policy.Rules):
		return 0
	case i < 0:
		return t.policy.Lines.Default
	}
	return t.policy.Rules[i].Pos.Line
}

// RuleAction returns the action policy rule i asks for (-1: the default),
// before the mode is applied; false if there is no such rule.
func (t *Table) RuleAction(i int) (policy.Action, bool) {
	switch {
	case t == nil || i >= len(t.policy.Rules):
		return policy.Action{}, false
	case i < 0:
		return t.policy.Default, true
	}
	return t.policy.Rules[i].Action, true
}

// PolicyFile returns the file the table's policy was read from ("" if
// unknown).
func (t *Table) PolicyFile() string {
	if t == nil {
		return ""
	}
	return t.policy.File
}
