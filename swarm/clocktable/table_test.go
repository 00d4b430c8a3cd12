package clocktable

import "testing"

func TestLookupAddsAndFinds(t *testing.T) {
	tb := New[int](4)
	s, added := tb.Lookup(7)
	if !added || *s != 0 {
		t.Fatalf("first lookup: %v, %d", added, *s)
	}
	*s = 42
	if s, added := tb.Lookup(7); added || *s != 42 {
		t.Errorf("second lookup: %v, %d", added, *s)
	}
	if s, ok := tb.Get(7); !ok || *s != 42 {
		t.Errorf("get: %v", ok)
	}
	if _, ok := tb.Get(8); ok {
		t.Error("get of an absent key")
	}
}

func TestClockEvictsTheUnreferenced(t *testing.T) {
	tb := New[int](3)
	for k := uint64(1); k <= 3; k++ {
		tb.Lookup(k)
	}
	// A full pass clears every reference; 1 is looked up again, so the
	// hand passes it and evicts 2.
	tb.Lookup(4) // evicts 1 (all referenced: the hand clears them, then takes 1)
	if _, ok := tb.Get(1); ok {
		t.Fatal("1 should have gone first")
	}
	tb.Lookup(2) // referenced again
	tb.Lookup(5) // the hand is at 2 (referenced: second chance), takes 3
	if _, ok := tb.Get(3); ok {
		t.Error("3 should have been evicted")
	}
	if _, ok := tb.Get(2); !ok {
		t.Error("2 was referenced and should have stayed")
	}
	if tb.Len() != 3 || tb.Evicted() != 2 {
		t.Errorf("len %d evicted %d", tb.Len(), tb.Evicted())
	}
}

func TestDeleteReusesTheSlot(t *testing.T) {
	tb := New[int](2)
	tb.Lookup(1)
	tb.Lookup(2)
	if !tb.Delete(1) || tb.Delete(1) {
		t.Fatal("delete")
	}
	if _, added := tb.Lookup(3); !added || tb.Evicted() != 0 || len(tb.entries) != 2 {
		t.Errorf("the freed slot was not reused: evicted %d, %d slots", tb.Evicted(), len(tb.entries))
	}
	n := tb.DeleteFunc(func(k uint64, _ *int) bool { return k == 3 })
	if n != 1 || tb.Len() != 1 {
		t.Errorf("DeleteFunc dropped %d, len %d", n, tb.Len())
	}
	seen := 0
	tb.All(func(k uint64, _ *int) bool { seen++; return true })
	if seen != 1 {
		t.Errorf("All saw %d", seen)
	}
}

func TestCloneIsDeep(t *testing.T) {
	tb := New[int](2)
	s, _ := tb.Lookup(1)
	*s = 1
	c := tb.Clone()
	*s = 2
	tb.Lookup(9)
	if v, _ := c.Get(1); *v != 1 || c.Len() != 1 {
		t.Errorf("clone changed with the original: %d, len %d", *v, c.Len())
	}
}
