package netguard

import "testing"

// TestCounter checks the hash table against a map through a long churn of
// incs and decs on few and on colliding keys (small ports, and keys that
// share a home slot), so that backward-shift deletion runs across the
// table's wrap-around.
func TestCounter(t *testing.T) {
	const room = 64
	c := newCounter(room)
	if len(c.keys) != 128 {
		t.Fatalf("%d slots for room %d", len(c.keys), room)
	}
	want := map[uint64]uint16{}
	var live []uint64 // one entry per count, for decs
	x := lcg(7)
	for step := range 200000 {
		var k uint64
		switch x.next(3) {
		case 0:
			k = uint64(x.next(100)) // small keys
		case 1:
			k = uint64(x.next(8)) << 57 // same home slot, often
		default:
			k = mix(uint64(x.next(1000)))
		}
		if len(live) < room && (x.next(2) == 0 || len(live) == 0) {
			if len(want) == room && want[k] == 0 {
				continue // the table holds at most room keys
			}
			want[k]++
			live = append(live, k)
			if got := c.inc(k); got != want[k] {
				t.Fatalf("step %d: inc(%x) = %d, want %d", step, k, got, want[k])
			}
		} else {
			i := x.next(len(live))
			k = live[i]
			live[i] = live[len(live)-1]
			live = live[:len(live)-1]
			if want[k]--; want[k] == 0 {
				delete(want, k)
			}
			if got := c.dec(k); got != want[k] {
				t.Fatalf("step %d: dec(%x) = %d, want %d", step, k, got, want[k])
			}
		}
		if step%997 == 0 {
			n := 0
			for i, v := range c.vals {
				if v != 0 {
					n++
					if want[c.keys[i]] != v {
						t.Fatalf("step %d: slot %d: %x=%d, want %d", step, i, c.keys[i], v, want[c.keys[i]])
					}
				}
			}
			if n != len(want) {
				t.Fatalf("step %d: %d keys, want %d", step, n, len(want))
			}
			for k, v := range want {
				if c.get(k) != v {
					t.Fatalf("step %d: get(%x) = %d, want %d", step, k, c.get(k), v)
				}
			}
		}
	}
	if c.dec(12345678) != 0 {
		t.Error("dec of an absent key")
	}
}
