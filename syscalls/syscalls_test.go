package syscalls

import (
	"errors"
	"strings"
	"testing"

	"github.com/athenaos/athena/swarm/policy"
	"golang.org/x/sys/unix"
)

func mustCompile(t testing.TB, src string) *Table {
	t.Helper()
	p, err := policy.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	tab, err := Compile(p)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return tab
}

func num(t testing.TB, name string) uintptr {
	n, ok := Number(name)
	if !ok {
		t.Fatalf("no syscall %q", name)
	}
	return n
}

const testPolicy = `version: 1
mode: enforce
default: allow
rules:
  - action: errno(EPERM)
    syscalls: [mkdir]
  - action: errno(EPERM)
    syscalls: [clone, unshare]
    args:
      flags: {any_of: [CLONE_NEWUSER]}
  - action: errno(EAFNOSUPPORT)
    syscalls: [socket]
    args:
      family: {in: [AF_PACKET]}
  - action: kill
    syscalls: [ioctl]
    args:
      request: {in: [TIOCSTI]}
  - action: errno(EACCES)
    class: privileged
  - action: log
    syscalls: [getrandom]
`

func TestDecide(t *testing.T) {
	observe := strings.Replace(testPolicy, "mode: enforce", "mode: observe", 1)
	learn := strings.Replace(testPolicy, "mode: enforce", "mode: learn", 1)
	tabs := map[string]*Table{"enforce": mustCompile(t, testPolicy), "observe": mustCompile(t, observe),
		"learn": mustCompile(t, learn), "default": mustCompile(t, string(policy.DefaultYAML()))}
	thread := uint64(unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD |
		unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID)
	for _, tc := range []struct {
		table, sys string
		args       [6]uint64
		act        Action
		errno      uint16
		flags      Verdict
		noFlags    Verdict
	}{
		{table: "enforce", sys: "mkdir", act: Errno, errno: uint16(unix.EPERM)},
		{table: "enforce", sys: "read", act: Allow},
		{table: "enforce", sys: "mount", act: Errno, errno: uint16(unix.EACCES)}, // class rule
		{table: "enforce", sys: "clone", args: [6]uint64{unix.CLONE_NEWUSER | uint64(unix.SIGCHLD)}, act: Errno, errno: 1, flags: HasPredicates},
		{table: "enforce", sys: "clone", args: [6]uint64{thread}, act: Allow, flags: HasPredicates},
		{table: "enforce", sys: "unshare", args: [6]uint64{unix.CLONE_NEWUSER}, act: Errno, errno: 1},
		// unshare is also privileged: without CLONE_NEWUSER the class rule decides.
		{table: "enforce", sys: "unshare", args: [6]uint64{unix.CLONE_FILES}, act: Errno, errno: uint16(unix.EACCES)},
		{table: "enforce", sys: "socket", args: [6]uint64{unix.AF_PACKET, unix.SOCK_RAW}, act: Errno, errno: uint16(unix.EAFNOSUPPORT)},
		{table: "enforce", sys: "socket", args: [6]uint64{unix.AF_INET, unix.SOCK_STREAM}, act: Allow},
		{table: "enforce", sys: "ioctl", args: [6]uint64{0, unix.TIOCSTI}, act: KillProcess},
		// Upper register half ignored for int arguments.
		{table: "enforce", sys: "ioctl", args: [6]uint64{0, 0xdead00000000 | unix.TIOCSTI}, act: KillProcess},
		{table: "enforce", sys: "ioctl", args: [6]uint64{0, unix.TCGETS}, act: Allow},
		{table: "enforce", sys: "getrandom", act: Allow, flags: Record},
		{table: "observe", sys: "mkdir", act: Allow, errno: 1, flags: Record | WouldDeny},
		{table: "observe", sys: "read", act: Allow, noFlags: Record},
		{table: "learn", sys: "read", act: Allow, flags: Record, noFlags: WouldDeny},
		{table: "learn", sys: "mkdir", act: Allow, flags: Record | WouldDeny},
		// The built-in policy.
		{table: "default", sys: "read", act: Allow},
		{table: "default", sys: "write", act: Allow},
		{table: "default", sys: "openat", act: Allow},
		{table: "default", sys: "mmap", act: Allow},
		{table: "default", sys: "execve", act: Allow},
		{table: "default", sys: "clone", args: [6]uint64{thread}, act: Allow},
		{table: "default", sys: "clone", args: [6]uint64{uint64(unix.SIGCHLD)}, act: Allow},
		{table: "default", sys: "clone", args: [6]uint64{unix.CLONE_NEWNET | uint64(unix.SIGCHLD)}, act: Errno, errno: 1},
		{table: "default", sys: "clone3", act: Errno, errno: uint16(unix.ENOSYS)},
		{table: "default", sys: "socket", args: [6]uint64{unix.AF_INET, unix.SOCK_STREAM}, act: Allow},
		{table: "default", sys: "socket", args: [6]uint64{unix.AF_UNIX, unix.SOCK_DGRAM | unix.SOCK_CLOEXEC}, act: Allow},
		{table: "default", sys: "socket", args: [6]uint64{unix.AF_VSOCK, unix.SOCK_STREAM}, act: Errno, errno: 1},
		{table: "default", sys: "personality", args: [6]uint64{0xffffffff}, act: Allow},
		{table: "default", sys: "personality", args: [6]uint64{0x0040000}, act: Errno, errno: 1},
		{table: "default", sys: "ioctl", args: [6]uint64{0, unix.TIOCSTI}, act: Errno, errno: 1},
		{table: "default", sys: "ioctl", args: [6]uint64{0, unix.TCGETS}, act: Allow},
		{table: "default", sys: "kexec_load", act: Errno, errno: 1},
		{table: "default", sys: "mount", act: Errno, errno: 1},
		{table: "default", sys: "unshare", args: [6]uint64{unix.CLONE_NEWUSER}, act: Errno, errno: 1},
		{table: "default", sys: "bpf", act: Errno, errno: 1},
		{table: "default", sys: "ustat", act: Errno, errno: 1}, // not allowed: default
	} {
		args := tc.args
		v := tabs[tc.table].Decide(num(t, tc.sys), &args)
		if v.Action() != tc.act || (tc.errno != 0 && v.Errno() != tc.errno) || !v.Has(tc.flags) || v&tc.noFlags != 0 {
			t.Errorf("%s: %s(%#x) = %v; want %v errno %d flags %#x", tc.table, tc.sys, tc.args[:2], v, tc.act, tc.errno, uint64(tc.flags))
		}
	}
}

func TestDecideUnknownAndRule(t *testing.T) {
	tab := mustCompile(t, testPolicy)
	var args [6]uint64
	for _, n := range []uintptr{336, 400, MaxSyscall + 1, 1 << 40} {
		if v := tab.Decide(n, &args); !v.Has(Unknown) || v.Action() != Allow || v.Rule() != -1 {
			t.Errorf("Decide(%d) = %v; want unknown default", n, v)
		}
	}
	if v := tab.Decide(num(t, "mkdir"), &args); v.Rule() != 0 {
		t.Errorf("mkdir decided by rule %d; want 0", v.Rule())
	}
}

func TestCompileErrors(t *testing.T) {
	head := "version: 1\ndefault: allow\nrules:\n"
	for _, tc := range []struct{ name, rules, want string }{
		{"unknown syscall", "  - action: allow\n    syscalls: [read, nosuchcall]\n", "test.yaml:5: unknown syscall \"nosuchcall\""},
		{"arg not on syscall", "  - action: allow\n    syscalls: [read]\n    args:\n      flags: {any_of: [O_RDWR]}\n", "test.yaml:7: syscall read has no argument \"flags\""},
		{"wrong arg name", "  - action: allow\n    syscalls: [socket]\n    args:\n      flags: {in: [1]}\n", "test.yaml:7: syscall socket has no argument \"flags\" (predicates support: family, type, protocol)"},
		{"class with args", "  - action: allow\n    class: net\n    args:\n      family: {in: [AF_INET]}\n", "syscall connect has no argument \"family\""},
		{"too wide", "  - action: allow\n    syscalls: [socket]\n    args:\n      type: {in: [SOCK_NONBLOCK]}\n", "test.yaml:7: socket.type: value SOCK_NONBLOCK"},
		{"shadowed", "  - action: kill\n    class: file\n  - action: allow\n    syscalls: [open, stat]\n", "test.yaml:6: rule is unreachable: every syscall it matches is decided by an earlier rule (e.g. open by the rule at line 4)"},
	} {
		p, err := policy.Parse("test.yaml", []byte(head+tc.rules))
		if err != nil {
			t.Errorf("%s: parse: %v", tc.name, err)
			continue
		}
		_, err = Compile(p)
		var perr *policy.Error
		if err == nil || !errors.Is(err, policy.ErrInvalid) || !errors.As(err, &perr) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Compile error = %v; want %q", tc.name, err, tc.want)
		}
	}
}

func TestDecideAllocs(t *testing.T) {
	tab := mustCompile(t, string(policy.DefaultYAML()))
	args := [6]uint64{unix.AF_INET, unix.SOCK_STREAM}
	sock, clone := num(t, "socket"), num(t, "clone")
	allocs := testing.AllocsPerRun(100, func() {
		_ = tab.Decide(sock, &args)
		_ = tab.Decide(clone, &args)
		_ = tab.Decide(0, &args)
		_ = tab.Decide(100000, &args)
	})
	if allocs != 0 {
		t.Fatalf("Decide allocates: %v allocs/run", allocs)
	}
}

func BenchmarkDecide(b *testing.B) {
	tab := mustCompile(b, string(policy.DefaultYAML()))
	for _, bc := range []struct {
		name string
		sys  string
		args [6]uint64
	}{
		{"read-plain", "read", [6]uint64{}},
		{"socket-predicate", "socket", [6]uint64{unix.AF_INET, unix.SOCK_STREAM}},
		{"ioctl-predicate-fallthrough", "ioctl", [6]uint64{0, unix.TCGETS}},
	} {
		n := num(b, bc.sys)
		args := bc.args
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			var sink Verdict
			for i := 0; i < b.N; i++ {
				sink |= tab.Decide(n, &args)
			}
			_ = sink
		})
	}
}
