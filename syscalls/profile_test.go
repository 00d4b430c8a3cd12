package syscalls

import (
	"bytes"
	"strings"
	"testing"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/policy"
	"golang.org/x/sys/unix"
)

func TestProfile(t *testing.T) {
	pr := NewProfile()
	obs := func(name string, args ...uint64) {
		var a [6]uint64
		copy(a[:], args)
		pr.Observe(num(t, name), &a)
	}
	obs("read")
	obs("write")
	obs("openat")
	obs("clone", unix.CLONE_VM|unix.CLONE_THREAD)
	obs("socket", unix.AF_INET, unix.SOCK_STREAM)
	obs("socket", unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC)
	obs("execve")
	pr.ObserveExec("/usr/bin/app")
	pr.ObservePath("read", "/etc/hosts")
	pr.ObserveNet("connect", "tcp", "10.1.2.3:443")
	p, err := pr.Policy(policy.Errno("EPERM"))
	if err != nil {
		t.Fatal(err)
	}
	text, err := policy.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := policy.Parse("again", text)
	if err != nil || !p.Equal(q) {
		t.Fatalf("learned profile does not round-trip: %v\n%s", err, text)
	}
	tab, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		sys  string
		args [6]uint64
		act  Action
	}{
		{"read", [6]uint64{}, Allow},
		{"mkdir", [6]uint64{}, Errno},
		{"clone", [6]uint64{unix.CLONE_VM | unix.CLONE_THREAD}, Allow},
		{"clone", [6]uint64{unix.CLONE_NEWUSER}, Errno},
		{"socket", [6]uint64{unix.AF_INET6, unix.SOCK_STREAM}, Errno},
		{"socket", [6]uint64{unix.AF_UNIX, unix.SOCK_DGRAM}, Allow},
	} {
		a := tc.args
		if v := tab.Decide(num(t, tc.sys), &a); v.Action() != tc.act {
			t.Errorf("learned: %s(%#x) = %v; want %v", tc.sys, tc.args[0], v, tc.act)
		}
	}
	if v := tab.Decide(num(t, "connect"), &[6]uint64{}); !v.Has(NeedsNetCheck) {
		t.Errorf("connect = %v; want net-check flag", v)
	}
	if v := tab.Decide(num(t, "execve"), &[6]uint64{}); !v.Has(NeedsExecCheck) || v.Action() != Allow {
		t.Errorf("execve = %v; want allow with exec-check", v)
	}
	t.Logf("learned profile:\n%s", text)
}

// call is one system call of a synthetic workload, with what fs/ and
// sentry/ would resolve for it.
type call struct {
	sys      string
	args     [6]uint64
	ops      policy.OpSet
	targets  []FileTarget
	sockType uint8
	addr     *policy.Addr
}

// decide runs c through a table the way the sentry does: Decide, then the
// slow checks the verdict asks for, chained.
func (c call) decide(t testing.TB, tab *Table) Verdict {
	n := num(t, c.sys)
	args := c.args
	v := tab.Decide(n, &args)
	if v.Has(NeedsPathCheck) && c.ops != 0 {
		v = tab.DecidePath(v, c.ops, c.targets)
	}
	if v.Has(NeedsExecCheck) && c.ops&policy.OpExec != 0 && len(c.targets) > 0 {
		v = tab.DecideExec(v, c.targets[0])
	}
	if v.Has(NeedsNetCheck) && c.addr != nil {
		v = tab.DecideNet(v, n, c.sockType, *c.addr)
	}
	return v
}

// event is the record the gate would make of c under verdict v.
func (c call) event(t testing.TB, v Verdict) *event.Event {
	ev := &event.Event{Kind: event.KindSyscall, Time: 1, PID: 1, TID: 1, Sysno: uint32(num(t, c.sys)), Args: c.args, Verdict: uint64(v)}
	if c.ops != 0 {
		SetEventPaths(ev, c.ops, c.targets)
	}
	if c.addr != nil {
		SetEventNet(ev, c.sockType, *c.addr)
	}
	return ev
}

func addr(a policy.Addr) *policy.Addr { return &a }

func files(paths ...string) []FileTarget {
	var out []FileTarget
	for _, p := range paths {
		out = append(out, FileTarget{Path: p})
	}
	return out
}

// learnWorkload is a small server: it starts, reads its libraries and
// configuration, logs, keeps state, uses temporary files, listens,
// connects to itself, to an upstream service and to DNS.
var learnWorkload = []call{
	{sys: "execve", ops: ex, targets: []FileTarget{ftl("/usr/bin/python3", "/usr/bin/python3.11")}},
	{sys: "brk"}, {sys: "arch_prctl", args: [6]uint64{0x1002}}, {sys: "mmap"}, {sys: "read"}, {sys: "write"}, {sys: "close"},
	{sys: "openat", args: [6]uint64{atFDCWD, 0, unix.O_RDONLY | unix.O_CLOEXEC}, ops: rd, targets: files("/etc/ld.so.cache")},
	{sys: "openat", ops: rd, targets: files("/usr/lib/x86_64-linux-gnu/libc.so.6")},
	{sys: "newfstatat", ops: rd, targets: []FileTarget{ftl("/etc/localtime", "/usr/share/zoneinfo/Etc/UTC")}},
	{sys: "newfstatat", ops: rd, targets: files("pipe:[7]")}, // fstat of a pipe (AT_EMPTY_PATH)
	{sys: "openat", ops: rd, targets: files("/proc/123/status")},
	{sys: "readlink", ops: rd, targets: files("/proc/self")},
	{sys: "openat", ops: rd, targets: []FileTarget{ftl("/proc/123/fd/0", "pipe:[7]")}},
	{sys: "openat", ops: rd, targets: files("/usr/lib/python3.11/os.py")},
	{sys: "stat", ops: rd, targets: files("/usr/lib/python3.11/missing.py")}, // fails with ENOENT, still learned
	{sys: "mkdir", ops: cr, targets: files("/var/log/app")},
	{sys: "openat", args: [6]uint64{atFDCWD, 0, unix.O_WRONLY | unix.O_CREAT | unix.O_APPEND}, ops: wr | cr, targets: files("/var/log/app/access.log")},
	{sys: "openat", ops: rd | wr | cr, targets: files("/tmp/tmpab12/x")},
	{sys: "unlink", ops: del, targets: files("/tmp/tmpab12/x")},
	{sys: "openat", ops: wr | cr, targets: files("/var/lib/app/db.tmp")},
	{sys: "rename", ops: ren | cr | del, targets: files("/var/lib/app/db.tmp", "/var/lib/app/db")},
	{sys: "clone", args: [6]uint64{unix.CLONE_VM | unix.CLONE_THREAD | unix.CLONE_SIGHAND | unix.CLONE_FS | unix.CLONE_FILES}},
	{sys: "socket", args: [6]uint64{unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC}},
	{sys: "socket", args: [6]uint64{unix.AF_INET, unix.SOCK_DGRAM}},
	{sys: "socket", args: [6]uint64{unix.AF_UNIX, unix.SOCK_STREAM}},
	{sys: "bind", sockType: unix.SOCK_STREAM, addr: addr(v4("127.0.0.1", 8080))},
	{sys: "listen"}, {sys: "accept4"},
	{sys: "connect", sockType: unix.SOCK_STREAM, addr: addr(v4("127.0.0.1", 8080))},
	{sys: "connect", sockType: unix.SOCK_STREAM, addr: addr(v4("172.17.0.1", 40123))},
	{sys: "connect", sockType: unix.SOCK_STREAM, addr: addr(unixPath("/run/nscd/socket"))},
	{sys: "sendto", sockType: unix.SOCK_DGRAM, addr: addr(v4("10.0.0.2", 53))},
	{sys: "sendto", sockType: unix.SOCK_STREAM, addr: addr(policy.Addr{})}, // on a connected socket
	{sys: "exit_group"},
}

// TestProfileFromDecisions: decisions recorded in learn mode (through the
// JSON record) make a profile under which the same workload runs, with
// the names that change from run to run changed, and new behaviour does
// not.
func TestProfileFromDecisions(t *testing.T) {
	learn := mustCompile(t, "version: 1\nmode: learn\ndefault: allow\n")
	pr := NewProfile()
	var record []byte
	for _, c := range learnWorkload {
		v := c.decide(t, learn)
		if v.Action() != Allow || !v.Has(Record) {
			t.Fatalf("learn mode: %s = %v", c.sys, v)
		}
		record = learn.AppendDecision(record, c.event(t, v), "ctr")
	}
	// A cut path and a refused call teach nothing.
	cut := call{sys: "openat", ops: rd, targets: files("/srv/" + strings.Repeat("x", 200))}
	record = learn.AppendDecision(record, cut.event(t, makeVerdict(Allow, Allow, 0, -1)|Record), "ctr")
	refused := call{sys: "openat", ops: rd, targets: files("/etc/shadow")}
	record = learn.AppendDecision(record, refused.event(t, makeVerdict(Errno, Errno, 1, -1)|Record), "ctr")
	for _, line := range bytes.SplitAfter(record, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		d, err := ParseDecision(line)
		if err != nil {
			t.Fatal(err)
		}
		pr.ObserveDecision(&d)
	}
	p, err := pr.Policy(policy.Errno("EPERM"))
	if err != nil {
		t.Fatal(err)
	}
	text, _ := policy.Marshal(p)
	t.Logf("learned profile:\n%s", text)
	if q, err := policy.Parse("again", text); err != nil || !q.Equal(p) {
		t.Fatalf("learned profile does not round-trip: %v", err)
	}
	tab, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range learnWorkload {
		if v := c.decide(t, tab); v.Action() != Allow {
			t.Errorf("replay: %s %v %v = %v (rule %q)", c.sys, c.targets, c.addr, v, tab.RuleName(v.Rule()))
		}
	}
	allowed := []call{
		{sys: "openat", ops: rd, targets: files("/proc/456/status")},               // another PID
		{sys: "openat", ops: rd | wr | cr, targets: files("/tmp/tmpzz99/x")},       // another temporary name
		{sys: "unlink", ops: del, targets: files("/tmp/tmpzz99/x")},                //
		{sys: "openat", ops: wr | cr, targets: files("/var/log/app/access.log.1")}, // a rotated log
		{sys: "bind", sockType: unix.SOCK_STREAM, addr: addr(v4("0.0.0.0", 8080))}, // its port on any address
		{sys: "bind", sockType: unix.SOCK_STREAM, addr: addr(v6("::", 8080))},
		{sys: "connect", sockType: unix.SOCK_STREAM, addr: addr(policy.Addr{Family: unix.AF_UNIX, Unix: "x", Abstract: true})}, // abstract: no endpoint catch-all
		{sys: "bind", sockType: unix.SOCK_RAW, addr: addr(policy.Addr{Family: unix.AF_NETLINK})},                               // other families: likewise
	}
	for _, c := range allowed {
		if v := c.decide(t, tab); v.Action() != Allow {
			t.Errorf("generalized: %s %v %v = %v (rule %q)", c.sys, c.targets, c.addr, v, tab.RuleName(v.Rule()))
		}
	}
	for _, c := range []call{
		{sys: "execve", ops: ex, targets: []FileTarget{ftl("/bin/sh", "/usr/bin/dash")}},                                          // a new program
		{sys: "execve", ops: ex, targets: []FileTarget{ftl("/usr/bin/python3", "/tmp/evil")}},                                     // a known name leading elsewhere
		{sys: "openat", args: [6]uint64{atFDCWD, 0, unix.O_WRONLY | unix.O_CREAT}, ops: wr | cr, targets: files("/etc/app.conf")}, // a write under /etc
		{sys: "openat", ops: rd | wr, targets: files("/etc/ld.so.cache")},                                                         // read-only file opened for writing
		{sys: "openat", ops: rd, targets: files("/etc/shadow")},                                                                   // a new file; the refused read was not learned
		{sys: "openat", ops: rd, targets: []FileTarget{ftl("/tmp/l", "/etc/shadow")}},                                             // through a temporary symlink
		{sys: "rename", ops: ren | cr | del, targets: files("/tmp/evil", "/etc/passwd")},                                          // from /tmp into /etc
		{sys: "rename", ops: ren | cr | del, targets: files("/var/lib/app", "/var/lib/other")},                                    // the state directory itself
		{sys: "link", ops: cr | policy.OpLink, targets: files("/etc/ld.so.cache", "/tmp/x")},                                      // link: never seen
		{sys: "name_to_handle_at", ops: rd, targets: files("/etc/ld.so.cache")},                                                   // a path syscall never seen, on a learned path
		{sys: "openat", ops: rd, targets: files("/srv/" + strings.Repeat("x", 200))},                                              // cut when learning
		{sys: "connect", sockType: unix.SOCK_STREAM, addr: addr(v4("172.17.0.1", 40124))},                                         // a new port
		{sys: "connect", sockType: unix.SOCK_DGRAM, addr: addr(v4("172.17.0.1", 40123))},                                          // the learned port over udp
		{sys: "connect", sockType: unix.SOCK_STREAM, addr: addr(unixPath("/run/docker.sock"))},                                    // a new unix socket
		{sys: "sendto", sockType: unix.SOCK_DGRAM, addr: addr(v4("8.8.8.8", 53))},                                                 // another DNS server
		{sys: "bind", sockType: unix.SOCK_STREAM, addr: addr(v4("0.0.0.0", 22))},                                                  // another port
		{sys: "socket", args: [6]uint64{unix.AF_INET6, unix.SOCK_STREAM}},                                                         // a new family
		{sys: "clone", args: [6]uint64{unix.CLONE_NEWUSER}},                                                                       // a namespace
		{sys: "mkdir", ops: cr, targets: files("/etc/x")},                                                                         // a learned syscall, elsewhere
	} {
		if v := c.decide(t, tab); v.Action() == Allow {
			t.Errorf("new behaviour allowed: %s %v %v = %v (rule %q)", c.sys, c.targets, c.addr, v, tab.RuleName(v.Rule()))
		}
	}
}

func TestLearnedPath(t *testing.T) {
	for _, tc := range []struct {
		ops        policy.OpSet
		path, want string
	}{
		{rd, "/etc/hosts", "/etc/hosts"},
		{ex, "/usr/bin/app", "/usr/bin/app"},
		{rd | ex, "/usr/bin/app", "/usr/bin/app"},
		{wr, "/var/log/app/x.log", "/var/log/app/*"},
		{rd | wr, "/var/log/app/x.log", "/var/log/app/*"},
		{cr, "/var/log/app", "/var/log/*"},
		{wr, "/x", "/x"}, // directly under /: exact
		{rd, "/proc/123/status", "/proc/*/status"},
		{rd, "/proc/self/maps", "/proc/*/maps"},
		{rd, "/proc/thread-self/comm", "/proc/*/task/*/comm"},
		{rd, "/proc/123/task/124/stat", "/proc/*/task/*/stat"},
		{rd, "/proc/123", "/proc/*"},
		{rd, "/proc/self", "/proc/self"},
		{rd, "/proc/thread-self", "/proc/thread-self"},
		{rd, "/proc/meminfo", "/proc/meminfo"},
		{rd, "/proc/sys/kernel/hostname", "/proc/sys/kernel/hostname"},
		{wr, "/proc/123/attr/current", "/proc/*/attr/*"},
		{rd, "/tmp/abc", "/tmp/**"},
		{cr, "/tmp", "/tmp/**"},
		{rd, "/var/tmp/a/b", "/var/tmp/**"},
		{wr, "/dev/shm/sem.x", "/dev/shm/**"},
		{rd, "/run/nscd/socket", "/run/**"},
		{rd, "/tmpx/a", "/tmpx/a"},
		{rd, "pipe:[7]", "pipe:[7]"},
	} {
		if got := learnedPath(tc.ops, tc.path); got != tc.want {
			t.Errorf("learnedPath(%v, %q) = %q; want %q", tc.ops.Names(), tc.path, got, tc.want)
		}
	}
}

// TestProfileObserveOnly: paths, executables and endpoints observed
// without their syscalls (ObservePath, ObserveExec, ObserveNet alone) still
// make a profile that compiles.
func TestProfileObserveOnly(t *testing.T) {
	pr := NewProfile()
	pr.Observe(num(t, "openat"), &[6]uint64{})
	pr.ObservePath("read", "/etc/hosts")
	pr.ObserveExec("/usr/bin/app") // execve never observed
	pr.ObserveNet("bind", "tcp", "*:80")
	p, err := pr.Policy(policy.Kill)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	if v := (call{sys: "execve", ops: ex, targets: files("/bin/sh")}).decide(t, tab); v.Action() != KillProcess {
		t.Errorf("exec = %v", v)
	}
}

// FuzzProfileFromDecision: whatever a record line holds, the profile
// learned from it is a valid policy that compiles (Policy checks both).
func FuzzProfileFromDecision(f *testing.F) {
	f.Add(uint16(257), uint8(1), "/etc/hosts", "", "/usr/share/x", "connect", "tcp", "10.0.0.1:80")
	f.Add(uint16(59), uint8(16), "/usr/bin/app", "", "/usr/bin/app2", "", "", "")
	f.Add(uint16(49), uint8(0), "", "", "", "bind", "udp", "[::1]:53")
	f.Add(uint16(82), uint8(0xff), "/tmp/a", "/etc/passwd", "", "sendto", "raw", "unix:/run/x")
	f.Add(uint16(2), uint8(2), "/proc/self/fd/3", "", "pipe:[3]", "", "", "")
	f.Fuzz(func(t *testing.T, sysno uint16, ops uint8, path, path2, target, netOp, proto, endpoint string) {
		pr := NewProfile()
		d := Decision{Type: DecisionType, Sysno: uint32(sysno), Path: path, Path2: path2, Target: target,
			Ops: policy.OpSet(uint16(ops) << (sysno % 3)).Names(), Action: "allow"}
		if netOp != "" {
			d.Net = &NetDecision{Op: netOp, Protocol: proto, Endpoint: endpoint}
		}
		pr.ObserveDecision(&d)
		// A second, different call of the same kind.
		d.Sysno = uint32(sysno/2 + 1)
		pr.ObserveDecision(&d)
		if _, err := pr.Policy(policy.Errno("EPERM")); err != nil {
			t.Fatalf("%+v: %v", d, err)
		}
	})
}

// TestLearnsArguments: the syscalls whose arguments a profile learns are
// the ones learn mode records on every call, and the learned argument is
// the first, which the recorder's de-duplication relies on.
func TestLearnsArguments(t *testing.T) {
	for name, la := range learnedArgs {
		n, _ := Number(name)
		spec, ok := arg(name, la.arg)
		if !LearnsArguments(n) || !ok || spec.Index != 0 {
			t.Errorf("%s: LearnsArguments %v, argument %s at %d", name, LearnsArguments(n), la.arg, spec.Index)
		}
	}
	clone, _ := Number("clone")
	read, _ := Number("read")
	if !LearnsArguments(clone) || LearnsArguments(read) || LearnsArguments(100000) {
		t.Error("clone learns its flags; read and unknown numbers learn nothing")
	}
}
