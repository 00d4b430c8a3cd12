package syscalls

import (
	"fmt"
	"strings"
)

// Action is what the gate does with a system call.
type Action uint8

const (
	// Allow runs the call.
	Allow Action = iota
	// Errno fails the call with Verdict.Errno() without running it.
	Errno
	// KillProcess kills the thread group (SIGSYS, like seccomp's
	// SECCOMP_RET_KILL_PROCESS).
	KillProcess
	// KillThread kills the calling thread (SECCOMP_RET_KILL_THREAD).
	KillThread
)

var actionStrings = [...]string{Allow: "allow", Errno: "errno", KillProcess: "kill", KillThread: "kill-thread"}

func (a Action) String() string { return actionStrings[a&3] }

// Verdict is a compiled decision, a plain value:
//
//	bits  0-1   Action to take
//	bits  2-3   Action the policy asked for (differs in observe/learn mode)
//	bits  4-15  errno number (for Errno, also kept when only intended)
//	bits 16-31  flags (Record, WouldDeny, Needs*Check, HasPredicates, Unknown)
//	bits 32-47  rule: 1 + index of the deciding rule, 0 for the default
type Verdict uint64

// Verdict flags.
const (
	// Record asks the caller to emit an event for this call: action log,
	// a would-deny in observe mode, every call in learn mode.
	Record Verdict = 1 << (16 + iota)
	// WouldDeny: the policy says something other than allow, but the mode
	// (observe, learn) turned it into allow.
	WouldDeny
	// NeedsPathCheck: a path rule concerns this syscall; the fs/ slow path
	// must resolve the call's paths and Table.DecidePath decide.
	NeedsPathCheck
	// NeedsNetCheck: a net rule concerns this syscall; the sentry reads
	// its socket address and Table.DecideNet decides.
	NeedsNetCheck
	// NeedsExecCheck: an exec allowlist concerns this syscall;
	// Table.DecideExec decides on the resolved executable.
	NeedsExecCheck
	// HasPredicates: the verdict for this syscall depends on its arguments.
	HasPredicates
	// Unknown: the syscall number is not in the x86-64 table.
	Unknown
)

const flagMask = Verdict(0xffff) << 16

func makeVerdict(act, intended Action, errno uint16, rule int) Verdict {
	return Verdict(act) | Verdict(intended)<<2 | Verdict(errno&0xfff)<<4 | Verdict(uint16(rule+1))<<32
}

// Action returns the action to take.
func (v Verdict) Action() Action { return Action(v & 3) }

// Intended returns the action the policy asked for, before observe or learn
// mode turned it into Allow.
func (v Verdict) Intended() Action { return Action(v >> 2 & 3) }

// Errno returns the errno number for Errno verdicts (of the intended action
// in observe and learn mode), 0 otherwise.
func (v Verdict) Errno() uint16 { return uint16(v >> 4 & 0xfff) }

// Has reports whether all the given flags are set.
func (v Verdict) Has(flags Verdict) bool { return v&flags == flags }

// Rule returns the index in Policy.Rules of the rule that decided, or -1 for
// the policy's default.
func (v Verdict) Rule() int { return int(uint16(v>>32)) - 1 }

func (v Verdict) String() string {
	var b strings.Builder
	b.WriteString(v.Action().String())
	if v.Action() == Errno {
		fmt.Fprintf(&b, "(%d)", v.Errno())
	}
	if v.Intended() != v.Action() {
		fmt.Fprintf(&b, " intended=%s", v.Intended())
		if v.Intended() == Errno {
			fmt.Fprintf(&b, "(%d)", v.Errno())
		}
	}
	for _, f := range []struct {
		f Verdict
		s string
	}{{Record, "record"}, {WouldDeny, "would-deny"}, {NeedsPathCheck, "path-check"}, {NeedsNetCheck, "net-check"},
		{NeedsExecCheck, "exec-check"}, {HasPredicates, "predicates"}, {Unknown, "unknown"}} {
		if v.Has(f.f) {
			b.WriteString(" " + f.s)
		}
	}
	if r := v.Rule(); r >= 0 {
		fmt.Fprintf(&b, " rule=%d", r)
	} else {
		b.WriteString(" default")
	}
	return b.String()
}
