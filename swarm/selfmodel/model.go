package selfmodel

import (
	"errors"
	"fmt"
	"math/bits"
)

// Window and table sizes.
const (
	// NumSysno is how many syscall numbers the model tells apart. Numbers
	// from NumSysno-1 up all share the last slot ("other"); amd64 and
	// arm64 number their calls below 470, so in practice nothing shares it.
	NumSysno = 512
	// MinK and MaxK bound the window length K.
	MinK = 2
	MaxK = 16
	// DefaultK is Forrest et al.'s window length (see the package doc).
	DefaultK = 6
)

const (
	// setWords is the number of words in the bit set of previous calls
	// seen at one distance before one current call.
	setWords = NumSysno / 64
	// histLen is the size of a task's history ring; MaxK-1 entries are
	// ever read, and a power of two makes the ring index a mask.
	histLen  = 16
	histMask = histLen - 1
	// maxStride is the number of words of one row at K = MaxK.
	maxStride = (MaxK - 1) * setWords
)

// zeroRow is appended to grow a model by one row without allocating a
// temporary.
var zeroRow [maxStride]uint64

// Errors of Model.
var (
	// ErrK: a window length is out of range, or two models to be merged
	// have different window lengths.
	ErrK = errors.New("selfmodel: window length")
)

// sysIndex folds a syscall number into the model's range.
func sysIndex(n uint32) uint16 {
	if n >= NumSysno-1 {
		return NumSysno - 1
	}
	return uint16(n)
}

// Model is the normal behaviour of one workload, shared by all its tasks:
// the lookahead pairs of every syscall window of length K seen while
// learning (Somayaji and Forrest's pH). Pair (s, d, p) says that call p
// was seen d positions before call s, for d in 1..K-1; a window is normal
// when all its K-1 pairs are known and its current call has been seen.
//
// Storage: a row per distinct current syscall, holding K-1 bit sets of
// NumSysno bits (one per distance, bit p set when pair (s, d, p) is
// known), in one flat pointer-free []uint64; row[s] holds 1 + s's row
// number, 0 when s was never seen. A row costs (K-1)*64 bytes (320 at
// K = 6), the index 1 KiB, so a model is 1 KiB + rows*(K-1)*64 bytes: at
// most 161 KiB at K = 6 (all 512 calls), about 26 KiB for a program that
// makes 80 distinct calls.
//
// A Model is not safe for concurrent use; the Detector that owns it is
// driven by one goroutine.
type Model struct {
	k      int
	stride int // words per row: (k-1)*setWords
	// row maps a syscall to 1 + its row number; 0: never seen as the
	// current call of a window.
	row  [NumSysno]uint16
	bits []uint64
	// pairs is the number of bits set in bits.
	pairs int
	// windows counts the training windows seen (Add, learning, Merge,
	// Tolerize); lastChange is windows when a pair or row was last added.
	windows    uint64
	lastChange uint64
}

// NewModel returns an empty model of windows of length k (MinK..MaxK).
func NewModel(k int) (*Model, error) {
	if k < MinK || k > MaxK {
		return nil, fmt.Errorf("new model: K %d not in [%d, %d]: %w", k, MinK, MaxK, ErrK)
	}
	return &Model{k: k, stride: (k - 1) * setWords}, nil
}

// K returns the window length.
func (m *Model) K() int { return m.k }

// Windows returns the number of training windows the model has seen.
func (m *Model) Windows() uint64 { return m.windows }

// LastChange returns Windows() as it was when the model last gained a pair
// or a syscall.
func (m *Model) LastChange() uint64 { return m.lastChange }

// Stable reports whether the model has seen at least after training
// windows since it last changed (and so at least after windows in all).
// This is the package's single stability rule; see the package doc.
func (m *Model) Stable(after uint64) bool { return m.windows-m.lastChange >= after }

// Pairs returns the number of known lookahead pairs.
func (m *Model) Pairs() int { return m.pairs }

// Syscalls returns the number of distinct syscalls seen as the current
// call of a window.
func (m *Model) Syscalls() int { return len(m.bits) / m.stride }

// Bytes returns the memory the model holds, in bytes (the index, the rows'
// capacity and the header).
func (m *Model) Bytes() int { return 2*NumSysno + 8*cap(m.bits) + 64 }

// Clone returns a deep copy of m, with no spare capacity.
func (m *Model) Clone() *Model {
	c := *m
	c.bits = append([]uint64(nil), m.bits...)
	return &c
}

// Add learns one window: w holds up to K syscall numbers, oldest first,
// the window's current call last (a window shorter than K is the start of
// a task). Longer windows are cut to their last K calls. It counts as one
// training window and reports whether the model changed.
func (m *Model) Add(w []uint16) bool {
	if len(w) == 0 {
		return false
	}
	if len(w) > m.k {
		w = w[len(w)-m.k:]
	}
	cur := sysIndex(uint32(w[len(w)-1]))
	base, changed := m.ensureRow(cur)
	for d := 1; d < len(w); d++ {
		prev := sysIndex(uint32(w[len(w)-1-d]))
		if m.set(base, d, prev) {
			changed = true
		}
	}
	m.count(changed)
	return changed
}

// Train learns every window of one task's sequence of calls, from its
// start, as a Detector in learn mode would; it returns the number of
// windows that changed the model.
func (m *Model) Train(calls []uint16) int {
	n := 0
	for i := range calls {
		if m.Add(calls[max(0, i+1-m.k) : i+1]) {
			n++
		}
	}
	return n
}

// Contains reports whether window w (as for Add) is normal: its current
// call has been seen and every one of its lookahead pairs is known.
func (m *Model) Contains(w []uint16) bool {
	if len(w) == 0 {
		return true
	}
	if len(w) > m.k {
		w = w[len(w)-m.k:]
	}
	r := m.row[sysIndex(uint32(w[len(w)-1]))]
	if r == 0 {
		return false
	}
	base := int(r-1) * m.stride
	for d := 1; d < len(w); d++ {
		if !m.has(base, d, sysIndex(uint32(w[len(w)-1-d]))) {
			return false
		}
	}
	return true
}

// Merge adds other's pairs and training windows to m (accepting another
// run's model). It returns the number of pairs m gained. m's quiet period
// (Windows - LastChange) grows by other's windows when m gains nothing and
// restarts otherwise.
func (m *Model) Merge(other *Model) (int, error) {
	if other.k != m.k {
		return 0, fmt.Errorf("merge: K %d into K %d: %w", other.k, m.k, ErrK)
	}
	gained := 0
	newRow := false
	for s := range other.row {
		r := other.row[s]
		if r == 0 {
			continue
		}
		src := other.bits[int(r-1)*m.stride : int(r)*m.stride]
		base, created := m.ensureRow(uint16(s))
		newRow = newRow || created
		dst := m.bits[base : base+m.stride]
		for i, w := range src {
			add := w &^ dst[i]
			if add != 0 {
				dst[i] |= add
				gained += bits.OnesCount64(add)
			}
		}
	}
	m.pairs += gained
	before := m.windows
	m.windows += other.windows
	if gained > 0 || newRow {
		// The merged windows are other's, in order: the last change
		// they bring is where other itself last changed, not the end of
		// its windows (a long run that learnt one pair early on must
		// not reset the stability count to its end).
		m.lastChange = max(m.lastChange, before+min(other.lastChange, other.windows))
	}
	return gained, nil
}

// count records one training window.
func (m *Model) count(changed bool) {
	m.windows++
	if changed {
		m.lastChange = m.windows
	}
}

// ensureRow returns the offset of cur's row, adding an empty one if cur
// was never seen (the only allocation of learning, amortized by append).
func (m *Model) ensureRow(cur uint16) (base int, created bool) {
	if r := m.row[cur]; r != 0 {
		return int(r-1) * m.stride, false
	}
	base = len(m.bits)
	m.bits = append(m.bits, zeroRow[:m.stride]...)
	m.row[cur] = uint16(base/m.stride + 1)
	return base, true
}

// has reports whether pair (current of row base, d, prev) is known.
func (m *Model) has(base, d int, prev uint16) bool {
	return m.bits[base+(d-1)*setWords+int(prev>>6)]&(1<<(prev&63)) != 0
}

// set adds pair (current of row base, d, prev) and reports whether it is
// new.
func (m *Model) set(base, d int, prev uint16) bool {
	w := &m.bits[base+(d-1)*setWords+int(prev>>6)]
	b := uint64(1) << (prev & 63)
	if *w&b != 0 {
		return false
	}
	*w |= b
	m.pairs++
	return true
}

// normal reports whether the window ending in cur, whose n previous calls
// are in h before head, is normal. It does not allocate.
func (m *Model) normal(cur uint16, h *[histLen]uint16, head, n uint8) bool {
	r := m.row[cur]
	if r == 0 {
		return false
	}
	base := int(r-1) * m.stride
	for d := 1; d <= int(n); d++ {
		if !m.has(base, d, h[(int(head)-d)&histMask]) {
			return false
		}
	}
	return true
}

// learn adds the window ending in cur (as for normal) as a training
// window and reports whether the model changed. It allocates only when cur
// was never seen.
func (m *Model) learn(cur uint16, h *[histLen]uint16, head, n uint8) bool {
	base, changed := m.ensureRow(cur)
	for d := 1; d <= int(n); d++ {
		if m.set(base, d, h[(int(head)-d)&histMask]) {
			changed = true
		}
	}
	m.count(changed)
	return changed
}
