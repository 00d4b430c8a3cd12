package memory

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The tests below re-execute the test binary as a helper process (as runc
// re-executes itself for init): helperEnv selects the helper's mode and
// helperPath the store.
const (
	helperEnv  = "ATHENA_MEMORY_HELPER"
	helperPath = "ATHENA_MEMORY_PATH"
	helperFrom = "ATHENA_MEMORY_FROM"
)

// TestHelperProcess is not a test: it is the body of the helper process
// and returns at once in a normal run.
//
//   - hold: open the store, write one record, print "ready", hold the
//     store until stdin closes, close it and exit.
//   - write: open the store and Put records "r<i>" for i = FROM, FROM+1, ...
//     with large checksummed values, printing "attempt i" before and
//     "committed i" after each Put, until killed.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	if err := helper(mode, os.Getenv(helperPath)); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

func helper(mode, path string) error {
	s, err := Open(path, Options{})
	if err != nil {
		return err
	}
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		out.Flush()
	}
	switch mode {
	case "hold":
		if err := s.Put(Record{Kind: "profile", Key: "held", Data: []byte("by child"), Source: "child"}); err != nil {
			return err
		}
		say("ready")
		io.Copy(io.Discard, os.Stdin) // until the parent closes our stdin
		return s.Close()
	case "write":
		from, err := strconv.Atoi(os.Getenv(helperFrom))
		if err != nil {
			return err
		}
		rng := rand.New(rand.NewSource(int64(from)))
		for i := from; ; i++ {
			say("attempt %d", i)
			if err := s.Put(Record{Kind: "selfmodel", Key: fmt.Sprintf("r%06d", i), Data: payload(rng, i), Runs: i, Source: "child"}); err != nil {
				return err
			}
			say("committed %d", i)
		}
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// payload returns 1 KiB to 1 MiB of data for record i, ending with the
// SHA-256 of everything before it (which starts with i).
func payload(rng *rand.Rand, i int) []byte {
	n := 1<<10 + rng.Intn(1<<20)
	b := make([]byte, n, n+sha256.Size)
	rng.Read(b)
	copy(b, fmt.Sprintf("%08d", i))
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

func checkPayload(r Record) error {
	if len(r.Data) < 8+sha256.Size {
		return fmt.Errorf("%s: %d bytes, too short", r.Key, len(r.Data))
	}
	body, sum := r.Data[:len(r.Data)-sha256.Size], r.Data[len(r.Data)-sha256.Size:]
	if got := sha256.Sum256(body); string(got[:]) != string(sum) {
		return fmt.Errorf("%s: payload checksum mismatch (%d bytes)", r.Key, len(r.Data))
	}
	if want := fmt.Sprintf("r%06d", r.Runs); r.Key != want || string(body[:8]) != fmt.Sprintf("%08d", r.Runs) {
		return fmt.Errorf("%s: holds run %d (%q)", r.Key, r.Runs, body[:8])
	}
	return nil
}

// startHelper starts the helper in mode on path and returns it with its
// stdin and a reader of its stdout.
func startHelper(t *testing.T, mode, path string, env ...string) (*exec.Cmd, io.WriteCloser, *bufio.Scanner) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), append([]string{helperEnv + "=" + mode, helperPath + "=" + path}, env...)...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, stdin, bufio.NewScanner(stdout)
}

// TestTwoProcesses: while a child holds the store, the parent's Open waits
// for its Timeout and fails with ErrLocked; once the child closes, the
// parent opens and sees what the child wrote.
func TestTwoProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memory.db")
	cmd, stdin, out := startHelper(t, "hold", path)
	if !out.Scan() || out.Text() != "ready" {
		t.Fatalf("helper did not get ready: %q %v", out.Text(), out.Err())
	}

	const timeout = 300 * time.Millisecond
	start := time.Now()
	s, err := Open(path, Options{Timeout: timeout})
	waited := time.Since(start)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded while another process holds the store")
	}
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open: %v, want ErrLocked naming the path", err)
	}
	if waited < timeout-50*time.Millisecond {
		t.Errorf("Open gave up after %v, want about %v", waited, timeout)
	}
	t.Logf("while held: %v (after %v)", err, waited.Round(time.Millisecond))
	if _, err := Open(path, Options{Timeout: timeout, ReadOnly: true}); !errors.Is(err, ErrLocked) {
		t.Fatalf("ReadOnly Open: %v, want ErrLocked", err)
	}

	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	s, err = Open(path, Options{Timeout: timeout})
	if err != nil {
		t.Fatalf("Open after the child closed: %v", err)
	}
	defer s.Close()
	if r, err := s.Get("profile", "held"); err != nil || string(r.Data) != "by child" {
		t.Fatalf("Get: %q, %v", r.Data, err)
	}
}

// TestKillMidWrite: a child writing large records in a loop is killed with
// SIGKILL at a random moment; the store must reopen cleanly, every record
// in it must be whole, and their number must lie between what the child
// reported committed and what it attempted. Each round continues on the
// file the previous kill left.
func TestKillMidWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and kills helper processes")
	}
	path := filepath.Join(t.TempDir(), "memory.db")
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	have := 0 // records in the store before the round
	for round := 0; round < 5; round++ {
		cmd, _, out := startHelper(t, "write", path, helperFrom+"="+strconv.Itoa(have))
		committed, attempted := have-1, have-1
		lines := make(chan string)
		go func() {
			defer close(lines)
			for out.Scan() {
				lines <- out.Text()
			}
		}()
		note := func(line string) {
			var n int
			switch {
			case sscan(line, "attempt %d", &n):
				attempted = n
			case sscan(line, "committed %d", &n):
				committed = n
			default:
				t.Errorf("helper said %q", line)
			}
		}
		// Wait for the first commit, so the file exists, then let the
		// child write for a random while.
		for committed < have {
			line, ok := <-lines
			if !ok {
				t.Fatalf("round %d: helper exited before its first commit", round)
			}
			note(line)
		}
		kill := time.After(time.Duration(20+rng.Intn(300)) * time.Millisecond)
	loop:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: helper exited on its own", round)
				}
				note(line)
			case <-kill:
				break loop
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for line := range lines { // what it said before it died
			note(line)
		}
		if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("round %d: helper exit %v, want killed", round, err)
		}

		s, err := Open(path, Options{Timeout: time.Second})
		if err != nil {
			t.Fatalf("round %d: Open after kill -9: %v", round, err)
		}
		rs, err := s.List("selfmodel")
		if err != nil {
			t.Fatalf("round %d: List: %v", round, err)
		}
		for i, r := range rs {
			if want := fmt.Sprintf("r%06d", i); r.Key != want {
				t.Fatalf("round %d: record %d is %s, want %s (a gap)", round, i, r.Key, want)
			}
			full, err := s.Get("selfmodel", r.Key)
			if err != nil {
				t.Fatalf("round %d: Get %s: %v", round, r.Key, err)
			}
			if err := checkPayload(full); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		n := len(rs)
		t.Logf("round %d: committed ≥ %d, attempted ≤ %d, found %d records", round, committed+1, attempted+1, n)
		if n < committed+1 || n > attempted+1 {
			t.Fatalf("round %d: %d records, want between %d committed and %d attempted", round, n, committed+1, attempted+1)
		}
		have = n
	}
}

func sscan(s, format string, n *int) bool {
	_, err := fmt.Sscanf(s, format, n)
	return err == nil
}
