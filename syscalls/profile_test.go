package syscalls

import (
	"testing"

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
