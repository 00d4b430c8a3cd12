package policy

import (
	"fmt"
	"reflect"
	"strings"
)

// Version is the only policy format version this package reads and writes.
const Version = 1

// Mode says what a verdict other than allow does.
type Mode uint8

const (
	// ModeEnforce applies every verdict.
	ModeEnforce Mode = iota
	// ModeObserve allows everything but records what would have been denied.
	ModeObserve
	// ModeLearn allows and records every system call, to build a profile.
	ModeLearn
)

var modeNames = [...]string{ModeEnforce: "enforce", ModeObserve: "observe", ModeLearn: "learn"}

func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// ParseMode parses "learn", "observe" or "enforce".
func ParseMode(s string) (Mode, bool) {
	for i, n := range modeNames {
		if n == s {
			return Mode(i), true
		}
	}
	return 0, false
}

// ActionKind is what a rule does to a matching system call.
type ActionKind uint8

const (
	// ActAllow lets the call run.
	ActAllow ActionKind = iota
	// ActErrno fails the call with Action.Errno, without running it.
	ActErrno
	// ActKill kills the whole thread group with SIGSYS, like seccomp's
	// SECCOMP_RET_KILL_PROCESS.
	ActKill
	// ActKillThread kills only the calling thread (SECCOMP_RET_KILL_THREAD).
	ActKillThread
	// ActLog lets the call run and records it.
	ActLog
)

var actionNames = [...]string{ActAllow: "allow", ActErrno: "errno", ActKill: "kill", ActKillThread: "kill-thread", ActLog: "log"}

func (k ActionKind) String() string {
	if int(k) < len(actionNames) {
		return actionNames[k]
	}
	return fmt.Sprintf("action(%d)", uint8(k))
}

// Action is a rule's or the default's action. Errno is the errno name (e.g.
// "EPERM") when Kind is ActErrno, and empty otherwise.
type Action struct {
	Kind  ActionKind
	Errno string
}

// Allow, Log, Kill and KillThread are the actions without parameters.
var (
	Allow      = Action{Kind: ActAllow}
	Log        = Action{Kind: ActLog}
	Kill       = Action{Kind: ActKill}
	KillThread = Action{Kind: ActKillThread}
)

// Errno returns the action errno(name).
func Errno(name string) Action { return Action{Kind: ActErrno, Errno: name} }

// String returns the action as written in a policy: "allow",
// "errno(EPERM)", "kill", "kill-thread" or "log".
func (a Action) String() string {
	if a.Kind == ActErrno {
		return "errno(" + a.Errno + ")"
	}
	return a.Kind.String()
}

// ErrnoNumber returns the errno number of an ActErrno action.
func (a Action) ErrnoNumber() uint16 {
	n, _ := ErrnoNumber(a.Errno)
	return n
}

// ParseAction parses an action as written in a policy.
func ParseAction(s string) (Action, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "errno"); ok {
		rest = strings.TrimSpace(rest)
		if rest == "" {
			return Action{}, fmt.Errorf("errno needs an errno name, as in errno(EPERM)")
		}
		if !strings.HasPrefix(rest, "(") || !strings.HasSuffix(rest, ")") {
			return Action{}, fmt.Errorf("bad errno action %q: write errno(NAME), as in errno(EPERM)", s)
		}
		name := strings.TrimSpace(rest[1 : len(rest)-1])
		if name == "" {
			return Action{}, fmt.Errorf("errno needs an errno name, as in errno(EPERM)")
		}
		if _, ok := ErrnoNumber(name); !ok {
			return Action{}, fmt.Errorf("unknown errno name %q", name)
		}
		return Errno(name), nil
	}
	for i, n := range actionNames {
		if n == s && ActionKind(i) != ActErrno {
			return Action{Kind: ActionKind(i)}, nil
		}
	}
	return Action{}, fmt.Errorf("unknown action %q (want allow, errno(NAME), kill, kill-thread or log)", s)
}

// Classes are the syscall class names a rule may use in "class:". Package
// syscalls defines which syscall belongs to which class.
var Classes = []string{"file", "fd", "net", "process", "memory", "ipc", "signal", "time", "privileged", "system", "other"}

// PathOps are the operations a path rule may name in "ops:".
var PathOps = []string{"read", "write", "create", "delete", "exec", "chmod", "chown", "link", "rename", "mount", "any"}

// NetOps are the operations a net rule may name in "op:".
var NetOps = []string{"connect", "bind", "sendto"}

// NetProtocols are the protocols a net rule may name in "protocol:".
var NetProtocols = []string{"tcp", "udp", "any"}

// ArgOp is an argument test.
type ArgOp uint8

const (
	// AnyOf: the argument has at least one of the bits.
	AnyOf ArgOp = iota
	// AllOf: the argument has all of the bits.
	AllOf
	// NoneOf: the argument has none of the bits.
	NoneOf
	// In: the argument equals one of the values.
	In
	// NotIn: the argument equals none of the values.
	NotIn
)

var argOpNames = [...]string{AnyOf: "any_of", AllOf: "all_of", NoneOf: "none_of", In: "in", NotIn: "not_in"}

func (o ArgOp) String() string {
	if int(o) < len(argOpNames) {
		return argOpNames[o]
	}
	return fmt.Sprintf("argop(%d)", uint8(o))
}

// IsMask reports whether the test is a bit-mask test (any_of, all_of,
// none_of), as opposed to a value-set test (in, not_in).
func (o ArgOp) IsMask() bool { return o <= NoneOf }

// ArgTest is one test on an argument, e.g. any_of: [CLONE_NEWUSER].
// Values keeps the tokens as written (names, "A|B", numbers) so that a
// policy marshals back the way it was read; Resolve gives the numbers.
type ArgTest struct {
	Op     ArgOp
	Values []string
	Line   int // position only; ignored by Equal
}

// Resolve returns the tokens' values. Parse has checked that they resolve.
func (t ArgTest) Resolve() []uint64 {
	out := make([]uint64, 0, len(t.Values))
	for _, tok := range t.Values {
		v, _ := ParseValue(tok)
		out = append(out, v)
	}
	return out
}

// ArgPred is the predicate on one named argument: all its tests must hold.
type ArgPred struct {
	Arg   string
	Tests []ArgTest
	Line  int // position only; ignored by Equal
}

// NetRule matches connect, bind or sendto (sendto, sendmsg, sendmmsg) to one
// of the endpoints in To. Endpoint forms: "CIDR-or-IP:PORTS" where PORTS is
// "*", "N" or "N-M"; "[IPv6-or-prefix]:PORTS"; "*:PORTS" (any address);
// "unix:/path" (a glob); "*" (any endpoint).
type NetRule struct {
	Op       string
	To       []string
	Protocol string
	Line     int // position only; ignored by Equal
}

// Rule is one policy rule. A rule matches by exactly one of: system calls
// (Syscalls and/or Class, optionally narrowed by Args), Paths (with Ops),
// Exec, or Net.
type Rule struct {
	Name     string // optional, for people and for "swarm explain"
	Action   Action
	Syscalls []string
	Class    string
	Args     []ArgPred
	Paths    []string
	Ops      []string
	Exec     []string
	Net      []NetRule
	Pos      RulePos // positions only; ignored by Equal
}

// RulePos holds source lines of a rule's parts, for error messages.
type RulePos struct {
	Line     int   // the rule itself
	Action   int   // its action
	Class    int   // its class
	Syscalls []int // each entry of Syscalls
}

// Kind is which part of a rule does the matching.
type Kind uint8

const (
	KindSyscall Kind = iota // syscalls/class (+args)
	KindPath                // paths (+ops)
	KindExec                // exec allowlist
	KindNet                 // net endpoints
)

// Kind returns how the rule matches.
func (r *Rule) Kind() Kind {
	switch {
	case len(r.Paths) > 0:
		return KindPath
	case len(r.Exec) > 0:
		return KindExec
	case len(r.Net) > 0:
		return KindNet
	}
	return KindSyscall
}

// Policy is a parsed, validated policy file.
type Policy struct {
	File    string // where it was read from; ignored by Equal
	Version int
	Mode    Mode
	Default Action
	Rules   []Rule
	// Swarm configures the container's swarm agents; the zero value
	// leaves every agent at its defaults.
	Swarm Swarm
	// Network is the packet-level policy (egress rules) and the network
	// agent's settings; Memory the memory agent's (budget, W^X); CPU the
	// scheduler agent's (weight, quota, runaway thresholds). Their zero
	// values keep the defaults.
	Network Network
	Memory  Memory
	CPU     CPU
	// Heal says which of the container's processes are restarted in the
	// sandbox and how, and its checkpoints; the zero value restarts
	// nothing.
	Heal  Heal
	Lines PolicyPos // positions only; ignored by Equal
}

// PolicyPos holds source lines of top-level keys.
type PolicyPos struct {
	Mode, Default, Swarm, Network, Memory, CPU, Heal int
}

// Equal reports whether p and q say the same thing: equal up to source
// positions and file name.
func (p *Policy) Equal(q *Policy) bool {
	return reflect.DeepEqual(p.stripped(), q.stripped())
}

// stripped returns a deep copy of p without positions; nil and empty slices
// are made equal.
func (p *Policy) stripped() *Policy {
	c := &Policy{Version: p.Version, Mode: p.Mode, Default: p.Default, Swarm: p.Swarm.clone(),
		Network: p.Network.clone(), Memory: p.Memory.clone(), CPU: p.CPU.clone(), Heal: p.Heal.clone()}
	for _, r := range p.Rules {
		s := Rule{Name: r.Name, Action: r.Action, Class: r.Class,
			Syscalls: nonNil(r.Syscalls), Paths: nonNil(r.Paths), Ops: nonNil(r.Ops), Exec: nonNil(r.Exec)}
		s.Args = []ArgPred{}
		for _, a := range r.Args {
			sa := ArgPred{Arg: a.Arg, Tests: []ArgTest{}}
			for _, t := range a.Tests {
				sa.Tests = append(sa.Tests, ArgTest{Op: t.Op, Values: nonNil(t.Values)})
			}
			s.Args = append(s.Args, sa)
		}
		s.Net = []NetRule{}
		for _, n := range r.Net {
			s.Net = append(s.Net, NetRule{Op: n.Op, To: nonNil(n.To), Protocol: n.Protocol})
		}
		c.Rules = append(c.Rules, s)
	}
	if c.Rules == nil {
		c.Rules = []Rule{}
	}
	return c
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
