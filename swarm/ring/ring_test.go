package ring

import (
	"errors"
	"runtime"
	"sync"
	"testing"

	"github.com/athenaos/athena/swarm/event"
)

func mustNew(t testing.TB, n int) *Ring[event.Event] {
	r, err := New[event.Event](n)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNewRejectsBadSizes(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 3, 100, 1 << 25} {
		if _, err := New[event.Event](n); !errors.Is(err, ErrSize) {
			t.Errorf("New(%d) = %v, want ErrSize", n, err)
		}
	}
}

func TestFIFOAndFullDrops(t *testing.T) {
	r := mustNew(t, 4)
	var e event.Event
	if r.Pop(&e) {
		t.Fatal("pop from an empty ring")
	}
	for i := 0; i < 6; i++ {
		ok := r.TryPush(&event.Event{Sysno: uint32(i)})
		if want := i < 4; ok != want {
			t.Fatalf("push %d = %v, want %v", i, ok, want)
		}
	}
	if st := r.Stats(); st.Pushed != 4 || st.Dropped != 2 || st.Popped != 0 {
		t.Errorf("stats %+v", st)
	}
	for i := 0; i < 4; i++ {
		if !r.Pop(&e) || e.Sysno != uint32(i) {
			t.Fatalf("pop %d: got %d", i, e.Sysno)
		}
	}
	// Wraps around: the freed slots take new events.
	for lap := 0; lap < 3; lap++ {
		for i := 0; i < 4; i++ {
			if !r.TryPush(&event.Event{Sysno: uint32(100*lap + i)}) {
				t.Fatalf("lap %d push %d refused", lap, i)
			}
		}
		buf := make([]event.Event, 8)
		if n := r.Drain(buf); n != 4 || buf[0].Sysno != uint32(100*lap) || buf[3].Sysno != uint32(100*lap+3) {
			t.Fatalf("lap %d drained %d: %v", lap, n, buf[:n])
		}
	}
}

// TestConcurrentProducers checks, under many producers and one consumer,
// that every event is either delivered exactly once or counted as dropped,
// and that each producer's events arrive in the order it pushed them.
func TestConcurrentProducers(t *testing.T) {
	const producers, perProducer = 8, 20000
	r := mustNew(t, 256)
	var wg sync.WaitGroup
	var accepted [producers]int
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := 0; i < perProducer; i++ {
				if r.TryPush(&event.Event{PID: int32(p), Args: [6]uint64{uint64(i)}}) {
					accepted[p]++
				}
				if i%64 == 0 {
					runtime.Gosched()
				}
			}
		}(p)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	last := [producers]int64{}
	for i := range last {
		last[i] = -1
	}
	got := [producers]int{}
	buf := make([]event.Event, 64)
	drain := func() {
		for n := r.Drain(buf); n > 0; n = r.Drain(buf) {
			for _, e := range buf[:n] {
				seq := int64(e.Args[0])
				if seq <= last[e.PID] {
					t.Fatalf("producer %d: event %d after %d (duplicate or reordered)", e.PID, seq, last[e.PID])
				}
				last[e.PID] = seq
				got[e.PID]++
			}
		}
	}
	for {
		select {
		case <-done:
			drain()
			st := r.Stats()
			total := 0
			for p := range got {
				if got[p] != accepted[p] {
					t.Errorf("producer %d: %d accepted, %d delivered", p, accepted[p], got[p])
				}
				total += got[p]
			}
			if uint64(total)+st.Dropped != producers*perProducer {
				t.Errorf("delivered %d + dropped %d != pushed %d", total, st.Dropped, producers*perProducer)
			}
			return
		default:
			drain()
			runtime.Gosched()
		}
	}
}

// TestHotPathDoesNotAllocate: TryPush (full or not) and Pop allocate nothing.
func TestHotPathDoesNotAllocate(t *testing.T) {
	r := mustNew(t, 8)
	e := event.Event{Sysno: 1}
	var out event.Event
	if n := testing.AllocsPerRun(1000, func() {
		r.TryPush(&e)
		r.Pop(&out)
	}); n != 0 {
		t.Errorf("push+pop allocates %v times", n)
	}
	for r.TryPush(&e) {
	}
	if n := testing.AllocsPerRun(1000, func() { r.TryPush(&e) }); n != 0 {
		t.Errorf("push to a full ring allocates %v times", n)
	}
}

func BenchmarkTryPushPop(b *testing.B) {
	r := mustNew(b, 1024)
	e := event.Event{Sysno: 1}
	var out event.Event
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.TryPush(&e)
		r.Pop(&out)
	}
}

func BenchmarkTryPushParallel(b *testing.B) {
	r := mustNew(b, 1<<16)
	stop := make(chan struct{})
	go func() {
		buf := make([]event.Event, 256)
		for {
			select {
			case <-stop:
				return
			default:
				if r.Drain(buf) == 0 {
					runtime.Gosched()
				}
			}
		}
	}()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		e := event.Event{Sysno: 1}
		for pb.Next() {
			r.TryPush(&e)
		}
	})
	close(stop)
}

func TestLen(t *testing.T) {
	r, err := New[event.Event](4)
	if err != nil {
		t.Fatal(err)
	}
	var e event.Event
	if r.Len() != 0 {
		t.Fatal("new ring not empty")
	}
	r.TryPush(&e)
	r.TryPush(&e)
	if r.Len() != 2 {
		t.Fatalf("Len %d, want 2", r.Len())
	}
	r.Pop(&e)
	if r.Len() != 1 {
		t.Fatalf("Len %d, want 1", r.Len())
	}
}
