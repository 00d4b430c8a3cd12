package syscalls

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/policy"
)

// Decision is one line of the decision record: a recorded call (action
// log, an observe-mode would-deny, every call in learn mode) as JSON. The
// record is JSON lines; other line types share the "type" field, so a
// reader dispatches on it. AppendDecision writes a Decision, ParseDecision
// reads one back, Profile.ObserveDecision learns from it.
type Decision struct {
	Type      string    `json:"type"` // "decision"
	Time      time.Time `json:"time"` // UTC, RFC 3339 with nanoseconds
	Container string    `json:"container"`
	PID       int32     `json:"pid"`
	TID       int32     `json:"tid"`
	Comm      string    `json:"comm"`
	Syscall   string    `json:"syscall"` // x86-64 name, "unknown" if none
	Sysno     uint32    `json:"sysno"`
	// Args are the arguments decoded for people (DecodeArgs): by name with
	// flag and constant names where the syscall has named arguments,
	// arg0..arg5 in hex otherwise. Raw holds the registers.
	Args map[string]string `json:"args,omitempty"`
	Raw  [6]uint64         `json:"raw"`
	// Path and Path2 are the resolved paths of a checked call (rename's
	// source and destination); Target is where a followed symlink Path
	// led. PathCut: a path was longer than the event holds and is cut.
	Path    string   `json:"path,omitempty"`
	Path2   string   `json:"path2,omitempty"`
	Target  string   `json:"target,omitempty"`
	PathCut bool     `json:"path_cut,omitempty"`
	Ops     []string `json:"ops,omitempty"` // path ops, policy.PathOps names
	// Net is the socket address a checked connect, bind or sendto named.
	Net *NetDecision `json:"net,omitempty"`
	// Errno is the error a check itself ended the call with (a path that
	// could not be resolved: "ENOENT"), empty if none.
	Errno string `json:"errno,omitempty"`
	// Rule is the deciding rule's name ("rule N" if unnamed, "default"),
	// RuleIndex its index in the policy (-1: the default), RuleLine its
	// line in Policy, the policy file.
	Rule      string `json:"rule"`
	RuleIndex int    `json:"rule_index"`
	RuleLine  int    `json:"rule_line,omitempty"`
	Policy    string `json:"policy,omitempty"`
	// Action is what was done: allow, errno(NAME), kill, kill-thread.
	// Intended is what the policy asked for, as written (log, errno(...),
	// ...), before observe or learn mode turned it into allow.
	Action    string `json:"action"`
	Intended  string `json:"intended"`
	Mode      string `json:"mode"`
	WouldDeny bool   `json:"would_deny"`
	// Repeats counts calls alike (same syscall, rule, command, paths and
	// address) folded into this record since the last record of them:
	// the line stands for Repeats+1 calls, the last of them at Time.
	Repeats int `json:"repeats,omitempty"`
}

// NetDecision is the socket address part of a Decision.
type NetDecision struct {
	Op       string `json:"op"`               // connect, bind or sendto (also sendmsg, sendmmsg)
	Protocol string `json:"protocol"`         // the socket type: tcp, udp, raw, seqpacket, ...
	Family   string `json:"family,omitempty"` // AF_INET, AF_UNIX, ...
	// Endpoint is the address in endpoint syntax (policy.Addr.Endpoint):
	// empty for an address without one (unnamed unix, other families,
	// a call that named none).
	Endpoint string `json:"endpoint"`
}

// DecisionType is the "type" of decision lines.
const DecisionType = "decision"

// NewDecision describes a recorded event, with rule names and lines from
// t (the table in force; if the event was decided by an older table the
// rule names may be off, the verdict's own fields are not). t may be nil.
func (t *Table) NewDecision(ev *event.Event, container string) Decision {
	v := Verdict(ev.Verdict)
	sysno := uintptr(ev.Sysno)
	d := Decision{
		Type: DecisionType, Time: time.Unix(0, ev.Time).UTC(), Container: container,
		PID: ev.PID, TID: ev.TID, Comm: ev.CommString(), Syscall: Name(sysno), Sysno: ev.Sysno,
		Raw: ev.Args, PathCut: ev.Flags&event.FlagPathCut != 0,
		RuleIndex: v.Rule(), WouldDeny: v.Has(WouldDeny), Repeats: int(ev.Repeats),
	}
	if d.Syscall == "" {
		d.Syscall = "unknown"
	}
	d.Args = DecodeArgs(sysno, &ev.Args)
	if ev.Ops != 0 {
		d.Ops = policy.OpSet(ev.Ops).Names()
	}
	if ev.Flags&event.FlagNet != 0 {
		a := EventAddr(ev)
		d.Net = &NetDecision{Op: netOpName(sysno), Protocol: sockTypeName(ev.Net.Protocol), Endpoint: a.Endpoint()}
		if a.Family != 0 {
			d.Net.Family, _ = policy.ConstName("AF_", uint64(a.Family))
		}
		d.Path = ev.PathString(0)
	} else {
		d.Path = ev.PathString(0)
		if ev.Flags&event.FlagTarget != 0 {
			d.Target = ev.PathString(1)
		} else {
			d.Path2 = ev.PathString(1)
		}
	}
	if ev.Errno != 0 {
		d.Errno = errnoString(ev.Errno)
	}
	d.Rule, d.RuleLine, d.Policy = t.RuleName(d.RuleIndex), t.RuleLine(d.RuleIndex), t.PolicyFile()
	if t != nil {
		d.Mode = t.policy.Mode.String()
	}
	ra, known := t.RuleAction(d.RuleIndex)
	if known && !sameAction(ra, v.Intended(), v.Errno()) {
		known = false // the rule is from another table
	}
	d.Action = actionString(v.Action(), v.Errno(), ra, known)
	if known {
		d.Intended = ra.String()
	} else {
		d.Intended = actionString(v.Intended(), v.Errno(), ra, false)
	}
	return d
}

// AppendDecision appends the decision record of ev (NewDecision) to dst as
// one JSON object and a newline.
func (t *Table) AppendDecision(dst []byte, ev *event.Event, container string) []byte {
	d := t.NewDecision(ev, container)
	b, err := json.Marshal(&d)
	if err != nil {
		// Only strings, numbers and a time: cannot fail.
		panic(fmt.Sprintf("syscalls: marshal decision: %v", err))
	}
	return append(append(dst, b...), '\n')
}

// ErrNotDecision is returned by ParseDecision for a JSON line of another
// type.
var ErrNotDecision = errors.New("not a decision record")

// ParseDecision reads one decision line (as AppendDecision writes it;
// unknown fields are ignored, so newer writers stay readable). A valid
// JSON line of another type gives an error matching ErrNotDecision.
func ParseDecision(line []byte) (Decision, error) {
	var d Decision
	if err := json.Unmarshal(line, &d); err != nil {
		return Decision{}, fmt.Errorf("decision record: %w", err)
	}
	if d.Type != DecisionType {
		return Decision{}, fmt.Errorf("%w (type %q)", ErrNotDecision, d.Type)
	}
	return d, nil
}

// sameAction reports whether policy action a is the verdict's intended
// action act (with errno).
func sameAction(a policy.Action, act Action, errno uint16) bool {
	switch a.Kind {
	case policy.ActAllow, policy.ActLog:
		return act == Allow
	case policy.ActErrno:
		return act == Errno && a.ErrnoNumber() == errno
	case policy.ActKill:
		return act == KillProcess
	case policy.ActKillThread:
		return act == KillThread
	}
	return false
}

// actionString writes a verdict action; an errno takes the rule's
// spelling of its name when the rule is known.
func actionString(act Action, errno uint16, rule policy.Action, known bool) string {
	if act != Errno {
		return act.String()
	}
	if known && rule.Kind == policy.ActErrno {
		return rule.String()
	}
	return "errno(" + errnoString(errno) + ")"
}

func errnoString(n uint16) string {
	if s, ok := policy.ErrnoName(n); ok {
		return s
	}
	return strconv.Itoa(int(n))
}

// netOpName returns the net rule op of a syscall ("" if none).
func netOpName(sysno uintptr) string {
	if sysno > MaxSyscall {
		return ""
	}
	switch netOpOf[sysno] {
	case netConnect:
		return "connect"
	case netBind:
		return "bind"
	case netSendto:
		return "sendto"
	}
	return ""
}

// sockTypeName names a socket type as records and profiles do: tcp for
// SOCK_STREAM and udp for SOCK_DGRAM (whatever the family, as net rules
// use them), the SOCK_ name in lower case for others.
func sockTypeName(typ uint8) string {
	switch typ & sockMask {
	case 0:
		return ""
	case sockStream:
		return "tcp"
	case sockDgram:
		return "udp"
	case 3:
		return "raw"
	case 4:
		return "rdm"
	case 5:
		return "seqpacket"
	case 6:
		return "dccp"
	case 10:
		return "packet"
	}
	return "type(" + strconv.Itoa(int(typ&sockMask)) + ")"
}

// Address families, as in policy.Addr.
const (
	afUnix  = 1
	afInet  = 2
	afInet6 = 10
)

// SetEventNet stores what a net check saw in ev: the socket type and the
// address (FlagNet). AF_INET addresses go in the first 4 bytes of Net.IP,
// AF_INET6 ones as 16 bytes (an unmapped IPv4 one as ::ffff:a.b.c.d); an
// AF_UNIX path, or "@" and an abstract name, goes in Path[1]. Call it for
// a checked call without an address too (Family 0), so that the record
// shows the check.
func SetEventNet(ev *event.Event, sockType uint8, a policy.Addr) {
	ev.Flags |= event.FlagNet
	ev.Net = event.NetAddr{Family: a.Family, Port: a.Port, Protocol: sockType}
	switch a.Family {
	case afInet:
		if a.IP.IsValid() {
			ip := a.IP.Unmap().As4()
			copy(ev.Net.IP[:], ip[:])
		}
	case afInet6:
		if a.IP.IsValid() {
			ev.Net.IP = a.IP.As16()
		}
	case afUnix:
		switch {
		case a.Abstract:
			ev.SetPath(1, "@"+a.Unix)
		case a.Unix != "":
			ev.SetPath(1, a.Unix)
		}
	}
}

// EventAddr returns the socket address stored in ev (SetEventNet), or the
// zero Addr if ev holds none. IPv4-mapped AF_INET6 addresses come back
// unmapped. An AF_INET6 address whose last 12 bytes are zero is read as
// IPv4 in the first 4 bytes, the way the event format also allows
// (event.NetAddr); real IPv6 addresses of that shape (2001:db8::) read
// wrong.
func EventAddr(ev *event.Event) policy.Addr {
	if ev.Flags&event.FlagNet == 0 {
		return policy.Addr{}
	}
	a := policy.Addr{Family: ev.Net.Family}
	switch a.Family {
	case afInet:
		a.Port, a.IP = ev.Net.Port, netip.AddrFrom4([4]byte(ev.Net.IP[:4]))
	case afInet6:
		a.Port = ev.Net.Port
		ip := netip.AddrFrom16(ev.Net.IP)
		if ip.Is4In6() {
			a.IP = ip.Unmap()
		} else if [12]byte(ev.Net.IP[4:]) == [12]byte{} && [4]byte(ev.Net.IP[:4]) != [4]byte{} {
			a.IP = netip.AddrFrom4([4]byte(ev.Net.IP[:4]))
		} else {
			a.IP = ip
		}
	case afUnix:
		if s := ev.PathString(1); strings.HasPrefix(s, "@") {
			a.Abstract, a.Unix = true, s[1:]
		} else {
			a.Unix = s
		}
	}
	return a
}

// SetEventPaths stores what a path check saw in ev: the ops, and up to two
// paths. A one-path call through a symlink stores the path and where it
// led (FlagTarget); a two-path call (rename, link) stores both paths and
// not their targets.
func SetEventPaths(ev *event.Event, ops policy.OpSet, targets []FileTarget) {
	ev.Ops = uint16(ops)
	for i := range min(len(targets), 2) {
		ev.SetPath(i, targets[i].Path)
	}
	if len(targets) == 1 && targets[0].Target != "" {
		ev.SetPath(1, targets[0].Target)
		ev.Flags |= event.FlagTarget
	}
}

// argFormat is how DecodeArgs writes one argument.
type argFormat uint8

const (
	fmtHex   argFormat = iota
	fmtDec             // signed 32-bit decimal
	fmtUdec            // unsigned 32-bit decimal (uid, gid)
	fmtOct             // a file mode
	fmtFD              // a descriptor: decimal, AT_FDCWD by name
	fmtValue           // one value: the first of names, or ConstName(prefix)
	fmtFlags           // bits: names (multi-bit first), then ConstName(prefix) per bit
	fmtClone           // clone flags: CLONE_ bits and the exit signal in the low byte
	fmtOpen            // open flags: access mode, then O_ bits
	fmtSock            // socket type: SOCK_ type and flags
)

// argDecoder says how to write a named argument.
type argDecoder struct {
	f      argFormat
	prefix string
	names  []string
	bits   uint64 // fmtFlags: bits decoded by prefix (0: all)
	zero   string // the name of 0, if it has one
}

var (
	openFlagNames  = []string{"O_TMPFILE", "O_SYNC", "O_CREAT", "O_EXCL", "O_NOCTTY", "O_TRUNC", "O_APPEND", "O_NONBLOCK", "O_DSYNC", "O_ASYNC", "O_DIRECT", "O_DIRECTORY", "O_NOFOLLOW", "O_NOATIME", "O_CLOEXEC", "O_PATH"}
	sockTypeNames  = []string{"SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET", "SOCK_DCCP", "SOCK_PACKET"}
	sockFlagNames  = []string{"SOCK_NONBLOCK", "SOCK_CLOEXEC"}
	mountFlagNames = []string{"MS_MGC_VAL", "MS_RDONLY", "MS_NOSUID", "MS_NODEV", "MS_NOEXEC", "MS_SYNCHRONOUS", "MS_REMOUNT", "MS_MANDLOCK", "MS_DIRSYNC",
		"MS_NOSYMFOLLOW", "MS_NOATIME", "MS_NODIRATIME", "MS_BIND", "MS_MOVE", "MS_REC", "MS_SILENT", "MS_POSIXACL", "MS_UNBINDABLE", "MS_PRIVATE",
		"MS_SLAVE", "MS_SHARED", "MS_RELATIME", "MS_KERNMOUNT", "MS_I_VERSION", "MS_STRICTATIME", "MS_LAZYTIME"}
	fcntlCmdNames = []string{"F_DUPFD", "F_GETFD", "F_SETFD", "F_GETFL", "F_SETFL", "F_GETLK", "F_SETLK", "F_SETLKW", "F_SETOWN", "F_GETOWN",
		"F_SETSIG", "F_GETSIG", "F_SETOWN_EX", "F_GETOWN_EX", "F_OFD_GETLK", "F_OFD_SETLK", "F_OFD_SETLKW", "F_SETLEASE", "F_GETLEASE",
		"F_NOTIFY", "F_DUPFD_CLOEXEC", "F_SETPIPE_SZ", "F_GETPIPE_SZ", "F_ADD_SEALS", "F_GET_SEALS"}
	sockLevelNames = []string{"SOL_SOCKET", "IPPROTO_IP", "IPPROTO_IPV6", "IPPROTO_TCP", "IPPROTO_UDP"}
	schedNames     = []string{"SCHED_NORMAL", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH", "SCHED_IDLE", "SCHED_DEADLINE", "SCHED_RESET_ON_FORK"}
)

// argDecoders maps "syscall.arg" (argSpecs names) to a decoder; arguments
// not listed are written in hex. Prefixes are used only where every value
// has one obvious name (ConstName picks the alphabetically first of
// aliases); elsewhere the names are listed.
var argDecoders = func() map[string]argDecoder {
	m := map[string]argDecoder{
		"clone.flags":               {f: fmtClone},
		"unshare.flags":             {f: fmtFlags, prefix: "CLONE_"},
		"setns.nstype":              {f: fmtFlags, prefix: "CLONE_"},
		"socket.family":             {f: fmtValue, prefix: "AF_"},
		"socketpair.family":         {f: fmtValue, prefix: "AF_"},
		"socket.type":               {f: fmtSock},
		"socketpair.type":           {f: fmtSock},
		"socket.protocol":           {f: fmtDec},
		"socketpair.protocol":       {f: fmtDec},
		"fcntl.cmd":                 {f: fmtValue, names: fcntlCmdNames},
		"mmap.prot":                 {f: fmtFlags, prefix: "PROT_", zero: "PROT_NONE"},
		"mprotect.prot":             {f: fmtFlags, prefix: "PROT_", zero: "PROT_NONE"},
		"pkey_mprotect.prot":        {f: fmtFlags, prefix: "PROT_", zero: "PROT_NONE"},
		"mmap.flags":                {f: fmtFlags, prefix: "MAP_", names: []string{"MAP_SHARED_VALIDATE"}, bits: 1<<26 - 1},
		"madvise.advice":            {f: fmtValue, prefix: "MADV_"},
		"mremap.flags":              {f: fmtFlags, prefix: "MREMAP_"},
		"memfd_create.flags":        {f: fmtFlags, prefix: "MFD_", bits: 1<<26 - 1},
		"open.flags":                {f: fmtOpen},
		"openat.flags":              {f: fmtOpen},
		"kill.pid":                  {f: fmtDec},
		"tkill.tid":                 {f: fmtDec},
		"tgkill.tgid":               {f: fmtDec},
		"tgkill.tid":                {f: fmtDec},
		"setsockopt.level":          {f: fmtValue, names: sockLevelNames},
		"getsockopt.level":          {f: fmtValue, names: sockLevelNames},
		"accept4.flags":             {f: fmtFlags, names: sockFlagNames},
		"ptrace.pid":                {f: fmtDec},
		"setuid.uid":                {f: fmtUdec},
		"setgid.gid":                {f: fmtUdec},
		"umount2.flags":             {f: fmtFlags, prefix: "MNT_"},
		"mount.flags":               {f: fmtFlags, names: mountFlagNames},
		"dup3.flags":                {f: fmtFlags, names: []string{"O_CLOEXEC"}},
		"pipe2.flags":               {f: fmtFlags, names: []string{"O_CLOEXEC", "O_NONBLOCK", "O_DIRECT"}},
		"eventfd2.flags":            {f: fmtFlags, prefix: "EFD_"},
		"sched_setscheduler.policy": {f: fmtFlags, names: schedNames, zero: "SCHED_NORMAL"},
		"clock_settime.clockid":     {f: fmtDec},
	}
	for _, s := range []string{"rt_sigaction", "kill", "tkill", "tgkill"} {
		m[s+".sig"] = argDecoder{f: fmtValue, prefix: "SIG"}
	}
	for sys, specs := range argSpecs {
		for _, a := range specs {
			switch a.Name {
			case "fd", "dirfd":
				m[sys+"."+a.Name] = argDecoder{f: fmtFD}
			case "mode":
				m[sys+"."+a.Name] = argDecoder{f: fmtOct}
			}
		}
	}
	return m
}()

// constNames caches ConstName answers (a scan of the constant table each):
// prefix -> value -> name ("" for none).
var constNames struct {
	mu sync.Mutex
	// +checklocks:mu
	m map[string]map[uint64]string
}

func constName(prefix string, v uint64) (string, bool) {
	if n, ok := cachedConstName(prefix, v); ok {
		return n, n != ""
	}
	n, _ := policy.ConstName(prefix, v)
	if alias, ok := preferredConst[n]; ok {
		n = alias
	}
	constNames.mu.Lock()
	defer constNames.mu.Unlock()
	if constNames.m == nil {
		constNames.m = map[string]map[uint64]string{}
	}
	if constNames.m[prefix] == nil {
		constNames.m[prefix] = map[uint64]string{}
	}
	constNames.m[prefix][v] = n
	return n, n != ""
}

// cachedConstName looks a name up in the cache.
func cachedConstName(prefix string, v uint64) (string, bool) {
	constNames.mu.Lock()
	defer constNames.mu.Unlock()
	n, ok := constNames.m[prefix][v]
	return n, ok
}

// preferredConst replaces aliases that sort first but read worse.
var preferredConst = map[string]string{"MAP_ANON": "MAP_ANONYMOUS", "O_NDELAY": "O_NONBLOCK"}

func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// DecodeArgs writes a call's arguments for people: for a syscall with
// named arguments (Args), each by name, with flag and constant names
// (clone flags as CLONE_VM|CLONE_THREAD|SIGCHLD, socket families as
// AF_INET, open flags, signals, ...), descriptors and ids in decimal,
// modes in octal, the rest in hex; for others arg0..arg5 in hex.
func DecodeArgs(sysno uintptr, args *[6]uint64) map[string]string {
	name := Name(sysno)
	specs := argSpecs[name]
	out := make(map[string]string, max(len(specs), 1))
	if len(specs) == 0 {
		for i, v := range args {
			out["arg"+strconv.Itoa(i)] = hex(v)
		}
		return out
	}
	for _, s := range specs {
		dec := argDecoders[name+"."+s.Name]
		v := args[s.Index%6]
		if dec.f != fmtSock {
			v &= s.Mask
		} else {
			v &= m32
		}
		out[s.Name] = dec.format(v)
	}
	return out
}

func (d argDecoder) format(v uint64) string {
	switch d.f {
	case fmtDec:
		return strconv.FormatInt(int64(int32(v)), 10)
	case fmtUdec:
		return strconv.FormatUint(v&m32, 10)
	case fmtOct:
		if v == 0 {
			return "0"
		}
		return "0" + strconv.FormatUint(v, 8)
	case fmtFD:
		if fd := int32(v); fd != -100 {
			return strconv.Itoa(int(fd))
		}
		return "AT_FDCWD"
	case fmtValue:
		for _, n := range d.names {
			if x, ok := policy.ConstValue(n); ok && x == v {
				return n
			}
		}
		if d.prefix != "" {
			if n, ok := constName(d.prefix, v); ok {
				return n
			}
		}
		return hex(v)
	case fmtFlags:
		return d.flags(v)
	case fmtClone:
		var parts []string
		if sig := v & 0xff; sig != 0 {
			if n, ok := constName("SIG", sig); ok {
				parts = append(parts, n)
			} else {
				parts = append(parts, hex(sig))
			}
		}
		if rest := v &^ 0xff; rest != 0 || len(parts) == 0 {
			f := argDecoder{f: fmtFlags, prefix: "CLONE_"}.flags(rest)
			parts = append([]string{f}, parts...)
		}
		return strings.Join(parts, "|")
	case fmtOpen:
		acc := [...]string{"O_RDONLY", "O_WRONLY", "O_RDWR", "0x3"}[v&3]
		if rest := v &^ 3; rest != 0 {
			return acc + "|" + argDecoder{f: fmtFlags, names: openFlagNames}.flags(rest)
		}
		return acc
	case fmtSock:
		t := argDecoder{f: fmtValue, names: sockTypeNames}.format(v & sockMask)
		if rest := v &^ sockMask; rest != 0 {
			return t + "|" + argDecoder{f: fmtFlags, names: sockFlagNames}.flags(rest)
		}
		return t
	}
	return hex(v)
}

// flags writes bits: first the listed names whose bits are all set (in
// list order), then the remaining bits within d.bits one by one by prefix,
// then whatever is left in hex.
func (d argDecoder) flags(v uint64) string {
	if v == 0 {
		if d.zero != "" {
			return d.zero
		}
		return "0"
	}
	var parts []string
	for _, n := range d.names {
		if x, ok := policy.ConstValue(n); ok && x != 0 && v&x == x {
			parts = append(parts, n)
			v &^= x
		}
	}
	if d.prefix != "" {
		mask := d.bits
		if mask == 0 {
			mask = ^uint64(0)
		}
		for bit := uint64(1); bit != 0 && v&mask != 0; bit <<= 1 {
			if v&mask&bit == 0 {
				continue
			}
			if n, ok := constName(d.prefix, bit); ok {
				parts = append(parts, n)
				v &^= bit
			}
		}
	}
	if v != 0 {
		parts = append(parts, hex(v))
	}
	return strings.Join(parts, "|")
}
