package memguard

import (
	"testing"
	"unsafe"

	"github.com/athenaos/athena/swarm/clocktable"
)

var (
	// slotSize is a task's entry in the table: key, counts and mark.
	slotSize      = clocktable.EntryBytes[taskSlot]()
	containerSize = unsafe.Sizeof(container{})
)

// TestSizes pins the per-task and per-container structs: the memory
// figures in doc.go are computed from them.
func TestSizes(t *testing.T) {
	if unsafe.Sizeof(taskSlot{}) != 24 || slotSize != 33 {
		t.Errorf("slot is %d bytes, its entry %d; doc.go says 24 and 33", unsafe.Sizeof(taskSlot{}), slotSize)
	}
	if unsafe.Sizeof(uintptr(0)) == 8 && containerSize != 200 {
		t.Errorf("container is %d bytes; doc.go says 200 (64-bit)", containerSize)
	}
}
