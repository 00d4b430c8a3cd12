package rate

import (
	"testing"
	"unsafe"
)

const slotSize = unsafe.Sizeof(slot{})

// TestSlotSize pins the per-group struct: the memory figures in doc.go are
// computed from it.
func TestSlotSize(t *testing.T) {
	if slotSize != 32 {
		t.Errorf("slot is %d bytes; doc.go says 32", slotSize)
	}
}
