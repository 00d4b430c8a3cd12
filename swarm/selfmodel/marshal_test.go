package selfmodel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
)

func trainedModel(t testing.TB) *Model {
	m, err := NewModel(6)
	if err != nil {
		t.Fatal(err)
	}
	m.Train(serverTrace(200))
	m.Train(shell)
	m.Add([]uint16{600, 1}) // a number past the table
	return m
}

func TestMarshalRoundTrip(t *testing.T) {
	m := trainedModel(t)
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var got Model
	if err := got.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if got.K() != m.K() || got.Pairs() != m.Pairs() || got.Syscalls() != m.Syscalls() ||
		got.Windows() != m.Windows() || got.LastChange() != m.LastChange() {
		t.Fatalf("decoded %d pairs %d syscalls, want %d %d", got.Pairs(), got.Syscalls(), m.Pairs(), m.Syscalls())
	}
	for i := range shell {
		w := shell[max(0, i-5) : i+1]
		if !got.Contains(w) {
			t.Errorf("decoded model misses %v", w)
		}
	}
	if got.Contains([]uint16{sDup2, sGetuid}) {
		t.Error("decoded model has an unknown window")
	}
	b2, _ := got.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Error("encoding is not canonical")
	}
	t.Logf("model: %d syscalls, %d pairs, %d bytes in memory, %d bytes encoded", m.Syscalls(), m.Pairs(), m.Bytes(), len(b))
}

// reseal recomputes the checksum of an edited encoding.
func reseal(b []byte) []byte {
	n := len(b) - crcLen
	binary.LittleEndian.PutUint32(b[n:], crc32.Checksum(b[:n], castagnoli))
	return b
}

func TestUnmarshalRejects(t *testing.T) {
	good, _ := trainedModel(t).MarshalBinary()
	edit := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"short", good[:10], ErrCorrupt},
		{"magic", edit(func(b []byte) []byte { b[0] = 'X'; return b }), ErrCorrupt},
		{"version", edit(func(b []byte) []byte { b[4] = 2; return reseal(b) }), ErrVersion},
		{"version unsealed", edit(func(b []byte) []byte { b[4] = 0; return b }), ErrVersion},
		{"flipped bit", edit(func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }), ErrCorrupt},
		{"truncated", edit(func(b []byte) []byte { return reseal(b[:len(b)-9]) }), ErrCorrupt},
		{"trailing", edit(func(b []byte) []byte {
			b = append(b[:len(b)-crcLen], 0, 0, 0, 0, 0)
			return reseal(b)
		}), ErrCorrupt},
		{"K", edit(func(b []byte) []byte { b[5] = 40; return reseal(b) }), ErrCorrupt},
		{"last change", edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[16:], 1<<62)
			return reseal(b)
		}), ErrCorrupt},
		{"rows", edit(func(b []byte) []byte {
			binary.LittleEndian.PutUint16(b[6:], binary.LittleEndian.Uint16(b[6:])+1)
			return reseal(b)
		}), ErrCorrupt},
	} {
		m := trainedModel(t)
		pairs := m.Pairs()
		if err := m.UnmarshalBinary(tc.data); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if m.Pairs() != pairs {
			t.Errorf("%s: model changed on error", tc.name)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	good, _ := trainedModel(f).MarshalBinary()
	f.Add(good, false)
	small, _ := NewModel(2)
	small.Add([]uint16{1, 2})
	b, _ := small.MarshalBinary()
	f.Add(b, true)
	f.Fuzz(func(t *testing.T, data []byte, seal bool) {
		// Sealed inputs carry a valid checksum, so the fuzzer reaches the
		// decoder behind it.
		if seal && len(data) >= headerLen+crcLen {
			data = reseal(append([]byte(nil), data...))
		}
		var m Model
		if m.UnmarshalBinary(data) != nil {
			return
		}
		again, err := m.MarshalBinary()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted a non-canonical encoding")
		}
	})
}
