package memory

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Errors returned by the Store, wrapped with context; match them with
// errors.Is.
var (
	// ErrNotFound: no record of that kind and key.
	ErrNotFound = errors.New("record not found")
	// ErrInvalid: a kind, key or record breaks the package's limits.
	ErrInvalid = errors.New("invalid record")
	// ErrLocked: another process held the store for longer than
	// Options.Timeout.
	ErrLocked = errors.New("store locked by another process")
	// ErrReadOnly: a write on a Store opened with Options.ReadOnly.
	ErrReadOnly = errors.New("store opened read-only")
	// ErrUnknownVersion: a stored value's encoding version is newer (or
	// other) than this build understands.
	ErrUnknownVersion = errors.New("unknown record encoding version")
	// ErrCorrupt: a stored value fails its checksum or does not parse.
	ErrCorrupt = errors.New("corrupt record")
)

// DefaultTimeout is how long Open waits for another process's lock when
// Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Options configure Open.
type Options struct {
	// Timeout bounds how long Open waits for the file lock held by another
	// process; zero means DefaultTimeout. A negative value tries once.
	Timeout time.Duration
	// ReadOnly opens the file for reading under a shared lock, so several
	// readers may hold it at once (but no writer). The file must exist.
	ReadOnly bool
	// Now is the clock that fills in Updated; nil means time.Now.
	Now func() time.Time
}

// Store is an open long-memory database. It is safe for concurrent use by
// several goroutines; between processes it holds the file's lock until
// Close (see the package comment, "Concurrency").
type Store struct {
	db   *bolt.DB
	path string
	now  func() time.Time
}

// rootBucket holds one nested bucket per kind.
var rootBucket = []byte("athena.memory.v1")

// Open opens the store at path, creating it (file mode 0600, missing parent
// directories 0700) unless opts.ReadOnly.
//
// Errors: ErrLocked (wrapped) when another process holds the file for
// longer than opts.Timeout; a wrapped fs.ErrNotExist when opts.ReadOnly and
// the file does not exist; bbolt's error when the file is not a bbolt
// database.
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("memory: open: empty path: %w", ErrInvalid)
	}
	timeout := opts.Timeout
	switch {
	case timeout == 0:
		timeout = DefaultTimeout
	case timeout < 0:
		timeout = time.Nanosecond // bbolt: 0 would wait forever
	}
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("memory: open %s: %w", path, err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, ReadOnly: opts.ReadOnly})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("memory: open %s: waited up to %v: %w", path, timeout, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("memory: open %s: %w", path, err)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Store{db: db, path: path, now: now}, nil
}

// Close releases the file and its lock. Calling Close again is a no-op.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("memory: close %s: %w", s.path, err)
	}
	return nil
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// Get returns the record of that kind and key, with a copy of its Data.
//
// Errors: ErrNotFound, ErrInvalid (bad kind or key), ErrUnknownVersion,
// ErrCorrupt.
func (s *Store) Get(kind, key string) (Record, error) {
	if err := validKindKey(kind, key); err != nil {
		return Record{}, err
	}
	var r Record
	err := s.db.View(func(tx *bolt.Tx) error {
		v := kindBucket(tx, kind).get(key)
		if v == nil {
			return fmt.Errorf("memory: %s/%s: %w", kind, key, ErrNotFound)
		}
		var err error
		r, err = decodeRecord(kind, key, v, true)
		return err
	})
	return r, s.wrap(err)
}

// List returns the records of one kind without their Data, sorted by key
// (byte order). An unknown kind has no records. A record that fails to
// decode fails the whole List.
func (s *Store) List(kind string) ([]Record, error) {
	if err := validKind(kind); err != nil {
		return nil, err
	}
	var rs []Record
	err := s.db.View(func(tx *bolt.Tx) error {
		b := kindBucket(tx, kind)
		if b.b == nil {
			return nil
		}
		return b.b.ForEach(func(k, v []byte) error {
			if v == nil {
				return nil // a nested bucket; this package makes none
			}
			r, err := decodeRecord(kind, string(k), v, false)
			rs = append(rs, r)
			return err
		})
	})
	if err != nil {
		return nil, s.wrap(err)
	}
	return rs, nil
}

// Put inserts or replaces the record r.Kind/r.Key. When the record exists
// its Created is kept; otherwise a zero Created becomes Updated. A zero
// Updated becomes the store's clock. Put returns once the record is on
// disk.
//
// Errors: ErrInvalid, ErrReadOnly; ErrUnknownVersion or ErrCorrupt when
// the existing record cannot be read (Delete removes it).
func (s *Store) Put(r Record) error {
	if err := r.validate(); err != nil {
		return err
	}
	return s.wrap(s.db.Update(func(tx *bolt.Tx) error {
		old, err := getRaw(tx, r.Kind, r.Key, false)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return s.putTx(tx, old, &r)
	}))
}

// Update reads, modifies and writes the record kind/key in one transaction,
// so no other writer (goroutine or process) interleaves: this is how a run
// merges what it learned into what earlier runs left.
//
// fn receives a copy of the current record, or nil if there is none, and
// returns the record to store (it may modify and return old). Returning a
// nil record with a nil error leaves the store unchanged; returning an
// error aborts, changes nothing, and Update returns that error (wrapped).
// The returned record's Kind and Key, when set, must equal kind and key.
// Created is kept as in Put; Updated becomes the store's clock when zero
// or still equal to the old record's.
//
// Errors: those of fn, ErrInvalid, ErrReadOnly, ErrUnknownVersion and
// ErrCorrupt (an unreadable old record is not passed to fn).
func (s *Store) Update(kind, key string, fn func(old *Record) (*Record, error)) error {
	if err := validKindKey(kind, key); err != nil {
		return err
	}
	return s.wrap(s.db.Update(func(tx *bolt.Tx) error {
		old, err := getRaw(tx, kind, key, true)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		var arg *Record
		if old != nil {
			c := *old
			arg = &c
		}
		r, err := fn(arg)
		if err != nil {
			return fmt.Errorf("memory: update %s/%s: %w", kind, key, err)
		}
		if r == nil {
			return nil
		}
		n := *r
		if n.Kind == "" {
			n.Kind = kind
		}
		if n.Key == "" {
			n.Key = key
		}
		if n.Kind != kind || n.Key != key {
			return fmt.Errorf("memory: update %s/%s: fn returned record %s/%s: %w", kind, key, n.Kind, n.Key, ErrInvalid)
		}
		if old != nil && n.Updated.Equal(old.Updated) {
			n.Updated = time.Time{}
		}
		if err := n.validate(); err != nil {
			return err
		}
		return s.putTx(tx, old, &n)
	}))
}

// Delete removes the record kind/key, even one that cannot be decoded.
//
// Errors: ErrNotFound, ErrInvalid, ErrReadOnly.
func (s *Store) Delete(kind, key string) error {
	if err := validKindKey(kind, key); err != nil {
		return err
	}
	return s.wrap(s.db.Update(func(tx *bolt.Tx) error {
		b := kindBucket(tx, kind)
		if b.get(key) == nil {
			return fmt.Errorf("memory: %s/%s: %w", kind, key, ErrNotFound)
		}
		return b.b.Delete([]byte(key))
	}))
}

// putTx writes r (validated) over old (nil if absent) inside tx.
func (s *Store) putTx(tx *bolt.Tx, old, r *Record) error {
	if r.Updated.IsZero() {
		r.Updated = s.now()
		if err := validTime("updated", r.Updated); err != nil {
			return err
		}
	}
	switch {
	case old != nil:
		r.Created = old.Created
	case r.Created.IsZero():
		r.Created = r.Updated
	}
	root, err := tx.CreateBucketIfNotExists(rootBucket)
	if err != nil {
		return err
	}
	b, err := root.CreateBucketIfNotExists([]byte(r.Kind))
	if err != nil {
		return err
	}
	return b.Put([]byte(r.Key), encodeRecord(r))
}

// getRaw reads kind/key inside tx, with a copy of Data if withData. It
// returns (nil, ErrNotFound) when absent.
func getRaw(tx *bolt.Tx, kind, key string, withData bool) (*Record, error) {
	v := kindBucket(tx, kind).get(key)
	if v == nil {
		return nil, ErrNotFound
	}
	r, err := decodeRecord(kind, key, v, withData)
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// bucket is a kind's bucket, nil when it does not exist yet.
type bucket struct{ b *bolt.Bucket }

func kindBucket(tx *bolt.Tx, kind string) bucket {
	root := tx.Bucket(rootBucket)
	if root == nil {
		return bucket{}
	}
	return bucket{root.Bucket([]byte(kind))}
}

func (b bucket) get(key string) []byte {
	if b.b == nil {
		return nil
	}
	return b.b.Get([]byte(key))
}

// wrap turns bbolt's errors into this package's.
func (s *Store) wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bolt.ErrDatabaseReadOnly), errors.Is(err, bolt.ErrTxNotWritable):
		return fmt.Errorf("memory: %s: %w", s.path, ErrReadOnly)
	case errors.Is(err, bolt.ErrDatabaseNotOpen):
		return fmt.Errorf("memory: %s: store is closed: %w", s.path, err)
	}
	return err
}
