// Package ring is the bus from the hot paths to the agents: a bounded,
// lock-free, multi-producer single-consumer ring of fixed-size items: the
// gate's event.Event records, and the compact per-call items of the
// sense-of-self feed.
//
// Producers are the application's task goroutines inside the sentry; they
// must never wait for an agent. So TryPush never blocks and never allocates:
// when the ring is full the event is dropped and counted, and the app runs
// on under the verdicts already published. The single consumer (one agent
// driver goroutine per ring) drains in batches.
//
// The algorithm is Dmitry Vyukov's bounded queue: every slot carries a
// sequence number that says whether it is free for the producer of position
// p (seq == p) or holds the event of position p for the consumer
// (seq == p+1). Producers claim a position with one compare-and-swap on
// the tail; the slot's sequence store publishes the event.
//
// Each slot stores its sequence number minus its own index, so that a new
// ring is all zeroes: New writes nothing into the slots, and a slot's
// memory is touched only when an event first passes through it (a large
// ring that is rarely used costs address space, not resident memory).
//
// Items must be plain values (no pointers the consumer would share with
// the producer): TryPush and Pop copy them.
//
// Imports: the standard library only.
package ring

import (
	"errors"
	"sync/atomic"
)

// cacheLine pads the producer and consumer counters apart, so producers
// bumping the tail do not invalidate the consumer's head line and vice
// versa.
const cacheLine = 64

type slot[T any] struct {
	// rel is the slot's sequence number minus its index in the ring.
	rel atomic.Uint64
	ev  T
}

// Ring is a bounded MPSC queue of events. The zero value is not usable; call
// New.
type Ring[T any] struct {
	_ [cacheLine]byte
	// tail is the next position producers claim. Only producers write it
	// (by CAS).
	tail atomic.Uint64
	_    [cacheLine - 8]byte
	// head is the next position the consumer reads. Only the consumer
	// writes it.
	head atomic.Uint64
	_    [cacheLine - 8]byte
	// dropped counts events refused because the ring was full.
	dropped atomic.Uint64
	_       [cacheLine - 8]byte
	mask    uint64
	slots   []slot[T]
}

// ErrSize is returned by New for a capacity that is not a power of two
// between 2 and 1<<24.
var ErrSize = errors.New("ring capacity must be a power of two between 2 and 16777216")

// New returns a ring holding up to capacity events.
func New[T any](capacity int) (*Ring[T], error) {
	if capacity < 2 || capacity > 1<<24 || capacity&(capacity-1) != 0 {
		return nil, ErrSize
	}
	return &Ring[T]{mask: uint64(capacity - 1), slots: make([]slot[T], capacity)}, nil
}

// Cap returns the ring's capacity.
func (r *Ring[T]) Cap() int { return len(r.slots) }

// TryPush copies *e into the ring, or drops it and counts the drop when the
// ring is full. It never blocks, takes no lock and does not allocate: it is
// safe on the syscall hot path. Any number of goroutines may push at once.
func (r *Ring[T]) TryPush(e *T) bool {
	_, ok := r.Push(e)
	return ok
}

// Push is TryPush that also returns the position the item took (the
// number of items pushed before it), so that a producer can wake the
// consumer every so many items without another shared counter.
func (r *Ring[T]) Push(e *T) (uint64, bool) {
	pos := r.tail.Load()
	for {
		idx := pos & r.mask
		s := &r.slots[idx]
		seq := s.rel.Load() + idx
		switch diff := int64(seq - pos); {
		case diff == 0:
			// The slot is free for position pos: claim it.
			if r.tail.CompareAndSwap(pos, pos+1) {
				s.ev = *e
				s.rel.Store(pos + 1 - idx) // publish to the consumer
				return pos, true
			}
			pos = r.tail.Load()
		case diff < 0:
			// The slot still holds an event from one lap ago: full.
			r.dropped.Add(1)
			return pos, false
		default:
			// Another producer claimed pos first; catch up.
			pos = r.tail.Load()
		}
	}
}

// Pop moves the oldest event into *e and reports whether there was one.
//
// Preconditions: only one goroutine consumes a ring.
func (r *Ring[T]) Pop(e *T) bool {
	pos := r.head.Load()
	idx := pos & r.mask
	s := &r.slots[idx]
	if s.rel.Load()+idx != pos+1 {
		// Empty, or the producer of pos has claimed but not yet published
		// its slot: either way nothing is ready in order.
		return false
	}
	*e = s.ev
	s.rel.Store(pos + r.mask + 1 - idx) // free the slot for the next lap
	r.head.Store(pos + 1)
	return true
}

// Drain pops up to len(buf) events into buf and returns how many. Batching
// amortizes the consumer's cache misses on the shared counters.
//
// Preconditions: only one goroutine consumes a ring.
func (r *Ring[T]) Drain(buf []T) int {
	n := 0
	for n < len(buf) && r.Pop(&buf[n]) {
		n++
	}
	return n
}

// Len returns how many events are in the ring, counting pushes that have
// claimed a slot but not yet published it. A consumer that sees 0 after
// announcing it will sleep has seen every push that did not see the
// announcement.
func (r *Ring[T]) Len() int { return int(r.tail.Load() - r.head.Load()) }

// Stats is a snapshot of a ring's counters.
type Stats struct {
	Capacity int
	// Pushed counts events accepted since creation.
	Pushed uint64
	// Popped counts events consumed since creation.
	Popped uint64
	// Dropped counts events refused because the ring was full.
	Dropped uint64
}

// Stats returns the ring's counters. Pushed is read from the tail, so it may
// include a push whose event is not yet published.
func (r *Ring[T]) Stats() Stats {
	return Stats{Capacity: len(r.slots), Pushed: r.tail.Load(), Popped: r.head.Load(), Dropped: r.dropped.Load()}
}
