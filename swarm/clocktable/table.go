package clocktable

import "unsafe"

// Table maps keys to states of type S, holding at most its maximum.
type Table[S any] struct {
	entries []entry[S]
	// marks holds each slot's markUsed and markRef bits, beside the
	// entries rather than in them so that an entry is its key and state
	// only (no padding for two flags).
	marks   []uint8
	index   map[uint64]int32
	free    []int32
	hand    int32
	max     int
	evicted uint64
}

// entry is one slot of the table: a state and its key.
type entry[S any] struct {
	key uint64
	val S
}

// Marks: markUsed says the slot holds a key; markRef that the key was
// looked up since the clock hand last passed (its second chance).
const (
	markUsed uint8 = 1 << iota
	markRef
)

// EntryBytes returns the memory one entry of a Table[S] takes, its map
// entry aside.
func EntryBytes[S any]() uintptr { return unsafe.Sizeof(entry[S]{}) + 1 }

// New returns an empty table of at most max entries (max >= 1).
func New[S any](max int) *Table[S] {
	return &Table[S]{index: map[uint64]int32{}, max: max}
}

// Lookup returns the state of key, adding a zero state if key is new
// (then added is true); a full table first evicts the entry the clock
// hand finds unreferenced. Looking a key up marks it referenced.
func (t *Table[S]) Lookup(key uint64) (s *S, added bool) {
	if i, ok := t.index[key]; ok {
		t.marks[i] |= markRef
		return &t.entries[i].val, false
	}
	var i int32
	switch {
	case len(t.free) > 0:
		i = t.free[len(t.free)-1]
		t.free = t.free[:len(t.free)-1]
	case len(t.entries) < t.max:
		t.entries = append(t.entries, entry[S]{})
		t.marks = append(t.marks, 0)
		i = int32(len(t.entries) - 1)
	default:
		i = t.evict()
	}
	t.entries[i] = entry[S]{key: key}
	t.marks[i] = markUsed | markRef
	t.index[key] = i
	return &t.entries[i].val, true
}

// Get returns the state of key without marking it referenced.
func (t *Table[S]) Get(key uint64) (*S, bool) {
	i, ok := t.index[key]
	if !ok {
		return nil, false
	}
	return &t.entries[i].val, true
}

// evict frees the slot of a key not looked up since the clock hand last
// passed it (every slot is used when it is called) and returns it.
func (t *Table[S]) evict() int32 {
	for {
		i := t.hand
		t.hand++
		if int(t.hand) == len(t.entries) {
			t.hand = 0
		}
		if t.marks[i]&markRef != 0 {
			t.marks[i] &^= markRef
			continue
		}
		delete(t.index, t.entries[i].key)
		t.evicted++
		return i
	}
}

// Delete drops key and reports whether it was there.
func (t *Table[S]) Delete(key uint64) bool {
	i, ok := t.index[key]
	if ok {
		t.release(i)
	}
	return ok
}

// DeleteFunc drops every entry for which drop returns true and returns
// how many it dropped.
func (t *Table[S]) DeleteFunc(drop func(key uint64, s *S) bool) int {
	n := 0
	for i := range t.entries {
		if e := &t.entries[i]; t.marks[i]&markUsed != 0 && drop(e.key, &e.val) {
			t.release(int32(i))
			n++
		}
	}
	return n
}

// All calls f for each entry until f returns false.
func (t *Table[S]) All(f func(key uint64, s *S) bool) {
	for i := range t.entries {
		if e := &t.entries[i]; t.marks[i]&markUsed != 0 && !f(e.key, &e.val) {
			return
		}
	}
}

func (t *Table[S]) release(i int32) {
	delete(t.index, t.entries[i].key)
	t.entries[i], t.marks[i] = entry[S]{}, 0
	t.free = append(t.free, i)
}

// Len returns the number of entries.
func (t *Table[S]) Len() int { return len(t.index) }

// Evicted returns how many entries eviction has dropped.
func (t *Table[S]) Evicted() uint64 { return t.evicted }

// Clone returns a deep copy (S is copied by value).
func (t *Table[S]) Clone() *Table[S] {
	c := &Table[S]{
		entries: append([]entry[S](nil), t.entries...),
		marks:   append([]uint8(nil), t.marks...),
		index:   make(map[uint64]int32, len(t.index)),
		free:    append([]int32(nil), t.free...),
		hand:    t.hand,
		max:     t.max,
		evicted: t.evicted,
	}
	for k, i := range t.index {
		c.index[k] = i
	}
	return c
}
