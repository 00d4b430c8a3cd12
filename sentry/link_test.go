package sentry

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/syscalls"
)

// testLink makes a link's files in a temporary directory and opens them.
func testLink(t *testing.T, maxBytes int64) (*Link, LinkFiles) {
	t.Helper()
	dir := t.TempDir()
	files := LinkFiles{Events: filepath.Join(dir, "ev.jsonl"), Status: filepath.Join(dir, "st.json"), Control: filepath.Join(dir, "ctl.fifo")}
	for _, f := range []string{files.Events, files.Status} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mkfifo(files.Control, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := OpenLink(files, maxBytes)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l, files
}

func TestLinkSizeBoundCountsLost(t *testing.T) {
	l, files := testLink(t, 100)
	l.WriteRecords([]byte(`{"a":1}`+"\n"+`{"a":2}`+"\n"), 2)
	l.WriteRecords(bytes.Repeat([]byte("x"), 200), 3) // past the bound
	if l.Written.Load() != 2 || l.Lost.Load() != 3 {
		t.Fatalf("written %d lost %d, want 2 and 3", l.Written.Load(), l.Lost.Load())
	}
	data, _ := os.ReadFile(files.Events)
	if string(data) != "{\"a\":1}\n{\"a\":2}\n" {
		t.Errorf("record %q", data)
	}
}

func TestLinkReportsLostOnceWritingWorks(t *testing.T) {
	l, files := testLink(t, 1<<20)
	saved := l.events
	l.events = -1 // a dead descriptor: every write fails (EBADF)
	l.WriteRecords([]byte("{}\n{}\n"), 2)
	l.events = saved
	l.WriteRecords([]byte(`{"b":1}`+"\n"), 1)
	data, _ := os.ReadFile(files.Events)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"type":"lost"`) || !strings.Contains(lines[0], `"records":2`) || lines[1] != `{"b":1}` {
		t.Errorf("record %q", data)
	}
}

func TestNoLinkLosesAndCounts(t *testing.T) {
	l := NoLink()
	l.WriteRecords([]byte("{}\n"), 1)
	l.WriteStatus(&Status{})
	if l.Lost.Load() != 1 {
		t.Errorf("lost %d", l.Lost.Load())
	}
}

func TestStatusRewrittenInPlace(t *testing.T) {
	l, files := testLink(t, 1<<20)
	l.WriteStatus(&Status{Container: strings.Repeat("long", 20)})
	l.WriteStatus(&Status{Container: "c"})
	data, _ := os.ReadFile(files.Status)
	if !bytes.HasPrefix(data, []byte(`{"container":"c",`)) || bytes.Count(data, []byte("\n")) != 1 {
		t.Errorf("status %q", data)
	}
}

func TestPolicyMessages(t *testing.T) {
	good := EncodePolicyMessage("c1", "/etc/p y.yaml", []byte("version: 1\n"), OCIResources{})
	bad := []byte("athena-policy 5 " + strings.Repeat("0", 64) + " c1 \"x\"\nhello")
	junk := []byte("garbage line\n")
	long := append(bytes.Repeat([]byte("y"), 5000), '\n')
	in := &lineReader{r: bytes.NewReader(bytes.Join([][]byte{junk, long, bad, good}, nil))}

	if _, err := readPolicyMessage(in); !errors.Is(err, errBadMessage) {
		t.Errorf("junk: %v", err)
	}
	if _, err := readPolicyMessage(in); !errors.Is(err, errBadMessage) {
		t.Errorf("over-long line: %v", err)
	}
	if m, err := readPolicyMessage(in); err == nil || m.digest == "" {
		t.Errorf("digest mismatch must be an error naming the digest: %v", err)
	}
	m, err := readPolicyMessage(in)
	if err != nil || string(m.data) != "version: 1\n" || m.digest != PolicyDigest(m.data) || m.name != "/etc/p y.yaml" || m.container != "c1" {
		t.Errorf("good message: %+v %v", m, err)
	}
}

// TestFoldRepeatedRefusals: the first refusal is written at once, repeats
// within the window are folded, and the window's close writes one record
// counting them.
func TestFoldRepeatedRefusals(t *testing.T) {
	r := &Recorder{folds: map[string]*folding{}}
	ev := func(at int64, comm string) *event.Event {
		e := &event.Event{Time: at, Sysno: 83, Verdict: uint64(syscalls.Verdict(syscalls.Errno))}
		e.SetComm(comm)
		return e
	}
	const s = int64(1e9)
	if f, folded := r.fold(ev(0, "mkdir")); f != nil || folded {
		t.Fatal("the first refusal is written, with nothing to flush")
	}
	for i := int64(1); i <= 5; i++ {
		if f, folded := r.fold(ev(i*s/10, "mkdir")); f != nil || !folded {
			t.Fatalf("repeat %d not folded", i)
		}
	}
	if _, folded := r.fold(ev(s/2, "sh")); folded { // another command: its own window
		t.Fatal("a different command folded into mkdir's window")
	}
	if out := r.expiredFolds(s / 2); len(out) != 0 {
		t.Fatalf("windows closed early: %d", len(out))
	}
	// A refusal after the window: the folded ones are flushed first.
	f, folded := r.fold(ev(s+1, "mkdir"))
	if f == nil || f.Repeats != 5 || f.Time != 5*s/10 || folded {
		t.Fatalf("flush %+v, folded %v", f, folded)
	}
	// Closing every window: mkdir's new one has nothing folded, sh's
	// neither.
	if out := r.expiredFolds(10 * s); len(out) != 0 || len(r.folds) != 0 {
		t.Fatalf("expired: %d records, %d windows left", len(out), len(r.folds))
	}
}
