package sentry

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/sentry/arch"
	"gvisor.dev/gvisor/pkg/sentry/kernel"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/ring"
	"github.com/athenaos/athena/syscalls"
)

const testPolicy = `version: 1
mode: enforce
default: allow
rules:
  - syscalls: [mkdir]
    action: errno(EPERM)
  - syscalls: [getpid]
    action: log
`

func newTestGate(t testing.TB, src string) (*SyscallGate, *ring.Ring[event.Event]) {
	p, err := policy.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	table, err := syscalls.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	events, err := ring.New[event.Event](4)
	if err != nil {
		t.Fatal(err)
	}
	g := newSyscallGate(events, new(GateStats))
	g.Publish("", table)
	return g, events
}

var calls int

func passthrough(*kernel.Task, uintptr, arch.SyscallArguments) (uintptr, *kernel.SyscallControl, error) {
	calls++
	return 42, nil, nil
}

// The allow and errno paths do not touch the task, so they can run without
// a kernel; the kill path and recording need a real task and are covered by
// the integration tests.
func TestCheckAllowAndErrno(t *testing.T) {
	g, _ := newTestGate(t, testPolicy)
	var args arch.SyscallArguments
	calls = 0
	if rv, ctl, err := g.check(nil, unix.SYS_GETPPID, &args, passthrough); rv != 42 || ctl != nil || err != nil || calls != 1 {
		t.Errorf("allowed call: %d %v %v (calls %d)", rv, ctl, err, calls)
	}
	if _, _, err := g.check(nil, unix.SYS_MKDIR, &args, passthrough); !errors.Is(err, linuxerr.EPERM) || calls != 1 {
		t.Errorf("denied call: err %v, implementation ran %d times", err, calls)
	}
	if got := g.stats.Denied.Load(); got != 1 {
		t.Errorf("Denied = %d", got)
	}
	// A new root policy applies from the next call.
	allowAll, err := syscalls.Compile(&policy.Policy{Version: 1, Default: policy.Allow})
	if err != nil {
		t.Fatal(err)
	}
	g.Publish("", allowAll)
	if _, _, err := g.check(nil, unix.SYS_MKDIR, &args, passthrough); err != nil || calls != 2 {
		t.Errorf("after publishing allow-all: %v", err)
	}
}

// TestPublishContainers: other containers of the sandbox get slots that
// stay put when their tables are replaced; the root is replaced in place.
func TestPublishContainers(t *testing.T) {
	g, _ := newTestGate(t, testPolicy)
	root := g.Table()
	a, _ := syscalls.Compile(policy.Default())
	b, _ := syscalls.Compile(policy.Default())
	g.Publish("pod-a", a)
	g.Publish("pod-b", b)
	g.Publish("pod-a", b)
	if tab, id := g.TableOf(1); tab != b || id != "pod-a" {
		t.Errorf("slot 1: %p %q", tab, id)
	}
	if tab, id := g.TableOf(2); tab != b || id != "pod-b" {
		t.Errorf("slot 2: %p %q", tab, id)
	}
	if tab, id := g.TableOf(0); tab != root || id != "" || g.Table() != root {
		t.Errorf("slot 0 is not the root")
	}
	if tab, _ := g.TableOf(9); tab != root {
		t.Errorf("an unknown slot must give the root's table")
	}
	// Without a task (as in these tests) the root's table decides.
	if tab, slot := g.tables.Load().forTask(nil); tab != root || slot != 0 {
		t.Errorf("forTask(nil) = %p, %d", tab, slot)
	}
}

// TestCheckDoesNotAllocate: the gate's common paths allocate nothing.
func TestCheckDoesNotAllocate(t *testing.T) {
	g, _ := newTestGate(t, testPolicy)
	var args arch.SyscallArguments
	for _, sysno := range []uintptr{unix.SYS_GETPPID, unix.SYS_MKDIR, 1000} {
		if n := testing.AllocsPerRun(1000, func() { g.check(nil, sysno, &args, passthrough) }); n != 0 {
			t.Errorf("syscall %d: %v allocations per call", sysno, n)
		}
	}
}

func BenchmarkSyscallPath(b *testing.B) {
	var args arch.SyscallArguments
	b.Run("ungated", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			passthrough(nil, unix.SYS_GETPPID, args)
		}
	})
	g, _ := newTestGate(b, testPolicy)
	b.Run("gated-allow", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			g.check(nil, unix.SYS_GETPPID, &args, passthrough)
		}
	})
	def, err := syscalls.Compile(policy.Default())
	if err != nil {
		b.Fatal(err)
	}
	g.Publish("", def)
	b.Run("gated-default-policy-clone-predicate", func(b *testing.B) {
		a := args
		a[0].Value = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			g.check(nil, unix.SYS_CLONE, &a, passthrough)
		}
	})
	b.Run("gated-errno", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			g.check(nil, unix.SYS_KEXEC_LOAD, &args, passthrough)
		}
	})
}

// TestCallsWaitForThePolicy: a call that comes before the sandbox has
// published its policy waits for it and is then decided by it.
func TestCallsWaitForThePolicy(t *testing.T) {
	events, _ := ring.New[event.Event](4)
	g := newSyscallGate(events, new(GateStats))
	done := make(chan error)
	go func() {
		var args arch.SyscallArguments
		_, _, err := g.check(nil, unix.SYS_MKDIR, &args, passthrough)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("a call ran before any policy was published (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	p, _ := policy.Parse("test.yaml", []byte(testPolicy))
	table, err := syscalls.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	g.Publish("", table)
	if err := <-done; !errors.Is(err, linuxerr.EPERM) {
		t.Errorf("the waiting mkdir must be decided by the published policy: %v", err)
	}
}
