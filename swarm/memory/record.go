package memory

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"regexp"
	"time"
)

// Limits on a Record, checked by Put and Update before anything is written.
const (
	MaxKindLen   = 64
	MaxKeyLen    = 1024
	MaxSourceLen = 1024
	MaxDataLen   = 16 << 20
)

// Record is one piece of long memory: what was learned about one workload
// for one kind of model.
type Record struct {
	// Kind names what Data holds and which agent owns it, e.g. "profile"
	// or "selfmodel".
	Kind string
	// Key is the stable identity of the workload (e.g. an image digest),
	// computed by the caller; not a container ID.
	Key string
	// Data is the learned state, opaque to the store. List leaves it nil.
	Data []byte
	// Created is when the record was first written. The store keeps it
	// across Put and Update; on a new record a zero Created becomes Updated.
	Created time.Time
	// Updated is when the record was last written. A zero value (or, in
	// Update, the old record's value left unchanged) is set to the store's
	// clock.
	Updated time.Time
	// Runs counts the runs that contributed to Data; the caller maintains it.
	Runs int
	// Source says which run wrote the record last, e.g. its container ID.
	Source string
}

var kindRE = regexp.MustCompile(`^[a-z0-9._-]+$`)

func validKind(kind string) error {
	switch {
	case kind == "":
		return fmt.Errorf("memory: empty kind: %w", ErrInvalid)
	case len(kind) > MaxKindLen:
		return fmt.Errorf("memory: kind is %d bytes, limit %d: %w", len(kind), MaxKindLen, ErrInvalid)
	case !kindRE.MatchString(kind):
		return fmt.Errorf("memory: kind %q: only [a-z0-9._-] allowed: %w", kind, ErrInvalid)
	}
	return nil
}

func validKindKey(kind, key string) error {
	if err := validKind(kind); err != nil {
		return err
	}
	switch {
	case key == "":
		return fmt.Errorf("memory: kind %s: empty key: %w", kind, ErrInvalid)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("memory: kind %s: key is %d bytes, limit %d: %w", kind, len(key), MaxKeyLen, ErrInvalid)
	}
	return nil
}

// Nanoseconds since 1970 fit an int64 from 1677-09-21 to 2262-04-11; we
// keep to whole years inside that range.
var (
	minTime = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

func validTime(name string, t time.Time) error {
	if !t.IsZero() && (t.Before(minTime) || !t.Before(maxTime)) {
		return fmt.Errorf("memory: %s %v outside [1678, 2262): %w", name, t, ErrInvalid)
	}
	return nil
}

// validate checks r as Put would store it.
func (r *Record) validate() error {
	if err := validKindKey(r.Kind, r.Key); err != nil {
		return err
	}
	switch {
	case len(r.Data) > MaxDataLen:
		return fmt.Errorf("memory: %s/%s: data is %d bytes, limit %d: %w", r.Kind, r.Key, len(r.Data), MaxDataLen, ErrInvalid)
	case len(r.Source) > MaxSourceLen:
		return fmt.Errorf("memory: %s/%s: source is %d bytes, limit %d: %w", r.Kind, r.Key, len(r.Source), MaxSourceLen, ErrInvalid)
	case r.Runs < 0:
		return fmt.Errorf("memory: %s/%s: negative runs %d: %w", r.Kind, r.Key, r.Runs, ErrInvalid)
	}
	if err := validTime("created", r.Created); err != nil {
		return err
	}
	return validTime("updated", r.Updated)
}

// encodingV1 is the only value encoding this build writes and reads.
const encodingV1 = 1

// headerLenV1 is the fixed part of a version-1 value before Source.
const headerLenV1 = 1 + 8 + 8 + 8 + 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// encodeRecord returns r's value in encoding version 1, little-endian:
//
//	version   uint8 = 1
//	created   int64 nanoseconds since 1970 UTC (0: the zero time.Time)
//	updated   int64 as created
//	runs      uint64
//	sourceLen uint32, then Source
//	dataLen   uint32, then Data
//	crc       uint32 CRC-32C (Castagnoli) of all bytes above
//
// Kind and Key are not stored in the value: they are the bucket and the key.
//
// Preconditions: r.validate() == nil.
func encodeRecord(r *Record) []byte {
	b := make([]byte, 0, headerLenV1+len(r.Source)+4+len(r.Data)+4)
	b = append(b, encodingV1)
	b = binary.LittleEndian.AppendUint64(b, uint64(unixNano(r.Created)))
	b = binary.LittleEndian.AppendUint64(b, uint64(unixNano(r.Updated)))
	b = binary.LittleEndian.AppendUint64(b, uint64(r.Runs))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(r.Source)))
	b = append(b, r.Source...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(r.Data)))
	b = append(b, r.Data...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeRecord decodes a value written by encodeRecord. Data is copied
// (bbolt's memory is valid only inside its transaction) when withData is
// set and left nil otherwise; the checksum is verified either way.
func decodeRecord(kind, key string, v []byte, withData bool) (Record, error) {
	bad := func(format string, args ...any) (Record, error) {
		return Record{}, fmt.Errorf("memory: %s/%s: %s: %w", kind, key, fmt.Sprintf(format, args...), ErrCorrupt)
	}
	if len(v) == 0 {
		return bad("empty value")
	}
	if v[0] != encodingV1 {
		return Record{}, fmt.Errorf("memory: %s/%s: encoding version %d, this build reads version %d: %w", kind, key, v[0], encodingV1, ErrUnknownVersion)
	}
	if len(v) < headerLenV1+4+4 {
		return bad("value is %d bytes, shorter than any version-1 record", len(v))
	}
	body, sum := v[:len(v)-4], binary.LittleEndian.Uint32(v[len(v)-4:])
	if got := crc32.Checksum(body, castagnoli); got != sum {
		return bad("checksum %#08x, want %#08x", got, sum)
	}
	r := Record{
		Kind:    kind,
		Key:     key,
		Created: fromUnixNano(int64(binary.LittleEndian.Uint64(body[1:]))),
		Updated: fromUnixNano(int64(binary.LittleEndian.Uint64(body[9:]))),
	}
	runs := binary.LittleEndian.Uint64(body[17:])
	if runs > uint64(maxInt) {
		return bad("runs %d overflows int", runs)
	}
	r.Runs = int(runs)
	rest := body[25:]
	n := uint64(binary.LittleEndian.Uint32(rest))
	rest = rest[4:]
	if n > MaxSourceLen || n+4 > uint64(len(rest)) {
		return bad("source length %d does not fit", n)
	}
	r.Source = string(rest[:n])
	rest = rest[n:]
	n = uint64(binary.LittleEndian.Uint32(rest))
	rest = rest[4:]
	if n > MaxDataLen || n != uint64(len(rest)) {
		return bad("data length %d, %d bytes left", n, len(rest))
	}
	if withData {
		r.Data = append([]byte{}, rest...)
	}
	return r, nil
}

const maxInt = int(^uint(0) >> 1)

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
