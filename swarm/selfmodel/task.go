package selfmodel

import "strconv"

// Task is the detector's state for one task (a thread, or a thread group
// with Config.PerProcess): the last K-1 calls, the locality frame and
// counters. It is 104 bytes on 64-bit platforms; the novel windows of a
// task that had anomalies live in a separate buffer allocated at its first
// anomaly. Detector.Task returns copies; the fields are the detector's.
type Task struct {
	key uint64 // container<<32 | id
	// seen is the detector's clock (nanoseconds) at the task's last event.
	seen      int64
	windows   uint64 // windows of the task, learnt or scored
	anomalies uint64 // anomalous windows of the task
	// frame is the locality frame: bit i of the ring (word i/64) is set
	// when the window that filled position i was anomalous.
	frame [2]uint64
	novel *novel
	pid   int32
	// hist is a ring of the last n (at most K-1) calls; the call at
	// distance d before the next one is hist[(head-d)&histMask].
	hist  [histLen]uint16
	head  uint8
	n     uint8
	lfc   uint8 // bits set in frame
	pos   uint8 // next frame position, below Config.Frame
	flags uint8
}

// Task flags.
const (
	taskUsed uint8 = 1 << iota // the slot holds a task
	taskRef                    // the task had an event since the clock hand last passed
)

func taskKey(container uint32, id int32) uint64 {
	return uint64(container)<<32 | uint64(uint32(id))
}

// Container returns the task's container slot.
func (t *Task) Container() uint32 { return uint32(t.key >> 32) }

// ID returns the task's key within its container: its TID, or its PID
// with Config.PerProcess.
func (t *Task) ID() int32 { return int32(uint32(t.key)) }

// PID returns the task's thread group.
func (t *Task) PID() int32 { return t.pid }

// LFC returns the locality frame count: the number of anomalous windows
// among the task's last Config.Frame windows.
func (t *Task) LFC() int { return int(t.lfc) }

// Windows returns the number of windows of the task, learnt or scored.
func (t *Task) Windows() uint64 { return t.windows }

// Anomalies returns the number of anomalous windows of the task.
func (t *Task) Anomalies() uint64 { return t.anomalies }

// History returns the task's last calls (at most K-1), oldest first.
func (t *Task) History() []uint16 {
	h := make([]uint16, t.n)
	for i := range h {
		h[i] = t.hist[(int(t.head)-int(t.n)+i)&histMask]
	}
	return h
}

// Novel returns the task's kept anomalous windows, oldest first, each
// oldest call first.
func (t *Task) Novel() [][]uint16 {
	if t.novel == nil {
		return nil
	}
	var out [][]uint16
	t.novel.each(func(w []uint16) { out = append(out, append([]uint16(nil), w...)) })
	return out
}

// push appends cur to the task's history, keeping the last k-1 calls.
func (t *Task) push(cur uint16, k int) {
	t.hist[t.head] = cur
	t.head = (t.head + 1) & histMask
	if int(t.n) < k-1 {
		t.n++
	}
}

// mark shifts one window's anomaly bit into the locality frame of size
// frame.
func (t *Task) mark(anomalous bool, frame int) {
	w, b := &t.frame[t.pos>>6], uint64(1)<<(t.pos&63)
	if *w&b != 0 {
		t.lfc--
	}
	if anomalous {
		*w |= b
		t.lfc++
	} else {
		*w &^= b
	}
	t.pos++
	if int(t.pos) == frame {
		t.pos = 0
	}
}

// clearFrame forgets the task's recent anomalies.
func (t *Task) clearFrame() {
	t.frame = [2]uint64{}
	t.lfc = 0
}

// window writes the task's current window ending in cur into w (which
// has room for K calls), oldest first, and returns it.
func (t *Task) window(cur uint16, w []uint16) []uint16 {
	w = w[:0]
	for d := int(t.n); d >= 1; d-- {
		w = append(w, t.hist[(int(t.head)-d)&histMask])
	}
	return append(w, cur)
}

// novel is a task's bounded ring of distinct anomalous windows: slot i is
// w[i*(k+1)] = length, then the calls, oldest first.
type novel struct {
	k    int
	n    int // windows held
	next int // slot the next window goes to
	w    []uint16
}

func newNovel(k, keep int) *novel {
	return &novel{k: k, w: make([]uint16, keep*(k+1))}
}

func (b *novel) slots() int { return len(b.w) / (b.k + 1) }

func (b *novel) slot(i int) []uint16 {
	s := b.w[i*(b.k+1):]
	return s[1 : 1+int(s[0])]
}

// add keeps window w unless it is already held, dropping the oldest when
// full.
func (b *novel) add(w []uint16) {
	for i := range b.n {
		if equalWindows(b.slot(i), w) {
			return
		}
	}
	s := b.w[b.next*(b.k+1):]
	s[0] = uint16(len(w))
	copy(s[1:], w)
	b.next = (b.next + 1) % b.slots()
	if b.n < b.slots() {
		b.n++
	}
}

// each calls f on the held windows, oldest first.
func (b *novel) each(f func(w []uint16)) {
	first := 0
	if b.n == b.slots() {
		first = b.next
	}
	for i := range b.n {
		f(b.slot((first + i) % b.slots()))
	}
}

// last returns up to n of the most recent windows, formatted, oldest
// first.
func (b *novel) last(n int) []string {
	n = min(n, b.n)
	out := make([]string, 0, n)
	skip := b.n - n
	b.each(func(w []uint16) {
		if skip > 0 {
			skip--
			return
		}
		out = append(out, FormatWindow(w))
	})
	return out
}

func (b *novel) clone() *novel {
	c := *b
	c.w = append([]uint16(nil), b.w...)
	return &c
}

func equalWindows(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FormatWindow formats a window of syscall numbers, oldest first, as in
// Decision.Evidence: decimal numbers separated by commas ("41,42,33,59").
// The caller names them with its syscall table.
func FormatWindow(w []uint16) string {
	b := make([]byte, 0, 4*len(w))
	for i, s := range w {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(s), 10)
	}
	return string(b)
}

// ParseWindow parses a window formatted by FormatWindow.
func ParseWindow(s string) ([]uint16, error) {
	var w []uint16
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != ',' {
			i++
		}
		v, err := strconv.ParseUint(s[:i], 10, 16)
		if err != nil {
			return nil, err
		}
		w = append(w, uint16(v))
		if i == len(s) {
			break
		}
		s = s[i+1:]
		if s == "" {
			return nil, strconv.ErrSyntax
		}
	}
	return w, nil
}
