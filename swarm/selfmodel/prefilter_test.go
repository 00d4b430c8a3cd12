package selfmodel

import (
	"testing"

	"github.com/athenaos/athena/swarm/event"
)

// The prefilter's contract: a detector given only the calls a sentry's
// prefilter passes (novel windows and what follows them), with Resync
// for the gaps, decides as one given every call.
func TestPrefilteredFeedDecidesTheSame(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Mode = ModeEnforce
	full, filtered := learned(t, cfg), learned(t, cfg)
	published := filtered.Model().Clone()
	trace := append(serverTrace(30), shell...)
	trace = append(trace, serverTrace(30)[len(startup):]...)
	var ring Ring
	var skipped uint64
	hot := 0
	var fullOut, filtOut int
	for i, s := range trace {
		ev := event.Event{Kind: event.KindSyscall, Container: testContainer, PID: 7, TID: 7, Sysno: uint32(s), Time: int64(i)}
		fullOut += len(full.Handle(&ev, nil))
		cur := SysIndex(uint32(s))
		normal := published.NormalAfter(&ring, cur)
		if !normal {
			hot = cfg.Frame + cfg.K
		}
		if normal && hot == 0 {
			skipped++
		} else {
			if hot > 0 && normal {
				hot--
			}
			filtered.Resync(testContainer, 7, 7, &ring, skipped)
			skipped = 0
			filtOut += len(filtered.Handle(&ev, nil))
		}
		ring.Push(cur, cfg.K)
	}
	filtered.Resync(testContainer, 7, 7, &ring, skipped) // the gap up to the next pushed call
	if fullOut == 0 || fullOut != filtOut {
		t.Fatalf("decisions: every call %d, prefiltered %d", fullOut, filtOut)
	}
	ft, _ := full.Task(testContainer, 7)
	pt, _ := filtered.Task(testContainer, 7)
	if ft.LFC() != pt.LFC() || ft.Windows() != pt.Windows() || ft.Anomalies() != pt.Anomalies() {
		t.Fatalf("task state differs: every call lfc %d windows %d anomalies %d; prefiltered %d %d %d",
			ft.LFC(), ft.Windows(), ft.Anomalies(), pt.LFC(), pt.Windows(), pt.Anomalies())
	}
}

// In learn mode skipped windows count as training windows that changed
// nothing: the stability rule sees them.
func TestResyncCountsTrainingWindows(t *testing.T) {
	d := learned(t, DefaultConfig())
	before := d.Model().Windows()
	var r Ring
	d.Resync(testContainer, 9, 9, &r, 1000)
	if got := d.Model().Windows(); got != before+1000 {
		t.Fatalf("model windows %d, want %d", got, before+1000)
	}
	if d.Model().LastChange() > before {
		t.Fatal("skipped windows changed the model")
	}
}

func TestNormalAfterDoesNotAllocate(t *testing.T) {
	d := learned(t, DefaultConfig())
	m := d.Model()
	var r Ring
	for _, s := range loopKeepAlive {
		r.Push(SysIndex(uint32(s)), DefaultK)
	}
	if n := testing.AllocsPerRun(100, func() { m.NormalAfter(&r, sRead) }); n != 0 {
		t.Fatalf("%v allocs", n)
	}
}
