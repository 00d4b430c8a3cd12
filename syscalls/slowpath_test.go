package syscalls

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/athenaos/athena/swarm/policy"
	"golang.org/x/sys/unix"
)

const pathPolicy = `version: 1
mode: enforce
default: allow
rules:
  - name: getxattr first
    action: allow
    syscalls: [getxattr]
  - name: shadow
    action: errno(EACCES)
    paths: [/etc/shadow]
    ops: [read, write]
  - name: ssh keys
    action: kill
    paths: [/etc/ssh/**, /home/*/.ssh/**]
    ops: [read]
  - name: tmp is free
    action: allow
    paths: [/tmp/**]
    ops: [read, write, create, delete, rename, link]
  - name: no writes to etc
    action: errno(EROFS)
    paths: [/etc/**]
    ops: [write, create, delete, rename, link]
  - name: logged logs
    action: log
    paths: [/var/log/**]
    ops: [read]
  - name: lgetxattr last
    action: errno(EPERM)
    syscalls: [lgetxattr]
`

func ft(p string) FileTarget          { return FileTarget{Path: p} }
func ftl(p, target string) FileTarget { return FileTarget{Path: p, Target: target} }

const (
	rd  = policy.OpRead
	wr  = policy.OpWrite
	cr  = policy.OpCreate
	del = policy.OpDelete
	ex  = policy.OpExec
	lnk = policy.OpLink
	ren = policy.OpRename
	mnt = policy.OpMount
	chm = policy.OpChmod
)

func TestDecidePath(t *testing.T) {
	tabs := map[string]*Table{
		"enforce": mustCompile(t, pathPolicy),
		"observe": mustCompile(t, strings.Replace(pathPolicy, "mode: enforce", "mode: observe", 1)),
		"learn":   mustCompile(t, strings.Replace(pathPolicy, "mode: enforce", "mode: learn", 1)),
	}
	for _, tc := range []struct {
		name    string
		table   string // default enforce
		sys     string // default openat
		ops     policy.OpSet
		targets []FileTarget
		act     Action
		errno   uint16
		rule    int
		flags   Verdict
		noFlags Verdict
	}{
		{name: "protected file", ops: rd, targets: []FileTarget{ft("/etc/shadow")}, act: Errno, errno: uint16(unix.EACCES), rule: 1},
		{name: "through a symlink's target", ops: rd, targets: []FileTarget{ftl("/tmp/link", "/etc/shadow")}, act: Errno, errno: uint16(unix.EACCES), rule: 1},
		{name: "unclean path", ops: rd, targets: []FileTarget{ft("/tmp/../etc//./shadow")}, act: Errno, errno: uint16(unix.EACCES), rule: 1},
		{name: "unclean target", ops: rd, targets: []FileTarget{ftl("/tmp/l", "/etc//shadow")}, act: Errno, errno: uint16(unix.EACCES), rule: 1},
		{name: "other file in etc", ops: rd, targets: []FileTarget{ft("/etc/passwd")}, act: Allow, rule: -1},
		{name: "op the rule does not name", ops: chm, targets: []FileTarget{ft("/etc/shadow")}, act: Allow, rule: -1, sys: "fchmodat"},
		{name: "write in etc", ops: wr, targets: []FileTarget{ft("/etc/passwd")}, act: Errno, errno: uint16(unix.EROFS), rule: 4},
		{name: "hard link of protected file", sys: "linkat", ops: cr | lnk, targets: []FileTarget{ft("/etc/shadow"), ft("/tmp/x")}, act: Errno, errno: uint16(unix.EACCES), rule: 1},
		{name: "rename of protected file", sys: "renameat2", ops: ren | cr | del, targets: []FileTarget{ft("/etc/shadow"), ft("/tmp/y")}, act: Errno, errno: uint16(unix.EACCES), rule: 1},
		{name: "rename of its directory", sys: "rename", ops: ren | cr | del, targets: []FileTarget{ft("/etc"), ft("/etc2")}, act: Errno, errno: uint16(unix.EACCES), rule: 1},
		{name: "rename of the root of a wildcard glob", sys: "rename", ops: ren | cr | del, targets: []FileTarget{ft("/home"), ft("/h2")}, act: KillProcess, rule: 2},
		{name: "rename of an unrelated directory", sys: "rename", ops: ren | cr | del, targets: []FileTarget{ft("/srv/a"), ft("/srv/b")}, act: Allow, rule: -1},
		{name: "mount over its directory", sys: "mount", ops: mnt, targets: []FileTarget{ft("/etc")}, act: Errno, errno: uint16(unix.EACCES), rule: 1},
		{name: "mount over a sibling", sys: "mount", ops: mnt, targets: []FileTarget{ft("/etcd")}, act: Allow, rule: -1},
		{name: "link whose ops the rule does not name", sys: "link", ops: cr | lnk, targets: []FileTarget{ft("/etc/ssh/ssh_host_key"), ft("/tmp/k")}, act: KillProcess, rule: 2},
		{name: "rename inside tmp", sys: "rename", ops: ren | cr | del, targets: []FileTarget{ft("/tmp/a"), ft("/tmp/b")}, act: Allow, rule: 3},
		{name: "rename from tmp into etc", sys: "rename", ops: ren | cr | del, targets: []FileTarget{ft("/tmp/evil"), ft("/etc/passwd")}, act: Errno, errno: uint16(unix.EROFS), rule: 4},
		{name: "write through a tmp symlink into etc", ops: wr, targets: []FileTarget{ftl("/tmp/l", "/etc/passwd")}, act: Errno, errno: uint16(unix.EROFS), rule: 4},
		{name: "read and write in tmp", ops: rd | wr, targets: []FileTarget{ft("/tmp/x")}, act: Allow, rule: 3},
		{name: "chmod in tmp: not covered by the allow rule", sys: "fchmodat", ops: chm, targets: []FileTarget{ft("/tmp/x")}, act: Allow, rule: -1},
		{name: "log rule", ops: rd, targets: []FileTarget{ft("/var/log/syslog")}, act: Allow, rule: 5, flags: Record},
		{name: "log rule through a non-path target", ops: rd, targets: []FileTarget{ftl("/var/log/fd", "pipe:[12]")}, act: Allow, rule: 5, flags: Record},
		{name: "log rule does not cover a write", ops: rd | wr, targets: []FileTarget{ft("/var/log/syslog")}, act: Allow, rule: -1, noFlags: Record},
		{name: "no targets", ops: rd, act: Allow, rule: -1},
		{name: "no ops", targets: []FileTarget{ft("/etc/shadow")}, act: Allow, rule: -1},
		{name: "earlier syscall rule wins", sys: "getxattr", ops: rd, targets: []FileTarget{ft("/etc/shadow")}, act: Allow, rule: 0},
		{name: "earlier path rule beats later syscall rule", sys: "lgetxattr", ops: rd, targets: []FileTarget{ft("/etc/shadow")}, act: Errno, errno: uint16(unix.EACCES), rule: 1},
		{name: "later syscall rule stands when no path rule matches", sys: "lgetxattr", ops: rd, targets: []FileTarget{ft("/usr/x")}, act: Errno, errno: uint16(unix.EPERM), rule: 6},
		{name: "flags kept", ops: rd, targets: []FileTarget{ft("/etc/shadow")}, act: Errno, rule: 1, flags: NeedsPathCheck | Record, noFlags: WouldDeny}, // refusals are recorded
		// Observe: non-allow becomes allow + record + would-deny, the
		// intended action stays.
		{name: "observe", table: "observe", ops: rd, targets: []FileTarget{ft("/etc/shadow")}, act: Allow, errno: uint16(unix.EACCES), rule: 1, flags: Record | WouldDeny | NeedsPathCheck},
		{name: "observe allow", table: "observe", ops: rd, targets: []FileTarget{ft("/tmp/x")}, act: Allow, rule: 3, noFlags: Record | WouldDeny},
		// Learn: everything allowed and recorded.
		{name: "learn deny", table: "learn", ops: rd, targets: []FileTarget{ft("/etc/shadow")}, act: Allow, errno: uint16(unix.EACCES), rule: 1, flags: Record | WouldDeny},
		{name: "learn allow", table: "learn", ops: rd, targets: []FileTarget{ft("/tmp/x")}, act: Allow, rule: 3, flags: Record, noFlags: WouldDeny},
		{name: "learn no match", table: "learn", ops: rd, targets: []FileTarget{ft("/usr/x")}, act: Allow, rule: -1, flags: Record},
	} {
		table, sys := tc.table, tc.sys
		if table == "" {
			table = "enforce"
		}
		if sys == "" {
			sys = "openat"
		}
		tab := tabs[table]
		var args [6]uint64
		fast := tab.Decide(num(t, sys), &args)
		if sys == "openat" && !fast.Has(NeedsPathCheck) {
			t.Errorf("%s: %s is not marked for a path check: %v", tc.name, sys, fast)
		}
		v := tab.DecidePath(fast, tc.ops, tc.targets)
		if v.Action() != tc.act || v.Rule() != tc.rule || (tc.errno != 0 && v.Errno() != tc.errno) || !v.Has(tc.flags) || v&tc.noFlags != 0 {
			t.Errorf("%s: DecidePath = %v; want %v errno %d rule %d flags %#x not %#x", tc.name, v, tc.act, tc.errno, tc.rule, uint64(tc.flags), uint64(tc.noFlags))
		}
		if tc.errno != 0 && tc.act == Allow && v.Intended() != Errno {
			t.Errorf("%s: intended %v; want errno", tc.name, v.Intended())
		}
	}
}

func TestDecideExec(t *testing.T) {
	src := `version: 1
default: allow
rules:
  - name: only these run
    action: kill
    exec: [/usr/bin/*, /bin/busybox]
`
	tab := mustCompile(t, src)
	obs := mustCompile(t, strings.Replace(src, "default: allow", "mode: observe\ndefault: allow", 1))
	var args [6]uint64
	for _, tc := range []struct {
		file FileTarget
		act  Action
	}{
		{ft("/usr/bin/env"), Allow},
		{ftl("/usr/bin/python3", "/usr/bin/python3.11"), Allow},
		{ftl("/usr/bin/sh", "/usr/lib/dash"), KillProcess}, // where it leads is not listed
		{ftl("/bin/sh", "/bin/busybox"), KillProcess},      // the name run is not listed
		{ft("/bin/busybox"), Allow},
		{ft("/tmp/x"), KillProcess},
		{ft("/usr/bin/sub/x"), KillProcess},
		{ft(""), KillProcess}, // fs/ could not name it
		{ft("/usr/bin/../../tmp/x"), KillProcess},
		{ft("/usr//bin/env"), Allow},
	} {
		for _, sys := range []string{"execve", "execveat"} {
			fast := tab.Decide(num(t, sys), &args)
			if !fast.Has(NeedsExecCheck) {
				t.Fatalf("%s not marked for an exec check: %v", sys, fast)
			}
			v := tab.DecideExec(fast, tc.file)
			if v.Action() != tc.act || (tc.act != Allow && v.Rule() != 0) || !v.Has(NeedsExecCheck) {
				t.Errorf("%s %+v = %v; want %v", sys, tc.file, v, tc.act)
			}
			ov := obs.DecideExec(obs.Decide(num(t, sys), &args), tc.file)
			if ov.Action() != Allow || ov.Has(WouldDeny) != (tc.act != Allow) || ov.Intended() != tc.act {
				t.Errorf("observe: %s %+v = %v", sys, tc.file, ov)
			}
		}
	}
}

const netPolicy = `version: 1
mode: enforce
default: allow
rules:
  - name: web
    action: allow
    net:
      - {op: bind, to: ["0.0.0.0:80", "[::]:80-443"], protocol: tcp}
      - {op: connect, to: ["10.0.0.0/8:8080", "unix:/run/app.sock"], protocol: tcp}
      - {op: sendto, to: ["*:53"], protocol: udp}
  - name: nothing else
    action: errno(ECONNREFUSED)
    net:
      - {op: connect, to: ["*"]}
      - {op: sendto, to: ["*:*"], protocol: udp}
`

func v4(s string, port uint16) policy.Addr {
	return policy.Addr{Family: unix.AF_INET, IP: netip.MustParseAddr(s), Port: port}
}

func v6(s string, port uint16) policy.Addr {
	return policy.Addr{Family: unix.AF_INET6, IP: netip.MustParseAddr(s).Unmap(), Port: port}
}

func unixPath(p string) policy.Addr { return policy.Addr{Family: unix.AF_UNIX, Unix: p} }

func TestDecideNet(t *testing.T) {
	tab := mustCompile(t, netPolicy)
	first := mustCompile(t, strings.Replace(netPolicy, "rules:\n", "rules:\n  - action: errno(EPERM)\n    syscalls: [bind]\n", 1))
	const (
		stream = unix.SOCK_STREAM
		dgram  = unix.SOCK_DGRAM
		seq    = unix.SOCK_SEQPACKET
	)
	refused := uint16(unix.ECONNREFUSED)
	for _, tc := range []struct {
		tab   *Table
		sys   string
		typ   uint8
		addr  policy.Addr
		act   Action
		errno uint16
		rule  int
	}{
		{tab, "connect", stream, v4("10.1.1.1", 8080), Allow, 0, 0},
		{tab, "connect", stream | unix.SOCK_CLOEXEC&0xff, v4("10.1.1.1", 8080), Allow, 0, 0},
		{tab, "connect", dgram, v4("10.1.1.1", 8080), Errno, refused, 1}, // protocol does not fit
		{tab, "connect", stream, v4("10.1.1.1", 8081), Errno, refused, 1},
		{tab, "connect", stream, v6("::ffff:10.1.1.1", 8080), Allow, 0, 0},
		{tab, "connect", stream, v6("fd00::1", 8080), Errno, refused, 1},
		{tab, "connect", stream, unixPath("/run/app.sock"), Allow, 0, 0}, // tcp is SOCK_STREAM, unix too
		{tab, "connect", seq, unixPath("/run/app.sock"), Errno, refused, 1},
		{tab, "connect", stream, policy.Addr{Family: unix.AF_UNIX, Unix: "x", Abstract: true}, Errno, refused, 1},
		{tab, "connect", stream, policy.Addr{}, Allow, 0, -1}, // no address: nothing matches
		{tab, "bind", stream, v4("0.0.0.0", 80), Allow, 0, 0},
		{tab, "bind", stream, v6("::", 443), Allow, 0, 0},
		{tab, "bind", stream, v4("0.0.0.0", 8080), Allow, 0, -1}, // no bind catch-all: the default
		{tab, "sendto", dgram, v4("8.8.8.8", 53), Allow, 0, 0},
		{tab, "sendmsg", dgram, v4("8.8.8.8", 53), Allow, 0, 0},
		{tab, "sendmmsg", dgram, v6("2001:4860::8888", 53), Allow, 0, 0},
		{tab, "sendto", dgram, v4("8.8.8.8", 54), Errno, refused, 1},
		{tab, "sendmsg", dgram, v4("8.8.8.8", 54), Errno, refused, 1},
		{tab, "sendto", stream, v4("8.8.8.8", 54), Allow, 0, -1}, // the catch-all is udp only
		{tab, "sendto", dgram, policy.Addr{}, Allow, 0, -1},
		{tab, "read", stream, v4("8.8.8.8", 54), Allow, 0, -1}, // not a net op
		// An earlier syscall rule decides bind: the net rules come after it.
		{first, "bind", stream, v4("0.0.0.0", 80), Errno, uint16(unix.EPERM), 0},
		{first, "connect", stream, v4("10.1.1.1", 8080), Allow, 0, 1},
	} {
		var args [6]uint64
		fast := tc.tab.Decide(num(t, tc.sys), &args)
		if tc.sys != "read" && !fast.Has(NeedsNetCheck) && tc.tab == tab {
			t.Errorf("%s not marked for a net check: %v", tc.sys, fast)
		}
		v := tc.tab.DecideNet(fast, num(t, tc.sys), tc.typ, tc.addr)
		if v.Action() != tc.act || v.Rule() != tc.rule || (tc.errno != 0 && v.Errno() != tc.errno) {
			t.Errorf("%s type %d %+v = %v; want %v errno %d rule %d", tc.sys, tc.typ, tc.addr, v, tc.act, tc.errno, tc.rule)
		}
	}
}

// TestSlowChaining: checks of one call chain in any order to the first
// matching rule in file order.
func TestSlowChaining(t *testing.T) {
	tab := mustCompile(t, `version: 1
default: allow
rules:
  - name: no shells
    action: kill
    exec: [/usr/bin/app]
  - name: exec from tmp
    action: errno(EACCES)
    paths: [/tmp/**]
    ops: [exec]
`)
	var args [6]uint64
	fast := tab.Decide(num(t, "execve"), &args)
	if !fast.Has(NeedsPathCheck | NeedsExecCheck) {
		t.Fatalf("execve = %v; want path and exec checks", fast)
	}
	for _, tc := range []struct {
		file FileTarget
		rule int
	}{
		{ft("/tmp/x"), 0},        // both match: the exec rule is first
		{ft("/usr/bin/app"), -1}, // neither
		{ft("/bin/sh"), 0},
	} {
		a := tab.DecideExec(tab.DecidePath(fast, ex, []FileTarget{tc.file}), tc.file)
		b := tab.DecidePath(tab.DecideExec(fast, tc.file), ex, []FileTarget{tc.file})
		if a != b || a.Rule() != tc.rule {
			t.Errorf("%+v: path then exec %v, exec then path %v; want rule %d", tc.file, a, b, tc.rule)
		}
	}
	// With the rules the other way round the path rule decides /tmp/x.
	tab2 := mustCompile(t, `version: 1
default: allow
rules:
  - action: errno(EACCES)
    paths: [/tmp/**]
    ops: [exec]
  - action: kill
    exec: [/usr/bin/app]
`)
	fast = tab2.Decide(num(t, "execve"), &args)
	file := ft("/tmp/x")
	if v := tab2.DecideExec(tab2.DecidePath(fast, ex, []FileTarget{file}), file); v.Rule() != 0 || v.Action() != Errno {
		t.Errorf("reversed: %v; want the path rule", v)
	}
}

func TestCompileMarks(t *testing.T) {
	var args [6]uint64
	learn := mustCompile(t, "version: 1\nmode: learn\ndefault: errno(EPERM)\n")
	enforce := mustCompile(t, "version: 1\ndefault: errno(EPERM)\n")
	for _, tc := range []struct {
		sys   string
		flags Verdict
	}{
		{"openat", NeedsPathCheck}, {"newfstatat", NeedsPathCheck}, {"renameat2", NeedsPathCheck},
		{"mount", NeedsPathCheck}, {"chroot", NeedsPathCheck},
		{"execve", NeedsExecCheck | NeedsPathCheck}, {"execveat", NeedsExecCheck | NeedsPathCheck},
		{"connect", NeedsNetCheck}, {"bind", NeedsNetCheck}, {"sendto", NeedsNetCheck},
		{"sendmsg", NeedsNetCheck}, {"sendmmsg", NeedsNetCheck},
		{"read", 0}, {"socket", 0}, {"recvfrom", 0},
	} {
		v := learn.Decide(num(t, tc.sys), &args)
		checks := v & (NeedsPathCheck | NeedsExecCheck | NeedsNetCheck)
		if checks != tc.flags || !v.Has(Record) {
			t.Errorf("learn: %s = %v; want checks %#x", tc.sys, v, uint64(tc.flags))
		}
		if e := enforce.Decide(num(t, tc.sys), &args); e&(NeedsPathCheck|NeedsExecCheck|NeedsNetCheck) != 0 {
			t.Errorf("enforce without rules: %s = %v; want no checks", tc.sys, e)
		}
	}
	// Learn-mode marks reach predicate programs too.
	lp := mustCompile(t, "version: 1\nmode: learn\ndefault: allow\nrules:\n  - action: errno(EPERM)\n    syscalls: [openat]\n    args:\n      flags: {any_of: [O_CREAT]}\n")
	if v := lp.Decide(num(t, "openat"), &[6]uint64{0, 0, unix.O_CREAT}); !v.Has(NeedsPathCheck | WouldDeny) {
		t.Errorf("learn predicate: %v", v)
	}
	// A refusing path rule also marks link, rename and mount syscalls
	// (aliases); an allowing one does not.
	deny := mustCompile(t, "version: 1\ndefault: allow\nrules:\n  - action: errno(EACCES)\n    paths: [/etc/shadow]\n    ops: [read]\n")
	allow := mustCompile(t, "version: 1\ndefault: allow\nrules:\n  - action: allow\n    paths: [/etc/shadow]\n    ops: [read]\n")
	for _, sys := range []string{"linkat", "renameat2", "mount", "open_tree"} {
		if !deny.Decide(num(t, sys), &args).Has(NeedsPathCheck) {
			t.Errorf("refusing rule: %s not marked", sys)
		}
		if allow.Decide(num(t, sys), &args).Has(NeedsPathCheck) {
			t.Errorf("allowing rule: %s marked", sys)
		}
	}
}

func TestRuleNames(t *testing.T) {
	tab := mustCompile(t, pathPolicy)
	for i, want := range map[int]string{-1: "default", 0: "getxattr first", 1: "shadow", 99: "rule 99"} {
		if got := tab.RuleName(i); got != want {
			t.Errorf("RuleName(%d) = %q; want %q", i, got, want)
		}
	}
	unnamed := mustCompile(t, "version: 1\ndefault: allow\nrules:\n  - action: kill\n    syscalls: [mkdir]\n")
	if got := unnamed.RuleName(0); got != "rule 0" {
		t.Errorf("unnamed rule: %q", got)
	}
	if tab.RuleLine(1) != 8 || tab.RuleLine(-1) != 3 || tab.RuleLine(99) != 0 {
		t.Errorf("RuleLine: %d %d %d", tab.RuleLine(1), tab.RuleLine(-1), tab.RuleLine(99))
	}
	if tab.PolicyFile() != "test.yaml" {
		t.Errorf("PolicyFile = %q", tab.PolicyFile())
	}
	if a, ok := tab.RuleAction(1); !ok || a != policy.Errno("EACCES") {
		t.Errorf("RuleAction(1) = %v %v", a, ok)
	}
	var nilTab *Table
	if nilTab.RuleName(2) != "rule 2" || nilTab.PolicyFile() != "" || nilTab.DecidePath(7, rd, []FileTarget{ft("/x")}) != 7 ||
		nilTab.DecideExec(7, ft("/x")) != 7 || nilTab.DecideNet(7, num(t, "connect"), 1, v4("1.1.1.1", 1)) != 7 {
		t.Error("nil table")
	}
}

// TestCompileSlowErrors: a policy built in code (not parsed) with a bad
// glob or endpoint fails Compile with a policy error.
func TestCompileSlowErrors(t *testing.T) {
	for _, r := range []policy.Rule{
		{Action: policy.Allow, Paths: []string{"relative"}, Ops: []string{"read"}},
		{Action: policy.Allow, Exec: []string{"/a/b**"}},
		{Action: policy.Allow, Net: []policy.NetRule{{Op: "connect", Protocol: "tcp", To: []string{"10.0.0.1"}}}},
	} {
		p := &policy.Policy{File: "code", Version: 1, Default: policy.Allow, Rules: []policy.Rule{r}}
		if _, err := Compile(p); err == nil || !strings.HasPrefix(err.Error(), "code:") {
			t.Errorf("Compile(%+v) = %v; want a policy error", r, err)
		}
	}
}

func TestSlowPathAllocs(t *testing.T) {
	tab := mustCompile(t, pathPolicy)
	ntab := mustCompile(t, netPolicy)
	var args [6]uint64
	open, connect, sendmsg := num(t, "openat"), num(t, "connect"), num(t, "sendmsg")
	fast := tab.Decide(open, &args)
	nfast := ntab.Decide(connect, &args)
	targets := []FileTarget{ftl("/tmp/link", "/etc/shadow"), ft("/var/log/a/b")}
	ren2 := []FileTarget{ft("/tmp/a"), ft("/home/u/.ssh/id")}
	addr, uaddr := v6("fd00::1", 8080), unixPath("/run/app.sock")
	n := testing.AllocsPerRun(100, func() {
		tab.DecidePath(fast, rd, targets)
		tab.DecidePath(fast, ren|cr|del, ren2)
		tab.DecideExec(fast, targets[0])
		ntab.DecideNet(nfast, connect, 1, addr)
		ntab.DecideNet(nfast, connect, 1, uaddr)
		ntab.DecideNet(nfast, sendmsg, 2, addr)
	})
	if n != 0 {
		t.Fatalf("slow path allocates: %v allocs/run", n)
	}
}

func BenchmarkDecidePath(b *testing.B) {
	tab := mustCompile(b, pathPolicy)
	var args [6]uint64
	fast := tab.Decide(num(b, "openat"), &args)
	targets := []FileTarget{ft("/usr/lib/x86_64-linux-gnu/libc.so.6")}
	b.ReportAllocs()
	for b.Loop() {
		tab.DecidePath(fast, rd, targets)
	}
}

func BenchmarkDecideNet(b *testing.B) {
	tab := mustCompile(b, netPolicy)
	var args [6]uint64
	n := num(b, "connect")
	fast := tab.Decide(n, &args)
	addr := v4("192.168.1.1", 443)
	b.ReportAllocs()
	for b.Loop() {
		tab.DecideNet(fast, n, 1, addr)
	}
}

// FuzzSlowPath: any policy that compiles decides any path, exec and net
// check without panicking, and a slow verdict never names a rule at or
// after the fast verdict's.
func FuzzSlowPath(f *testing.F) {
	f.Add([]byte(pathPolicy), uint16(257), uint16(1), "/etc/shadow", "/tmp/x", []byte{2, 0, 0, 80, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0}, uint8(1))
	f.Add([]byte(netPolicy), uint16(42), uint16(0x100), "/etc", "", []byte{1, 0, '/', 'r', 'u', 'n'}, uint8(2))
	f.Fuzz(func(t *testing.T, src []byte, sysno, ops uint16, p1, p2 string, sa []byte, typ uint8) {
		p, err := policy.Parse("fuzz", src)
		if err != nil {
			return
		}
		tab, err := Compile(p)
		if err != nil {
			return
		}
		var args [6]uint64
		fast := tab.Decide(uintptr(sysno), &args)
		check := func(v Verdict) {
			if v != fast && fast.Rule() >= 0 && v.Rule() >= fast.Rule() {
				t.Fatalf("slow verdict %v does not come before fast %v", v, fast)
			}
		}
		check(tab.DecidePath(fast, policy.OpSet(ops), []FileTarget{{Path: p1, Target: p2}, {Path: p2}}))
		check(tab.DecideExec(fast, FileTarget{Path: p1, Target: p2}))
		if a, err := policy.ParseSockaddr(sa); err == nil {
			check(tab.DecideNet(fast, uintptr(sysno), typ, a))
		}
	})
}
