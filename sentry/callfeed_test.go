package sentry

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/sentry/arch"
	"gvisor.dev/gvisor/pkg/sentry/kernel"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/ring"
	"github.com/athenaos/athena/swarm/selfmodel"
)

// feedGate is a test gate with a call feed. The zero kernel.Task has
// goroutine ID 0, whose slot's zero ident matches it: the tests never
// reach fill, which needs a kernel.
func feedGate(t testing.TB, size int) (*SyscallGate, *ring.Ring[event.Call], *kernel.Task) {
	g, _ := newTestGate(t, testPolicy)
	calls, err := ring.New[event.Call](size)
	if err != nil {
		t.Fatal(err)
	}
	g.feed = newCallFeed(calls)
	return g, calls, new(kernel.Task)
}

func TestFeedPushesEveryCall(t *testing.T) {
	g, calls, task := feedGate(t, 16)
	var args arch.SyscallArguments
	for _, n := range []uintptr{unix.SYS_GETPPID, unix.SYS_READ, unix.SYS_KEXEC_LOAD} {
		g.check(task, n, &args, passthrough)
	}
	var got []uint16
	var c event.Call
	for calls.Pop(&c) {
		got = append(got, c.Sysno)
	}
	// The refused kexec_load is in the feed too: the app made it.
	if len(got) != 3 || got[0] != unix.SYS_GETPPID || got[2] != unix.SYS_KEXEC_LOAD {
		t.Fatalf("feed got %v", got)
	}
}

func TestFeedCarriesOutActions(t *testing.T) {
	g, _, task := feedGate(t, 1024)
	var args arch.SyscallArguments
	// A deny fails calls of the deny set and lets others run.
	g.feed.setAction(0, actDeny, uint64(unix.EPERM), time.Now().Add(time.Minute))
	if _, _, err := g.check(task, unix.SYS_CONNECT, &args, passthrough); err != linuxerr.EPERM {
		t.Errorf("connect under a deny: %v, want EPERM", err)
	}
	before := calls
	if _, _, err := g.check(task, unix.SYS_GETPPID, &args, passthrough); err != nil || calls != before+1 {
		t.Errorf("getppid under a deny: err %v, ran %v", err, calls == before+1)
	}
	// A lapsed action is cleared and the call runs.
	g.feed.setAction(0, actDeny, uint64(unix.EPERM), time.Now().Add(-time.Second))
	if _, _, err := g.check(task, unix.SYS_CONNECT, &args, passthrough); err != nil {
		t.Errorf("connect after the deny lapsed: %v", err)
	}
	if g.feed.slots[0].action.Load() != 0 {
		t.Error("a lapsed action was not cleared")
	}
	// An action tagged for another goroutine sharing the slot is ignored.
	g.feed.setAction(taskSlots, actDeny, uint64(unix.EPERM), time.Now().Add(time.Minute))
	if _, _, err := g.check(task, unix.SYS_CONNECT, &args, passthrough); err != nil {
		t.Errorf("another task's deny applied: %v", err)
	}
	g.feed.slots[0].action.Store(0)
	// Failing closed: the deny set is refused for every task.
	g.feed.closed.Store(true)
	if _, _, err := g.check(task, unix.SYS_EXECVE, &args, passthrough); err != linuxerr.EPERM {
		t.Errorf("execve with the swarm failed closed: %v", err)
	}
	if _, _, err := g.check(task, unix.SYS_GETPPID, &args, passthrough); err != nil {
		t.Errorf("getppid with the swarm failed closed: %v", err)
	}
}

func TestFeedDoesNotAllocate(t *testing.T) {
	g, calls, task := feedGate(t, 1<<10)
	var args arch.SyscallArguments
	var c event.Call
	if n := testing.AllocsPerRun(1000, func() {
		g.check(task, unix.SYS_GETPPID, &args, passthrough)
		calls.Pop(&c)
	}); n != 0 {
		t.Fatalf("gate with the call feed: %v allocs per call", n)
	}
}

// BenchmarkFeed is the hot path with the swarm on: the gate, the push
// into the call ring (drained by another goroutine, as in the sandbox)
// and the action check.
func BenchmarkFeed(b *testing.B) {
	g, calls, task := feedGate(b, CallRingSize)
	var args arch.SyscallArguments
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		buf := make([]event.Call, callBatch)
		for {
			select {
			case <-stop:
				close(done)
				return
			default:
			}
			if calls.Drain(buf) == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	b.Run("gated-allow-feed", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			g.check(task, unix.SYS_GETPPID, &args, passthrough)
		}
	})
	close(stop)
	<-done
	b.ReportMetric(float64(calls.Stats().Dropped), "dropped")
}

// BenchmarkDrain is the swarm's slow path per call as the sandbox runs
// it: pop from the call ring, both agents, the supervisor and the quorum,
// for a known task making normal calls. Its inverse is the calls one
// core drains per second.
func BenchmarkDrain(b *testing.B) {
	g, calls, _ := feedGate(b, CallRingSize)
	rec := NewRecorder("bench", g, g.events, NoLink(), "test.yaml", "")
	p, _ := policy.Parse("t.yaml", []byte("version: 1\nmode: enforce\ndefault: allow\n"))
	cfg, _ := NewSwarmConfig(p, nil, -1, OCIResources{})
	if err := rec.EnableSwarm(cfg); err != nil {
		b.Fatal(err)
	}
	loop := []uint16{232, 288, 233, 0, 257, 5, 40, 3, 1, 3, 232, 0, 1}
	b.ReportAllocs()
	b.ResetTimer()
	now := time.Now()
	for done := 0; done < b.N; {
		b.StopTimer()
		for i := 0; i < callBatch && done+i < b.N; i++ {
			calls.TryPush(&event.Call{Task: 1, TID: 7, PID: 7, Sysno: loop[(done+i)%len(loop)]})
		}
		b.StartTimer()
		done += rec.swarm.drain(now)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

// learntModel is a model of a loop of getppid, read and write.
func learntModel(t testing.TB) *selfmodel.Model {
	m, err := selfmodel.NewModel(selfmodel.DefaultK)
	if err != nil {
		t.Fatal(err)
	}
	var calls []uint16
	for range 50 {
		calls = append(calls, unix.SYS_GETPPID, unix.SYS_READ, unix.SYS_WRITE)
	}
	m.Train(calls)
	return m
}

func TestPrefilterPassesOnlyWhatTheDetectorNeeds(t *testing.T) {
	g, calls, task := feedGate(t, 1024)
	g.feed.publish(0, learntModel(t), selfmodel.DefaultFrame+selfmodel.DefaultK)
	var args arch.SyscallArguments
	run := func(nums ...uintptr) {
		for _, n := range nums {
			g.check(task, n, &args, passthrough)
		}
	}
	drain := func() []event.Call {
		var out []event.Call
		var c event.Call
		for calls.Pop(&c) {
			out = append(out, c)
		}
		return out
	}
	// The first windows are short: their pairs are known, so they are
	// normal; 60 calls of the learnt loop pass nothing.
	for range 20 {
		run(unix.SYS_GETPPID, unix.SYS_READ, unix.SYS_WRITE)
	}
	if got := drain(); len(got) != 0 {
		t.Fatalf("%d normal calls passed: %+v", len(got), got[0])
	}
	// A novel call passes, with the 60 skipped and the history.
	run(unix.SYS_GETUID)
	got := drain()
	if len(got) != 1 || got[0].Sysno != unix.SYS_GETUID || got[0].Skipped != 60 || got[0].HistN != selfmodel.DefaultK-1 {
		t.Fatalf("novel call: %+v", got)
	}
	// The calls after it pass, Frame+K of them, then skipping resumes.
	for range 20 {
		run(unix.SYS_GETPPID, unix.SYS_READ, unix.SYS_WRITE)
	}
	if got := drain(); len(got) < selfmodel.DefaultFrame || len(got) > 60 || got[len(got)-1].Skipped != 0 {
		t.Fatalf("%d calls passed after the novel one", len(got))
	}
	// Calls the rate detector counts, and exits, always pass; an exit
	// frees the slot's state.
	run(unix.SYS_OPENAT, unix.SYS_EXIT)
	if got := drain(); len(got) != 2 || got[0].Sysno != unix.SYS_OPENAT || got[1].Sysno != unix.SYS_EXIT {
		t.Fatalf("always-pass calls: %+v", got)
	}
	if g.feed.slots[0].owner.Load() != 0 {
		t.Fatal("the exited task still owns its slot's state")
	}
}

// With the sense of self off, only the calls the rate detector counts
// pass.
func TestPrefilterWithTheSenseOfSelfOff(t *testing.T) {
	g, calls, task := feedGate(t, 1024)
	g.feed.seqOff.Store(true)
	var args arch.SyscallArguments
	for _, n := range []uintptr{unix.SYS_GETPPID, unix.SYS_CLONE, unix.SYS_READ} {
		g.check(task, n, &args, passthrough)
	}
	var c event.Call
	if !calls.Pop(&c) || c.Sysno != unix.SYS_CLONE || calls.Pop(&c) {
		t.Fatalf("passed %+v", c)
	}
}

// BenchmarkFeedPrefiltered is the hot path with the swarm on and a learnt
// model: the gate, the window check, and (for normal calls) no push.
func BenchmarkFeedPrefiltered(b *testing.B) {
	g, _, task := feedGate(b, CallRingSize)
	g.feed.publish(0, learntModel(b), selfmodel.DefaultFrame+selfmodel.DefaultK)
	var args arch.SyscallArguments
	loop := []uintptr{unix.SYS_GETPPID, unix.SYS_READ, unix.SYS_WRITE}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		g.check(task, loop[i%3], &args, passthrough)
	}
}

// The memo answers for a loop's windows without the model, never for a
// window the model does not hold, and is dropped when a new model is
// published.
func TestPrefilterMemo(t *testing.T) {
	g, calls, task := feedGate(t, 1024)
	g.feed.publish(0, learntModel(t), selfmodel.DefaultFrame+selfmodel.DefaultK)
	var args arch.SyscallArguments
	for range 10 {
		for _, n := range []uintptr{unix.SYS_GETPPID, unix.SYS_READ, unix.SYS_WRITE} {
			g.check(task, n, &args, passthrough)
		}
	}
	s := &g.feed.slots[0]
	used := 0
	for _, m := range s.memo {
		if m != 0 {
			used++
		}
	}
	if used != 3 {
		t.Fatalf("memo holds %d windows, want the loop's 3", used)
	}
	// A read after a read never happened in the loop: novel, memo or not.
	g.check(task, unix.SYS_READ, &args, passthrough)
	g.check(task, unix.SYS_READ, &args, passthrough)
	var c event.Call
	n := 0
	for calls.Pop(&c) {
		n++
	}
	if n == 0 {
		t.Fatal("a novel window passed as normal")
	}
	g.feed.publish(0, learntModel(t), 0)
	g.check(task, unix.SYS_GETPPID, &args, passthrough)
	if s.gen != 1 || s.memo[1] != 0 {
		t.Fatalf("memo of generation %d kept after a new model: %x", s.gen, s.memo)
	}
}
