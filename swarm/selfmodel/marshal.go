package selfmodel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
)

// Binary format of a Model, version 1 (all integers little-endian):
//
//	magic      4 bytes "ASLF"
//	version    1 byte  (1)
//	k          1 byte  (MinK..MaxK)
//	rows       uint16  (number of rows, at most NumSysno)
//	windows    uint64
//	lastChange uint64  (at most windows)
//	rows times, in increasing syscall order:
//	  sysno    uint16  (below NumSysno)
//	  k-1 times, one per distance 1..k-1:
//	    mask   1 byte  (bit i: word i of the distance's bit set is not zero)
//	    words  8 bytes per bit of mask, each not zero
//	crc        uint32  CRC-32C of everything before it
//
// The encoding is canonical: a model has exactly one, and Unmarshal
// accepts nothing else.
const (
	formatMagic   = "ASLF"
	formatVersion = 1
	headerLen     = 4 + 1 + 1 + 2 + 8 + 8
	crcLen        = 4
)

// Errors of UnmarshalBinary.
var (
	// ErrVersion: the buffer is a model of another format version.
	ErrVersion = errors.New("selfmodel: unknown model format version")
	// ErrCorrupt: the buffer is not a well-formed model (bad magic,
	// checksum, length or field).
	ErrCorrupt = errors.New("selfmodel: corrupt model")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// MarshalBinary encodes the model (encoding.BinaryMarshaler).
func (m *Model) MarshalBinary() ([]byte, error) {
	return m.AppendBinary(make([]byte, 0, headerLen+crcLen+m.Syscalls()*(2+(m.k-1)*(1+16))))
}

// AppendBinary appends the model's encoding to b (encoding.BinaryAppender).
func (m *Model) AppendBinary(b []byte) ([]byte, error) {
	start := len(b)
	b = append(b, formatMagic...)
	b = append(b, formatVersion, byte(m.k))
	b = binary.LittleEndian.AppendUint16(b, uint16(m.Syscalls()))
	b = binary.LittleEndian.AppendUint64(b, m.windows)
	b = binary.LittleEndian.AppendUint64(b, m.lastChange)
	for s, r := range m.row {
		if r == 0 {
			continue
		}
		b = binary.LittleEndian.AppendUint16(b, uint16(s))
		row := m.bits[int(r-1)*m.stride : int(r)*m.stride]
		for d := 0; d < m.k-1; d++ {
			set := row[d*setWords : (d+1)*setWords]
			var mask byte
			for i, w := range set {
				if w != 0 {
					mask |= 1 << i
				}
			}
			b = append(b, mask)
			for _, w := range set {
				if w != 0 {
					b = binary.LittleEndian.AppendUint64(b, w)
				}
			}
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli)), nil
}

// UnmarshalBinary replaces the model by the one encoded in data
// (encoding.BinaryUnmarshaler). It returns an error wrapping ErrVersion
// when the version byte is not one this package reads, and ErrCorrupt for
// any other defect; m is unchanged on error.
func (m *Model) UnmarshalBinary(data []byte) error {
	if len(data) < headerLen+crcLen || string(data[:4]) != formatMagic {
		return fmt.Errorf("unmarshal model: bad header: %w", ErrCorrupt)
	}
	if data[4] != formatVersion {
		return fmt.Errorf("unmarshal model: version %d, want %d: %w", data[4], formatVersion, ErrVersion)
	}
	body := data[:len(data)-crcLen]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(data[len(body):]) {
		return fmt.Errorf("unmarshal model: checksum mismatch: %w", ErrCorrupt)
	}
	k := int(data[5])
	n, err := NewModel(k)
	if err != nil {
		return fmt.Errorf("unmarshal model: %w: %w", ErrCorrupt, err)
	}
	rows := int(binary.LittleEndian.Uint16(data[6:]))
	n.windows = binary.LittleEndian.Uint64(data[8:])
	n.lastChange = binary.LittleEndian.Uint64(data[16:])
	if rows > NumSysno || n.lastChange > n.windows {
		return fmt.Errorf("unmarshal model: bad counts: %w", ErrCorrupt)
	}
	p := body[headerLen:]
	n.bits = make([]uint64, 0, rows*n.stride)
	prevSys := -1
	for range rows {
		if len(p) < 2 {
			return fmt.Errorf("unmarshal model: short row: %w", ErrCorrupt)
		}
		s := int(binary.LittleEndian.Uint16(p))
		p = p[2:]
		if s <= prevSys || s >= NumSysno {
			return fmt.Errorf("unmarshal model: syscall %d out of order: %w", s, ErrCorrupt)
		}
		prevSys = s
		base, _ := n.ensureRow(uint16(s))
		for d := 0; d < k-1; d++ {
			if len(p) < 1 {
				return fmt.Errorf("unmarshal model: short row: %w", ErrCorrupt)
			}
			mask := p[0]
			p = p[1:]
			if len(p) < 8*bits.OnesCount8(mask) {
				return fmt.Errorf("unmarshal model: short row: %w", ErrCorrupt)
			}
			for i := range setWords {
				if mask&(1<<i) == 0 {
					continue
				}
				w := binary.LittleEndian.Uint64(p)
				p = p[8:]
				if w == 0 {
					return fmt.Errorf("unmarshal model: zero word: %w", ErrCorrupt)
				}
				n.bits[base+d*setWords+i] = w
				n.pairs += bits.OnesCount64(w)
			}
		}
	}
	if len(p) != 0 {
		return fmt.Errorf("unmarshal model: %d trailing bytes: %w", len(p), ErrCorrupt)
	}
	*m = *n
	return nil
}
