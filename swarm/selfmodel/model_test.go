package selfmodel

import (
	"errors"
	"testing"
)

func TestModelWindows(t *testing.T) {
	m, err := NewModel(4)
	if err != nil {
		t.Fatal(err)
	}
	if n := m.Train([]uint16{1, 2, 3, 4, 5}); n != 5 {
		t.Fatalf("Train changed the model on %d windows, want 5", n)
	}
	// Pairs: 2:(1@1) 3:(2@1,1@2) 4:(3@1,2@2,1@3) 5:(4@1,3@2,2@3).
	if m.Pairs() != 9 || m.Syscalls() != 5 || m.Windows() != 5 || m.LastChange() != 5 {
		t.Fatalf("pairs %d syscalls %d windows %d last change %d", m.Pairs(), m.Syscalls(), m.Windows(), m.LastChange())
	}
	for _, tc := range []struct {
		w    []uint16
		want bool
	}{
		{[]uint16{2, 3, 4, 5}, true},
		{[]uint16{1, 2, 3, 4}, true},
		{[]uint16{9, 1, 2, 3, 4}, true}, // cut to the last K
		{[]uint16{3}, true},             // a task's first call
		{[]uint16{6}, false},            // never seen
		{[]uint16{2, 4, 5}, false},      // 2 two before 5: unknown
		{[]uint16{3, 4, 5}, true},
		{[]uint16{1, 3, 4}, false}, // 2, not 1, was two before 4
	} {
		if got := m.Contains(tc.w); got != tc.want {
			t.Errorf("Contains(%v) = %v, want %v", tc.w, got, tc.want)
		}
	}
	// Lookahead pairs generalize: a window whose every pair was seen in
	// some window is normal although the window itself never was.
	g, _ := NewModel(3)
	g.Train([]uint16{4, 2, 3}) // 2 right before 3
	g.Train([]uint16{1, 5, 3}) // 1 two before 3
	g.Train([]uint16{1, 2})    // 1 right before 2
	if !g.Contains([]uint16{1, 2, 3}) || g.Contains([]uint16{2, 5, 3}) {
		t.Error("pair semantics")
	}
	// Numbers past the table share its last slot.
	if sysIndex(10000) != NumSysno-1 || sysIndex(510) != 510 {
		t.Error("sysIndex")
	}
	if _, err := NewModel(1); !errors.Is(err, ErrK) {
		t.Error("NewModel(1)")
	}
}

func TestModelStable(t *testing.T) {
	m, _ := NewModel(6)
	trace := serverTrace(100)
	m.Train(trace)
	quiet := m.Windows() - m.LastChange()
	if quiet == 0 || !m.Stable(quiet) || m.Stable(quiet+1) {
		t.Fatalf("quiet for %d windows", quiet)
	}
	// Replaying adds windows, none new: the quiet period grows by them.
	m.Train(trace)
	if !m.Stable(quiet + uint64(len(trace))) {
		t.Error("replay did not lengthen the quiet period")
	}
	m.Add([]uint16{sDup2})
	if m.Stable(1) {
		t.Error("stable right after a change")
	}
}

func TestMerge(t *testing.T) {
	a, _ := NewModel(6)
	b, _ := NewModel(6)
	a.Train(append(append([]uint16(nil), startup...), repeat(loopFile, 10)...))
	b.Train(append(append([]uint16(nil), startup...), repeat(loopNotFound, 10)...))
	w := loopNotFound[1:]
	if a.Contains(w) || !b.Contains(w) {
		t.Fatal("setup")
	}
	wa, wb := a.Windows(), b.Windows()
	gained, err := a.Merge(b)
	if err != nil || gained == 0 {
		t.Fatalf("merge: %d, %v", gained, err)
	}
	// The last change is where b itself last changed, counted after a's
	// windows.
	if !a.Contains(w) || !a.Contains(loopFile[2:]) || a.Windows() != wa+wb || a.LastChange() != wa+b.LastChange() {
		t.Errorf("after merge: windows %d last change %d", a.Windows(), a.LastChange())
	}
	// Merging what is known gains nothing and lengthens the quiet period.
	last := a.LastChange()
	if gained, _ := a.Merge(b); gained != 0 || a.LastChange() != last || a.Windows() != wa+2*wb {
		t.Errorf("second merge gained %d", gained)
	}
	c, _ := NewModel(5)
	if _, err := a.Merge(c); !errors.Is(err, ErrK) {
		t.Errorf("merge of K 5 into K 6: %v", err)
	}
	// Merge of a clone is idempotent, and a clone is independent.
	cl := a.Clone()
	cl.Add([]uint16{sGetuid})
	if a.Contains([]uint16{sGetuid}) {
		t.Error("clone shares storage")
	}
}

func repeat(s []uint16, n int) []uint16 {
	var out []uint16
	for range n {
		out = append(out, s...)
	}
	return out
}
