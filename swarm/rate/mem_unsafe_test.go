package rate

import (
	"testing"
	"unsafe"

	"github.com/athenaos/athena/swarm/clocktable"
)

// slotSize is a group's entry in the table: key, counts and mark.
var slotSize = clocktable.EntryBytes[slot]()

// TestSlotSize pins the per-group struct: the memory figures in doc.go are
// computed from it.
func TestSlotSize(t *testing.T) {
	if unsafe.Sizeof(slot{}) != 24 || slotSize != 33 {
		t.Errorf("slot is %d bytes, its entry %d; doc.go says 24 and 33", unsafe.Sizeof(slot{}), slotSize)
	}
}
