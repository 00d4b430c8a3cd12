package syscalls

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/policy"
	"golang.org/x/sys/unix"
)

const recordPolicy = `version: 1
mode: enforce
default: allow
rules:
  - name: watch mkdir
    action: log
    syscalls: [mkdir, mkdirat]
  - name: shadow
    action: errno(EACCES)
    paths: [/etc/shadow]
    ops: [read]
  - action: errno(ECONNREFUSED)
    net:
      - {op: connect, to: ["*:7001"], protocol: tcp}
  - name: watch reads
    action: log
    syscalls: [openat]
`

var when = time.Date(2025, 3, 4, 5, 6, 7, 891011121, time.UTC)

// newEvent is a syscall event as the gate records it.
func newEvent(t testing.TB, tab *Table, sys string, args [6]uint64, v Verdict) *event.Event {
	ev := &event.Event{Kind: event.KindSyscall, Time: when.UnixNano(), PID: 42, TID: 43, Sysno: uint32(num(t, sys)), Args: args, Verdict: uint64(v)}
	ev.SetComm("server")
	return ev
}

// roundTrip writes ev's record and reads it back, checking the line.
func roundTrip(t *testing.T, tab *Table, ev *event.Event) Decision {
	t.Helper()
	line := tab.AppendDecision([]byte("prefix\n"), ev, "ctr1")
	line, ok := bytes.CutPrefix(line, []byte("prefix\n"))
	if !ok || !bytes.HasSuffix(line, []byte("\n")) || bytes.Count(line, []byte("\n")) != 1 || !json.Valid(line) {
		t.Fatalf("not one JSON line: %q", line)
	}
	d, err := ParseDecision(line)
	if err != nil {
		t.Fatalf("ParseDecision(%s): %v", line, err)
	}
	if want := tab.NewDecision(ev, "ctr1"); !d.Time.Equal(want.Time) || !reflect.DeepEqual(d.withoutTime(), want.withoutTime()) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", d, want)
	}
	return d
}

func (d Decision) withoutTime() Decision {
	d.Time = time.Time{}
	if d.Net != nil {
		n := *d.Net
		d.Net = &n
	}
	return d
}

func TestDecisionPlain(t *testing.T) {
	tab := mustCompile(t, recordPolicy)
	args := [6]uint64{atFDCWD, 0x7ffd1000, 0o755}
	v := tab.Decide(num(t, "mkdirat"), &args)
	d := roundTrip(t, tab, newEvent(t, tab, "mkdirat", args, v))
	want := Decision{Type: "decision", Container: "ctr1", PID: 42, TID: 43, Comm: "server", Syscall: "mkdirat", Sysno: uint32(unix.SYS_MKDIRAT),
		Args: map[string]string{"arg0": "0xffffff9c", "arg1": "0x7ffd1000", "arg2": "0x1ed", "arg3": "0x0", "arg4": "0x0", "arg5": "0x0"}, Raw: args,
		Rule: "watch mkdir", RuleIndex: 0, RuleLine: 5, Policy: "test.yaml", Action: "allow", Intended: "log", Mode: "enforce"}
	if !d.Time.Equal(when) || d.Time.Location() != time.UTC || !reflect.DeepEqual(d.withoutTime(), want) {
		t.Errorf("decision\n got %+v\nwant %+v", d, want)
	}
	// The JSON: snake_case, RFC 3339 UTC time with nanoseconds.
	line := string(tab.AppendDecision(nil, newEvent(t, tab, "mkdirat", args, v), "ctr1"))
	for _, s := range []string{`"type":"decision"`, `"time":"2025-03-04T05:06:07.891011121Z"`, `"rule_index":0`, `"rule_line":5`,
		`"would_deny":false`, `"raw":[`, `"sysno":258`, `"intended":"log"`} {
		if !strings.Contains(line, s) {
			t.Errorf("record %s lacks %s", line, s)
		}
	}
	for _, s := range []string{`"path"`, `"net"`, `"errno"`, `"ops"`, `"target"`} {
		if strings.Contains(line, s) {
			t.Errorf("record %s has empty field %s", line, s)
		}
	}
}

func TestDecisionPath(t *testing.T) {
	tab := mustCompile(t, recordPolicy)
	obs := mustCompile(t, strings.Replace(recordPolicy, "mode: enforce", "mode: observe", 1))
	args := [6]uint64{atFDCWD, 0x1000, unix.O_RDONLY | unix.O_CLOEXEC}
	targets := []FileTarget{ftl("/tmp/link", "/etc/shadow")}
	for _, tc := range []struct {
		tab                            *Table
		action, intended, mode, errnum string
		wouldDeny                      bool
	}{
		{tab, "errno(EACCES)", "errno(EACCES)", "enforce", "", false},
		{obs, "allow", "errno(EACCES)", "observe", "", true},
	} {
		v := tc.tab.Decide(num(t, "openat"), &args)
		v = tc.tab.DecidePath(v, rd, targets)
		ev := newEvent(t, tc.tab, "openat", args, v)
		SetEventPaths(ev, rd, targets)
		d := roundTrip(t, tc.tab, ev)
		if d.Path != "/tmp/link" || d.Target != "/etc/shadow" || d.Path2 != "" || !reflect.DeepEqual(d.Ops, []string{"read"}) ||
			d.Rule != "shadow" || d.RuleIndex != 1 || d.Action != tc.action || d.Intended != tc.intended || d.Mode != tc.mode ||
			d.WouldDeny != tc.wouldDeny || d.Net != nil {
			t.Errorf("%s: %+v", tc.mode, d)
		}
		if d.Args["flags"] != "O_RDONLY|O_CLOEXEC" || d.Args["dirfd"] != "AT_FDCWD" || d.Args["mode"] != "0" {
			t.Errorf("args %v", d.Args)
		}
	}
	// Two paths, a cut one, and a check's own error.
	ev := newEvent(t, tab, "renameat2", [6]uint64{}, makeVerdict(Allow, Allow, 0, -1))
	SetEventPaths(ev, ren|cr|del, []FileTarget{ft("/var/a"), ft("/var/" + strings.Repeat("b", 300))})
	ev.Errno = uint16(unix.ENOENT)
	d := roundTrip(t, tab, ev)
	if d.Path != "/var/a" || len(d.Path2) != event.PathRoom || !d.PathCut || d.Target != "" || d.Errno != "ENOENT" ||
		!reflect.DeepEqual(d.Ops, []string{"create", "delete", "rename"}) || d.Rule != "default" || d.RuleIndex != -1 || d.RuleLine != 3 {
		t.Errorf("rename: %+v", d)
	}
}

func TestDecisionNet(t *testing.T) {
	tab := mustCompile(t, recordPolicy)
	for _, tc := range []struct {
		sys      string
		typ      uint8
		addr     policy.Addr
		net      NetDecision
		action   string
		rule     string
		ruleLine int
	}{
		{"connect", unix.SOCK_STREAM, v4("10.0.0.1", 7001), NetDecision{"connect", "tcp", "AF_INET", "10.0.0.1:7001"}, "errno(ECONNREFUSED)", "rule 2", 12},
		{"connect", unix.SOCK_STREAM, v6("::ffff:10.0.0.1", 7001), NetDecision{"connect", "tcp", "AF_INET6", "10.0.0.1:7001"}, "errno(ECONNREFUSED)", "rule 2", 12},
		{"connect", unix.SOCK_STREAM, v6("fd00::1", 7000), NetDecision{"connect", "tcp", "AF_INET6", "[fd00::1]:7000"}, "allow", "default", 3},
		{"sendmsg", unix.SOCK_DGRAM, v4("8.8.8.8", 53), NetDecision{"sendto", "udp", "AF_INET", "8.8.8.8:53"}, "allow", "default", 3},
		{"bind", unix.SOCK_SEQPACKET, unixPath("/run/x.sock"), NetDecision{"bind", "seqpacket", "AF_UNIX", "unix:/run/x.sock"}, "allow", "default", 3},
		{"connect", unix.SOCK_STREAM, policy.Addr{Family: unix.AF_UNIX, Unix: "name", Abstract: true}, NetDecision{"connect", "tcp", "AF_UNIX", "unix:@name"}, "allow", "default", 3},
		{"bind", unix.SOCK_DGRAM, policy.Addr{Family: unix.AF_UNIX}, NetDecision{"bind", "udp", "AF_UNIX", ""}, "allow", "default", 3},
		{"bind", unix.SOCK_RAW, policy.Addr{Family: unix.AF_NETLINK}, NetDecision{"bind", "raw", "AF_NETLINK", ""}, "allow", "default", 3},
		{"sendto", unix.SOCK_DGRAM, policy.Addr{}, NetDecision{"sendto", "udp", "", ""}, "allow", "default", 3},
	} {
		args := [6]uint64{3, 0x1000, 16}
		n := num(t, tc.sys)
		v := tab.DecideNet(tab.Decide(n, &args), n, tc.typ, tc.addr)
		ev := newEvent(t, tab, tc.sys, args, v)
		SetEventNet(ev, tc.typ, tc.addr)
		if got := EventAddr(ev); got != tc.addr {
			t.Errorf("EventAddr = %+v; want %+v", got, tc.addr)
		}
		d := roundTrip(t, tab, ev)
		if d.Net == nil || *d.Net != tc.net || d.Action != tc.action || d.Rule != tc.rule || d.RuleLine != tc.ruleLine || d.Path != "" || d.Path2 != "" {
			t.Errorf("%s %+v: %+v net %+v", tc.sys, tc.addr, d, d.Net)
		}
		if d.Args["arg0"] != "0x3" || d.Args["arg2"] != "0x10" || len(d.Args) != 6 {
			t.Errorf("args %v", d.Args)
		}
	}
	// IPv4 in the first 4 bytes with family AF_INET6, as event.NetAddr
	// also allows.
	ev := &event.Event{Flags: event.FlagNet, Net: event.NetAddr{Family: unix.AF_INET6, Port: 80, IP: [16]byte{10, 1, 2, 3}}}
	if got := EventAddr(ev); got != v6("::ffff:10.1.2.3", 80) {
		t.Errorf("EventAddr(IPv4 in AF_INET6) = %+v", got)
	}
	ev.Net.IP = [16]byte{}
	if got := EventAddr(ev); got != v6("::", 80) {
		t.Errorf("EventAddr(::) = %+v", got)
	}
	if got := EventAddr(&event.Event{}); got != (policy.Addr{}) {
		t.Errorf("EventAddr without FlagNet = %+v", got)
	}
}

func TestDecisionOddities(t *testing.T) {
	tab := mustCompile(t, recordPolicy)
	// An unknown syscall number, no table, a verdict from another table.
	ev := &event.Event{Sysno: 400, Verdict: uint64(makeVerdict(Errno, Errno, 1, 7) | Unknown)}
	var nilTab *Table
	d := roundTripNil(t, nilTab, ev)
	if d.Syscall != "unknown" || d.Rule != "rule 7" || d.Action != "errno(EPERM)" || d.Intended != "errno(EPERM)" || d.Mode != "" || d.Policy != "" {
		t.Errorf("nil table: %+v", d)
	}
	// Rule 0 of this table is a log rule: the verdict says kill, so the
	// rule must be from another table; the action comes from the verdict.
	ev = &event.Event{Sysno: uint32(num(t, "read")), Verdict: uint64(makeVerdict(Allow, KillProcess, 0, 0) | WouldDeny)}
	d = tab.NewDecision(ev, "c")
	if d.Action != "allow" || d.Intended != "kill" || !d.WouldDeny {
		t.Errorf("foreign verdict: %+v", d)
	}
	for _, bad := range []string{`{"type":"status"}`, `{"type":`, `[]`} {
		if _, err := ParseDecision([]byte(bad)); err == nil {
			t.Errorf("ParseDecision(%s) accepted", bad)
		}
	}
	if _, err := ParseDecision([]byte(`{"type":"dropped","records":3}`)); !errors.Is(err, ErrNotDecision) {
		t.Errorf("other type: %v", err)
	}
	// Unknown fields are ignored.
	if d, err := ParseDecision([]byte(`{"type":"decision","syscall":"read","future":1}`)); err != nil || d.Syscall != "read" {
		t.Errorf("unknown field: %+v %v", d, err)
	}
}

func roundTripNil(t *testing.T, tab *Table, ev *event.Event) Decision {
	t.Helper()
	d, err := ParseDecision(tab.AppendDecision(nil, ev, "c"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDecodeArgs(t *testing.T) {
	thread := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_SYSVSEM |
		unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID)
	for _, tc := range []struct {
		sys  string
		args [6]uint64
		want map[string]string
	}{
		{"clone", [6]uint64{thread}, map[string]string{"flags": "CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID"}},
		{"clone", [6]uint64{uint64(unix.SIGCHLD)}, map[string]string{"flags": "SIGCHLD"}},
		{"clone", [6]uint64{unix.CLONE_NEWUSER | uint64(unix.SIGCHLD)}, map[string]string{"flags": "CLONE_NEWUSER|SIGCHLD"}},
		{"clone", [6]uint64{}, map[string]string{"flags": "0"}},
		{"unshare", [6]uint64{unix.CLONE_NEWNS | unix.CLONE_NEWNET}, map[string]string{"flags": "CLONE_NEWNS|CLONE_NEWNET"}},
		{"socket", [6]uint64{unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC, 0}, map[string]string{"family": "AF_INET", "type": "SOCK_STREAM|SOCK_CLOEXEC", "protocol": "0"}},
		{"socket", [6]uint64{unix.AF_UNIX, unix.SOCK_DGRAM, 0}, map[string]string{"family": "AF_UNIX", "type": "SOCK_DGRAM", "protocol": "0"}},
		{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW, 9}, map[string]string{"family": "AF_NETLINK", "type": "SOCK_RAW", "protocol": "9"}},
		{"openat", [6]uint64{atFDCWD, 0, unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC | unix.O_CLOEXEC, 0o644},
			map[string]string{"dirfd": "AT_FDCWD", "flags": "O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC", "mode": "0644"}},
		{"open", [6]uint64{0, unix.O_RDWR | unix.O_NONBLOCK | unix.O_TMPFILE, 0}, map[string]string{"flags": "O_RDWR|O_TMPFILE|O_NONBLOCK", "mode": "0"}},
		{"mmap", [6]uint64{0, 4096, unix.PROT_READ | unix.PROT_WRITE, unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, ^uint64(0), 0},
			map[string]string{"prot": "PROT_READ|PROT_WRITE", "flags": "MAP_PRIVATE|MAP_ANONYMOUS"}},
		{"mprotect", [6]uint64{0, 0, unix.PROT_NONE}, map[string]string{"prot": "PROT_NONE"}},
		{"kill", [6]uint64{uint64(^uint32(0)), uint64(unix.SIGKILL)}, map[string]string{"pid": "-1", "sig": "SIGKILL"}},
		{"rt_sigaction", [6]uint64{uint64(unix.SIGCHLD)}, map[string]string{"sig": "SIGCHLD"}},
		{"mount", [6]uint64{0, 0, 0, unix.MS_BIND | unix.MS_REC}, map[string]string{"flags": "MS_BIND|MS_REC"}},
		{"fcntl", [6]uint64{3, unix.F_SETFL}, map[string]string{"fd": "3", "cmd": "F_SETFL"}},
		{"ioctl", [6]uint64{1, unix.TIOCSTI}, map[string]string{"fd": "1", "request": "0x5412"}},
		{"setuid", [6]uint64{65534}, map[string]string{"uid": "65534"}},
		{"madvise", [6]uint64{0, 0, unix.MADV_DONTNEED}, map[string]string{"advice": "MADV_DONTNEED"}},
		{"pipe2", [6]uint64{0, unix.O_CLOEXEC | unix.O_NONBLOCK}, map[string]string{"flags": "O_CLOEXEC|O_NONBLOCK"}},
		{"sched_setscheduler", [6]uint64{0, unix.SCHED_RR}, map[string]string{"policy": "SCHED_RR"}},
		{"read", [6]uint64{3, 0x7f00, 4096}, map[string]string{"arg0": "0x3", "arg1": "0x7f00", "arg2": "0x1000", "arg3": "0x0", "arg4": "0x0", "arg5": "0x0"}},
	} {
		a := tc.args
		if got := DecodeArgs(num(t, tc.sys), &a); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("DecodeArgs(%s, %#x) = %v; want %v", tc.sys, tc.args, got, tc.want)
		}
	}
	// Every named argument of every syscall decodes without panicking.
	for sys := range argSpecs {
		a := [6]uint64{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
		if got := DecodeArgs(num(t, sys), &a); len(got) != len(argSpecs[sys]) {
			t.Errorf("%s: %v", sys, got)
		}
	}
}

// TestDecisionDocExample prints the record docs/policy.md shows.
func TestDecisionDocExample(t *testing.T) {
	tab := mustCompile(t, pathPolicy)
	tab.policy.File = "/etc/athena/p.yaml"
	args := [6]uint64{atFDCWD, 0x1000, unix.O_RDONLY | unix.O_CLOEXEC}
	targets := []FileTarget{ftl("/tmp/link", "/etc/shadow")}
	v := tab.DecidePath(tab.Decide(num(t, "openat"), &args), rd, targets)
	ev := newEvent(t, tab, "openat", args, v)
	ev.Comm = [16]byte{}
	ev.SetComm("cat")
	SetEventPaths(ev, rd, targets)
	line := tab.AppendDecision(nil, ev, "ctr1")
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	// The doc wraps the line: compare without the wrapping.
	i := bytes.Index(doc, []byte("```json\n"))
	j := bytes.Index(doc[i+8:], []byte("```"))
	if i < 0 || j < 0 {
		t.Fatalf("%s: no json example", docPath)
	}
	shown := strings.ReplaceAll(string(doc[i+8:i+8+j]), "\n ", "")
	if strings.TrimSpace(shown) != strings.TrimSpace(string(line)) {
		t.Errorf("%s shows\n%s\nbut the record is\n%s", docPath, shown, line)
	}
}

func BenchmarkAppendDecision(b *testing.B) {
	tab := mustCompile(b, recordPolicy)
	args := [6]uint64{atFDCWD, 0x1000, unix.O_RDONLY | unix.O_CLOEXEC}
	v := tab.Decide(num(b, "openat"), &args)
	ev := newEvent(b, tab, "openat", args, v)
	SetEventPaths(ev, rd, []FileTarget{ftl("/etc/localtime", "/usr/share/zoneinfo/Etc/UTC")})
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = tab.AppendDecision(buf[:0], ev, "0123456789abcdef")
	}
}

const atFDCWD = 0xffffff9c // AT_FDCWD as a register holds it
