package memory

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// fakeClock is a manual clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex
	// +checklocks:mu
	t time.Time
}

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
	return c
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openTest(t *testing.T) (*Store, *fakeClock) {
	t.Helper()
	clock := newFakeClock(time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC))
	s, err := Open(filepath.Join(t.TempDir(), "state", "memory.db"), Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, clock
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "memory.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	for p, want := range map[string]fs.FileMode{dir: 0o700 | fs.ModeDir, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		// The umask may only remove bits.
		if got := fi.Mode(); got&^want != 0 || got.IsDir() != want.IsDir() {
			t.Errorf("%s: mode %v, want at most %v", p, got, want)
		}
	}
}

func TestCRUD(t *testing.T) {
	s, clock := openTest(t)
	t0 := clock.Now()

	if _, err := s.Get("profile", "sha256:aa"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of missing record: %v, want ErrNotFound", err)
	}
	in := Record{Kind: "profile", Key: "sha256:aa", Data: []byte("allow read"), Runs: 1, Source: "c1"}
	if err := s.Put(in); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := s.Get("profile", "sha256:aa")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	want := in
	want.Created, want.Updated = t0, t0
	checkRecord(t, got, want, true)

	// Replace: Created is kept even if the caller passes another one;
	// Updated follows the clock.
	clock.Advance(time.Hour)
	in2 := Record{Kind: "profile", Key: "sha256:aa", Data: []byte("allow read, write"), Runs: 2, Source: "c2", Created: t0.Add(time.Minute)}
	if err := s.Put(in2); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err = s.Get("profile", "sha256:aa")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	want = in2
	want.Created, want.Updated = t0, t0.Add(time.Hour)
	checkRecord(t, got, want, true)

	// An Updated set by the caller is kept; the same key in another kind is
	// another record.
	at := time.Date(2031, 5, 6, 7, 8, 9, 10, time.FixedZone("x", 3600))
	if err := s.Put(Record{Kind: "selfmodel", Key: "sha256:aa", Data: nil, Updated: at}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err = s.Get("selfmodel", "sha256:aa")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	checkRecord(t, got, Record{Kind: "selfmodel", Key: "sha256:aa", Created: at, Updated: at}, true)

	if err := s.Delete("profile", "sha256:aa"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get("profile", "sha256:aa"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete("profile", "sha256:aa"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Delete: %v, want ErrNotFound", err)
	}
	if err := s.Delete("nokind", "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete in unknown kind: %v, want ErrNotFound", err)
	}
	if _, err := s.Get("selfmodel", "sha256:aa"); err != nil {
		t.Fatalf("other kind after Delete: %v", err)
	}
}

func checkRecord(t *testing.T, got, want Record, withData bool) {
	t.Helper()
	if got.Kind != want.Kind || got.Key != want.Key || got.Runs != want.Runs || got.Source != want.Source ||
		!got.Created.Equal(want.Created) || !got.Updated.Equal(want.Updated) {
		t.Errorf("record %+v\nwant %+v", got, want)
	}
	if withData && !bytes.Equal(got.Data, want.Data) {
		t.Errorf("%s/%s: data %q, want %q", got.Kind, got.Key, got.Data, want.Data)
	}
	if !withData && got.Data != nil {
		t.Errorf("%s/%s: data %q, want nil", got.Kind, got.Key, got.Data)
	}
}

func TestListSortedWithoutData(t *testing.T) {
	s, _ := openTest(t)
	if rs, err := s.List("profile"); err != nil || len(rs) != 0 {
		t.Fatalf("List of empty store: %v, %v", rs, err)
	}
	keys := []string{"sha256:cc", "sha256:aa", "B", "sha256:bb", "a"}
	for i, k := range keys {
		if err := s.Put(Record{Kind: "profile", Key: k, Data: []byte(k), Runs: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(Record{Kind: "selfmodel", Key: "zz", Data: []byte("m")}); err != nil {
		t.Fatal(err)
	}
	rs, err := s.List("profile")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.Key)
		if r.Kind != "profile" || r.Data != nil || r.Created.IsZero() {
			t.Errorf("List record %+v: want kind profile, no data, a Created", r)
		}
	}
	if want := "B a sha256:aa sha256:bb sha256:cc"; strings.Join(got, " ") != want {
		t.Errorf("List keys %q, want %q", got, want)
	}
}

func TestUpdate(t *testing.T) {
	s, clock := openTest(t)
	t0 := clock.Now()
	merge := func(old *Record) (*Record, error) {
		if old == nil {
			return &Record{Data: []byte("run"), Runs: 1}, nil
		}
		old.Data = append(old.Data, "+run"...)
		old.Runs++
		return old, nil
	}
	for i := 0; i < 3; i++ {
		if err := s.Update("profile", "img", merge); err != nil {
			t.Fatalf("Update %d: %v", i, err)
		}
		clock.Advance(time.Second)
	}
	got, err := s.Get("profile", "img")
	if err != nil {
		t.Fatal(err)
	}
	// fn returned old with its Updated unchanged: the store's clock wins.
	checkRecord(t, got, Record{Kind: "profile", Key: "img", Data: []byte("run+run+run"), Runs: 3,
		Created: t0, Updated: t0.Add(2 * time.Second)}, true)

	// A nil record changes nothing.
	if err := s.Update("profile", "img", func(*Record) (*Record, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Update("profile", "absent", func(old *Record) (*Record, error) {
		if old != nil {
			t.Errorf("old = %+v, want nil", old)
		}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("profile", "absent"); !errors.Is(err, ErrNotFound) {
		t.Errorf("nil record created something: %v", err)
	}

	// A failing fn changes nothing, even after mutating old.
	boom := errors.New("boom")
	err = s.Update("profile", "img", func(old *Record) (*Record, error) {
		old.Data[0] = 'X'
		old.Runs = 99
		return old, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update: %v, want boom", err)
	}
	// Moving the record to another key is refused, and changes nothing.
	err = s.Update("profile", "img", func(old *Record) (*Record, error) {
		old.Key = "other"
		return old, nil
	})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Update moving key: %v, want ErrInvalid", err)
	}
	// So is a record over the limits.
	err = s.Update("profile", "img", func(old *Record) (*Record, error) {
		old.Runs = -1
		return old, nil
	})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("Update with bad record: %v, want ErrInvalid", err)
	}
	after, err := s.Get("profile", "img")
	if err != nil {
		t.Fatal(err)
	}
	checkRecord(t, after, got, true)
	if _, err := s.Get("profile", "other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("refused move wrote the target: %v", err)
	}
}

// TestUpdateConcurrent: read-modify-write from many goroutines loses no
// increment.
func TestUpdateConcurrent(t *testing.T) {
	s, _ := openTest(t)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := s.Update("selfmodel", "img", func(old *Record) (*Record, error) {
					if old == nil {
						old = &Record{}
					}
					old.Runs++
					return old, nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := s.List("selfmodel"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	r, err := s.Get("selfmodel", "img")
	if err != nil {
		t.Fatal(err)
	}
	if r.Runs != workers*each {
		t.Errorf("Runs = %d, want %d", r.Runs, workers*each)
	}
}

func TestBadInputs(t *testing.T) {
	s, _ := openTest(t)
	ok := Record{Kind: "profile", Key: "k"}
	long := func(n int) string { return strings.Repeat("x", n) }
	for _, tc := range []struct {
		name string
		edit func(*Record)
	}{
		{"empty kind", func(r *Record) { r.Kind = "" }},
		{"empty key", func(r *Record) { r.Key = "" }},
		{"kind charset", func(r *Record) { r.Kind = "Profile" }},
		{"kind with slash", func(r *Record) { r.Kind = "a/b" }},
		{"long kind", func(r *Record) { r.Kind = long(MaxKindLen + 1) }},
		{"long key", func(r *Record) { r.Key = long(MaxKeyLen + 1) }},
		{"long source", func(r *Record) { r.Source = long(MaxSourceLen + 1) }},
		{"big data", func(r *Record) { r.Data = make([]byte, MaxDataLen+1) }},
		{"negative runs", func(r *Record) { r.Runs = -1 }},
		{"time too early", func(r *Record) { r.Updated = time.Date(1600, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"time too late", func(r *Record) { r.Created = time.Date(2262, 6, 1, 0, 0, 0, 0, time.UTC) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.edit(&r)
			if err := s.Put(r); !errors.Is(err, ErrInvalid) {
				t.Errorf("Put: %v, want ErrInvalid", err)
			}
		})
	}
	for _, kk := range [][2]string{{"", "k"}, {"profile", ""}, {"Bad", "k"}, {"profile", long(MaxKeyLen + 1)}} {
		if _, err := s.Get(kk[0], kk[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("Get(%.10q, %.10q): %v, want ErrInvalid", kk[0], kk[1], err)
		}
		if err := s.Delete(kk[0], kk[1]); !errors.Is(err, ErrInvalid) {
			t.Errorf("Delete(%.10q, %.10q): %v, want ErrInvalid", kk[0], kk[1], err)
		}
		if err := s.Update(kk[0], kk[1], func(*Record) (*Record, error) { return nil, nil }); !errors.Is(err, ErrInvalid) {
			t.Errorf("Update(%.10q, %.10q): %v, want ErrInvalid", kk[0], kk[1], err)
		}
	}
	if _, err := s.List(""); !errors.Is(err, ErrInvalid) {
		t.Errorf("List(\"\"): %v, want ErrInvalid", err)
	}
	// At the limits is fine.
	max := Record{Kind: long(MaxKindLen), Key: long(MaxKeyLen), Source: long(MaxSourceLen), Data: make([]byte, MaxDataLen)}
	if err := s.Put(max); err != nil {
		t.Fatalf("Put at the limits: %v", err)
	}
	if r, err := s.Get(max.Kind, max.Key); err != nil || len(r.Data) != MaxDataLen {
		t.Fatalf("Get at the limits: %d bytes, %v", len(r.Data), err)
	}
	if rs, err := s.List("profile"); err != nil || len(rs) != 0 {
		t.Errorf("invalid Puts wrote something: %v, %v", rs, err)
	}
	if _, err := Open("", Options{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Open(\"\"): %v, want ErrInvalid", err)
	}
}

// putRaw stores v as the value of kind/key, bypassing the encoding.
func putRaw(t *testing.T, s *Store, kind, key string, v []byte) {
	t.Helper()
	err := s.db.Update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(rootBucket)
		if err != nil {
			return err
		}
		b, err := root.CreateBucketIfNotExists([]byte(kind))
		if err != nil {
			return err
		}
		return b.Put([]byte(key), v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEncoding(t *testing.T) {
	s, _ := openTest(t)
	if err := s.Put(Record{Kind: "profile", Key: "good", Data: []byte("data"), Runs: 7, Source: "c"}); err != nil {
		t.Fatal(err)
	}
	var good []byte
	if err := s.db.View(func(tx *bolt.Tx) error {
		good = append(good, kindBucket(tx, "profile").get("good")...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if good[0] != encodingV1 {
		t.Fatalf("version byte %d, want %d", good[0], encodingV1)
	}
	future := append([]byte{}, good...)
	future[0] = 2
	putRaw(t, s, "profile", "future", future)
	if _, err := s.Get("profile", "future"); !errors.Is(err, ErrUnknownVersion) || !strings.Contains(err.Error(), "version 2") {
		t.Errorf("Get of version 2: %v, want ErrUnknownVersion naming the version", err)
	}
	if err := s.Update("profile", "future", func(*Record) (*Record, error) {
		t.Error("fn called with an unreadable record")
		return nil, nil
	}); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("Update of version 2: %v, want ErrUnknownVersion", err)
	}
	if err := s.Put(Record{Kind: "profile", Key: "future"}); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("Put over version 2: %v, want ErrUnknownVersion", err)
	}
	if _, err := s.List("profile"); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("List with a version 2 record: %v, want ErrUnknownVersion", err)
	}
	if err := s.Delete("profile", "future"); err != nil {
		t.Errorf("Delete of version 2: %v", err)
	}

	// Flip every byte in turn and cut the value at every length: always
	// an error, never a wrong record.
	for i := range good {
		bad := append([]byte{}, good...)
		bad[i] ^= 0x40
		if _, err := decodeRecord("profile", "k", bad, true); err == nil {
			t.Errorf("flipped byte %d: decoded", i)
		}
	}
	for n := 0; n < len(good); n++ {
		if _, err := decodeRecord("profile", "k", good[:n], true); !errors.Is(err, ErrCorrupt) {
			t.Errorf("cut at %d: %v, want ErrCorrupt", n, err)
		}
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(encodeRecord(&Record{Kind: "k", Key: "k", Data: []byte("d"), Source: "s", Runs: 1}))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, v []byte) {
		r, err := decodeRecord("k", "k", v, true)
		if err != nil {
			return
		}
		if got := encodeRecord(&r); !bytes.Equal(got, v) {
			t.Errorf("re-encoding differs:\n%x\n%x", got, v)
		}
	})
}

func TestReadOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "memory.db")
	if _, err := Open(path, Options{ReadOnly: true}); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("ReadOnly Open of missing file: %v, want fs.ErrNotExist", err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(Record{Kind: "profile", Key: "k", Data: []byte("d")}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Readers share the lock.
	r1, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	r2, err := Open(path, Options{ReadOnly: true, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("second reader: %v", err)
	}
	defer r2.Close()
	if r, err := r2.Get("profile", "k"); err != nil || string(r.Data) != "d" {
		t.Errorf("Get: %q, %v", r.Data, err)
	}
	if err := r1.Put(Record{Kind: "profile", Key: "k2"}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Put: %v, want ErrReadOnly", err)
	}
	if err := r1.Update("profile", "k", func(o *Record) (*Record, error) { return o, nil }); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Update: %v, want ErrReadOnly", err)
	}
	if err := r1.Delete("profile", "k"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Delete: %v, want ErrReadOnly", err)
	}
	// A writer waits for the readers.
	if _, err := Open(path, Options{Timeout: 100 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Errorf("writer beside readers: %v, want ErrLocked", err)
	}
}

func TestClosed(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "memory.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Get("profile", "k"); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Get after Close: %v, want a closed error", err)
	}
	if err := s.Put(Record{Kind: "profile", Key: "k"}); err == nil {
		t.Error("Put after Close succeeded")
	}
}

func ExampleStore_Update() {
	dir, _ := os.MkdirTemp("", "memory")
	defer os.RemoveAll(dir)
	s, err := Open(filepath.Join(dir, "memory.db"), Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	// Each run of the image merges what it learned into the profile.
	for _, run := range []string{"container-1", "container-2"} {
		err := s.Update("profile", "sha256:1234", func(old *Record) (*Record, error) {
			if old == nil {
				old = &Record{}
			}
			old.Data = append(old.Data, "learned;"...)
			old.Runs++
			old.Source = run
			return old, nil
		})
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	r, _ := s.Get("profile", "sha256:1234")
	fmt.Printf("%s runs=%d last=%s\n", r.Data, r.Runs, r.Source)
	// Output: learned;learned; runs=2 last=container-2
}
