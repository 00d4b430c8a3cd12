package syscalls

import (
	"slices"
	"strings"

	"github.com/athenaos/athena/swarm/policy"
)

// pathOpSyscalls lists, per path rule op, the syscalls whose path argument
// the fs/ slow path will have to check. "any" is their union.
var pathOpSyscalls = map[string][]string{
	"read": {"open", "openat", "openat2", "stat", "lstat", "newfstatat", "statx", "access", "faccessat",
		"faccessat2", "readlink", "readlinkat", "getxattr", "lgetxattr", "listxattr", "llistxattr",
		"getxattrat", "listxattrat", "statfs", "chdir", "inotify_add_watch", "name_to_handle_at"},
	"write": {"open", "openat", "openat2", "creat", "truncate", "setxattr", "lsetxattr", "removexattr",
		"lremovexattr", "setxattrat", "removexattrat", "utime", "utimes", "utimensat", "futimesat"},
	"create": {"open", "openat", "openat2", "creat", "mkdir", "mkdirat", "mknod", "mknodat",
		"symlink", "symlinkat", "link", "linkat", "rename", "renameat", "renameat2"},
	"delete": {"unlink", "unlinkat", "rmdir", "rename", "renameat", "renameat2"},
	"exec":   {"execve", "execveat", "uselib"},
	"chmod":  {"chmod", "fchmodat", "fchmodat2"},
	"chown":  {"chown", "lchown", "fchownat"},
	"link":   {"link", "linkat", "symlink", "symlinkat"},
	"rename": {"rename", "renameat", "renameat2"},
	"mount": {"mount", "umount2", "pivot_root", "chroot", "swapon", "swapoff", "open_tree",
		"open_tree_attr", "move_mount", "fspick"},
}

// netOpSyscalls lists the syscalls a net rule op concerns.
var netOpSyscalls = map[string][]string{
	"connect": {"connect"},
	"bind":    {"bind"},
	"sendto":  {"sendto", "sendmsg", "sendmmsg"},
}

var execSyscalls = []string{"execve", "execveat"}

// maxRules bounds the rule index packed into a Verdict.
const maxRules = 1<<16 - 2

// compiledRule is a rule resolved against the syscall table.
type compiledRule struct {
	kind    policy.Kind
	sysnos  []bool // by number: does the rule concern it
	verdict Verdict
	flag    Verdict // Needs*Check for path/exec/net rules
	preds   []policy.ArgPred
	index   int // in Policy.Rules
}

// Compile checks p against the x86-64 syscall table (syscall names, argument
// names, value widths) and builds its verdict table. Errors are
// *policy.Error at the policy's FILE:LINE and match policy.ErrInvalid.
func Compile(p *policy.Policy) (*Table, error) {
	if len(p.Rules) > maxRules {
		return nil, policy.Errorf(p.File, 0, "too many rules (%d, at most %d)", len(p.Rules), maxRules)
	}
	t := &Table{policy: p}
	rules := make([]compiledRule, len(p.Rules))
	for i := range p.Rules {
		if err := t.resolve(p, i, &rules[i]); err != nil {
			return nil, err
		}
	}
	if err := t.compileSlow(p); err != nil {
		return nil, err
	}
	def := verdictFor(p.Default, p.Mode, -1)
	t.unknown = def | Unknown
	reached := make([]bool, len(rules))
	decidedBy := make([]int, MaxSyscall+1) // rule that ended the search, -1: default
	for n := range t.entries {
		if names[n] == "" {
			t.entries[n] = entry{base: t.unknown}
			continue
		}
		var flags Verdict
		if p.Mode == policy.ModeLearn {
			// Learn mode collects paths, executables and endpoints of
			// every call that has them, rules or not.
			flags = learnChecks[n]
		}
		var progs []prog
		base, by := def, -1
		for i := range rules {
			r := &rules[i]
			if !r.sysnos[n] {
				continue
			}
			reached[i] = true
			if r.kind != policy.KindSyscall {
				flags |= r.flag
				continue
			}
			if len(r.preds) == 0 {
				base, by = r.verdict, i
				break
			}
			pr, err := t.compilePreds(p, names[n], r)
			if err != nil {
				return nil, err
			}
			progs = append(progs, pr)
		}
		decidedBy[n] = by
		if len(progs) > 0 {
			flags |= HasPredicates
		}
		e := entry{base: base | flags, pfirst: uint32(len(t.progs)), pn: uint16(len(progs))}
		for _, pr := range progs {
			pr.verdict |= flags
			t.progs = append(t.progs, pr)
		}
		t.entries[n] = e
	}
	for i, ok := range reached {
		if ok {
			continue
		}
		r := &p.Rules[i]
		for n, on := range rules[i].sysnos {
			if on && decidedBy[n] >= 0 {
				return nil, policy.Errorf(p.File, r.Pos.Line, "rule is unreachable: every syscall it matches is decided by an earlier rule (e.g. %s by the rule at line %d)",
					names[n], p.Rules[decidedBy[n]].Pos.Line)
			}
		}
		return nil, policy.Errorf(p.File, r.Pos.Line, "rule is unreachable")
	}
	return t, nil
}

// resolve maps rule i to the syscalls it concerns and its verdict.
func (t *Table) resolve(p *policy.Policy, i int, cr *compiledRule) error {
	r := &p.Rules[i]
	cr.index = i
	cr.kind = r.Kind()
	cr.sysnos = make([]bool, MaxSyscall+1)
	cr.verdict = verdictFor(r.Action, p.Mode, i)
	mark := func(list []string) {
		for _, s := range list {
			n, _ := Number(s)
			cr.sysnos[n] = true
		}
	}
	switch cr.kind {
	case policy.KindPath:
		cr.flag = NeedsPathCheck
		for _, op := range r.Ops {
			if op == "any" {
				for _, l := range pathOpSyscalls {
					mark(l)
				}
				continue
			}
			mark(pathOpSyscalls[op])
		}
		if refuses(r.Action) {
			// Aliases: a hard link, rename or mount can make a protected
			// file reachable under another name (see pathRule.match).
			for _, op := range []string{"link", "rename", "mount"} {
				mark(pathOpSyscalls[op])
			}
		}
		return nil
	case policy.KindExec:
		cr.flag = NeedsExecCheck
		mark(execSyscalls)
		return nil
	case policy.KindNet:
		cr.flag = NeedsNetCheck
		for _, nr := range r.Net {
			mark(netOpSyscalls[nr.Op])
		}
		return nil
	}
	for j, s := range r.Syscalls {
		n, ok := Number(s)
		if !ok {
			line := r.Pos.Line
			if j < len(r.Pos.Syscalls) {
				line = r.Pos.Syscalls[j]
			}
			return policy.Errorf(p.File, line, "unknown syscall %q (not in the x86-64 table)", s)
		}
		cr.sysnos[n] = true
	}
	if r.Class != "" {
		c, ok := ParseClass(r.Class)
		if !ok {
			return policy.Errorf(p.File, r.Pos.Class, "unknown class %q", r.Class)
		}
		for n := range names {
			if names[n] != "" && classOf[n] == c {
				cr.sysnos[n] = true
			}
		}
	}
	cr.preds = r.Args
	// Check every predicate against every syscall now, so that errors do not
	// depend on which syscalls earlier rules already decided.
	for n, on := range cr.sysnos {
		if !on {
			continue
		}
		for _, pred := range r.Args {
			if err := checkPred(p, names[n], pred); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkPred(p *policy.Policy, sys string, pred policy.ArgPred) error {
	spec, ok := arg(sys, pred.Arg)
	if !ok {
		if specs := Args(sys); len(specs) > 0 {
			var have []string
			for _, s := range specs {
				have = append(have, s.Name)
			}
			return policy.Errorf(p.File, pred.Line, "syscall %s has no argument %q (predicates support: %s)", sys, pred.Arg, strings.Join(have, ", "))
		}
		return policy.Errorf(p.File, pred.Line, "syscall %s has no argument %q (it takes no argument predicates)", sys, pred.Arg)
	}
	for _, ts := range pred.Tests {
		for k, v := range ts.Resolve() {
			// A value wider than the argument can never match; a negative
			// number sign-extended from the argument's width is fine.
			if v&^spec.Mask != 0 && v|spec.Mask != ^uint64(0) {
				return policy.Errorf(p.File, ts.Line, "%s.%s: value %s (%#x) has bits outside the argument (mask %#x)",
					sys, pred.Arg, ts.Values[k], v, spec.Mask)
			}
		}
	}
	return nil
}

// compilePreds compiles rule r's predicates for syscall sys into a prog.
func (t *Table) compilePreds(p *policy.Policy, sys string, r *compiledRule) (prog, error) {
	pr := prog{verdict: r.verdict, tfirst: uint32(len(t.tests))}
	ntests := 0
	for _, pred := range r.preds {
		ntests += len(pred.Tests)
	}
	if ntests > 1<<15 {
		return pr, policy.Errorf(p.File, p.Rules[r.index].Pos.Line, "too many argument tests in one rule (%d)", ntests)
	}
	for _, pred := range r.preds {
		spec, _ := arg(sys, pred.Arg)
		for _, ts := range pred.Tests {
			vals := ts.Resolve()
			at := argTest{idx: spec.Index, argMsk: spec.Mask, op: ts.Op}
			if ts.Op.IsMask() {
				for _, v := range vals {
					at.mask |= v & spec.Mask
				}
			} else {
				at.vfirst = uint32(len(t.values))
				for _, v := range vals {
					v &= spec.Mask
					if !slices.Contains(t.values[at.vfirst:], v) {
						t.values = append(t.values, v)
					}
				}
				at.vn = uint16(len(t.values) - int(at.vfirst))
			}
			t.tests = append(t.tests, at)
			pr.tn++
		}
	}
	return pr, nil
}

// verdictFor folds an action and the mode into a verdict: observe turns a
// non-allow into allow+Record+WouldDeny, learn allows and records all.
func verdictFor(a policy.Action, mode policy.Mode, rule int) Verdict {
	var intended Action
	var errno uint16
	var flags Verdict
	switch a.Kind {
	case policy.ActAllow:
		intended = Allow
	case policy.ActLog:
		intended, flags = Allow, Record
	case policy.ActErrno:
		intended, errno = Errno, a.ErrnoNumber()
	case policy.ActKill:
		intended = KillProcess
	case policy.ActKillThread:
		intended = KillThread
	}
	act := intended
	if intended != Allow {
		// Every refusal is recorded: the host's record is where an
		// operator learns what the policy stopped (the recorder folds
		// repeats of one refusal).
		flags |= Record
	}
	switch mode {
	case policy.ModeObserve:
		if intended != Allow {
			act, flags = Allow, flags|Record|WouldDeny
		}
	case policy.ModeLearn:
		flags |= Record
		if intended != Allow {
			act, flags = Allow, flags|WouldDeny
		}
	}
	return makeVerdict(act, intended, errno, rule) | flags
}
