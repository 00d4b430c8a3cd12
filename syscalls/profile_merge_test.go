package syscalls

import (
	"strings"
	"testing"

	"github.com/athenaos/athena/swarm/policy"
	"golang.org/x/sys/unix"
)

// observeRun feeds one run's worth of observations to a profile; the two
// runs overlap and each has something of its own.
func observeRun(t *testing.T, pr *Profile, run int) {
	t.Helper()
	obs := func(name string, args ...uint64) {
		var a [6]uint64
		copy(a[:], args)
		pr.Observe(num(t, name), &a)
	}
	obs("read")
	obs("openat")
	obs("clone", unix.CLONE_VM|unix.CLONE_THREAD)
	obs("socket", unix.AF_INET, unix.SOCK_STREAM)
	obs("execve")
	obs("connect")
	obs("bind")
	pr.ObservePath("read", "/etc/hosts")
	pr.ObserveExec("/bin/sh")
	pr.ObserveNet("connect", "tcp", "10.1.2.3:443")
	switch run {
	case 1:
		obs("write")
		obs("socket", unix.AF_UNIX, unix.SOCK_STREAM)
		pr.ObservePath("write", "/var/log/app/*")
		pr.ObserveExec("/usr/bin/app")
	case 2:
		obs("mkdirat")
		obs("clone", unix.CLONE_NEWNS)
		obs("personality", 0)
		pr.ObservePath("read,write", "/tmp/**")
		pr.ObserveNet("bind", "tcp", "*:8080")
		pr.ObserveNet("connect", "udp", "10.0.0.53:53")
	}
}

func TestProfileFromPolicyRoundTrips(t *testing.T) {
	for _, run := range []int{1, 2} {
		pr := NewProfile()
		observeRun(t, pr, run)
		want, err := pr.Policy(policy.Errno("EPERM"))
		if err != nil {
			t.Fatal(err)
		}
		back, err := ProfileFromPolicy(want)
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		got, err := back.Policy(want.Default)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equal(want) {
			a, _ := policy.Marshal(want)
			b, _ := policy.Marshal(got)
			t.Errorf("run %d: policy does not round-trip:\nwant\n%s\ngot\n%s", run, a, b)
		}
	}
}

// A stored profile plus a new run's observations is the profile of both
// runs observed together: learning merges as a union.
func TestProfileFromPolicyMergesAsUnion(t *testing.T) {
	first := NewProfile()
	observeRun(t, first, 1)
	stored, err := first.Policy(policy.Kill)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := ProfileFromPolicy(stored)
	if err != nil {
		t.Fatal(err)
	}
	observeRun(t, merged, 2)
	got, err := merged.Policy(stored.Default)
	if err != nil {
		t.Fatal(err)
	}
	both := NewProfile()
	observeRun(t, both, 1)
	observeRun(t, both, 2)
	want, err := both.Policy(policy.Kill)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(want) {
		a, _ := policy.Marshal(want)
		b, _ := policy.Marshal(got)
		t.Errorf("merge is not the union:\nwant\n%s\ngot\n%s", a, b)
	}
}

func TestProfileFromPolicyOverflowStaysOpen(t *testing.T) {
	pr := NewProfile()
	for fam := uint64(0); fam <= maxLearnedValues+1; fam++ {
		pr.Observe(num(t, "socket"), &[6]uint64{fam})
	}
	p, err := pr.Policy(policy.Errno("EPERM"))
	if err != nil {
		t.Fatal(err)
	}
	back, err := ProfileFromPolicy(p)
	if err != nil {
		t.Fatal(err)
	}
	back.Observe(num(t, "socket"), &[6]uint64{unix.AF_INET})
	q, _ := back.Policy(policy.Errno("EPERM"))
	if !q.Equal(p) {
		t.Error("an argument learned past its bound is constrained again after a merge")
	}
}

func TestProfileFromPolicyRefusesOtherPolicies(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"default allow", "version: 1\ndefault: allow\nrules: []\n", "default allow"},
		{"default log", "version: 1\ndefault: log\nrules: []\n", "default log"},
		{"class", "version: 1\ndefault: kill\nrules:\n  - name: files\n    class: file\n    action: allow\n", `rule "files": class file`},
		{"log rule", "version: 1\ndefault: kill\nrules:\n  - syscalls: [read]\n    action: log\n", `rule "#1": action log`},
		{"other args", "version: 1\ndefault: kill\nrules:\n  - syscalls: [clone]\n    args: {flags: {any_of: [CLONE_NEWUSER]}}\n    action: allow\n", "not of a learned shape"},
		{"exec allow", "version: 1\ndefault: kill\nrules:\n  - exec: [/bin/sh]\n    action: allow\n", "exec rule that allows"},
	} {
		p, err := policy.Parse(tc.name, []byte(tc.yaml))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, err = ProfileFromPolicy(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	// The built-in default policy is hand-written, not learned.
	if _, err := ProfileFromPolicy(policy.Default()); err == nil {
		t.Error("the default policy was taken for a learned profile")
	}
}

// Two stored policies merge as the union of what taught them (how the
// host merges a run's learned policy into a workload's).
func TestObservePolicyMergesTwoPolicies(t *testing.T) {
	var pols []*policy.Policy
	for _, run := range []int{1, 2} {
		pr := NewProfile()
		observeRun(t, pr, run)
		p, err := pr.Policy(policy.Errno("EACCES"))
		if err != nil {
			t.Fatal(err)
		}
		pols = append(pols, p)
	}
	merged, err := ProfileFromPolicy(pols[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := merged.ObservePolicy(pols[1]); err != nil {
		t.Fatal(err)
	}
	got, _ := merged.Policy(policy.Errno("EACCES"))
	both := NewProfile()
	observeRun(t, both, 1)
	observeRun(t, both, 2)
	want, _ := both.Policy(policy.Errno("EACCES"))
	if !got.Equal(want) {
		t.Error("two learned policies do not merge as the union")
	}
}
