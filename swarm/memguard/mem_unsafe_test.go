package memguard

import (
	"testing"
	"unsafe"
)

const (
	slotSize      = unsafe.Sizeof(slot{})
	containerSize = unsafe.Sizeof(container{})
)

// TestSizes pins the per-task and per-container structs: the memory
// figures in doc.go are computed from them.
func TestSizes(t *testing.T) {
	if slotSize != 32 {
		t.Errorf("slot is %d bytes; doc.go says 32", slotSize)
	}
	if unsafe.Sizeof(uintptr(0)) == 8 && containerSize != 200 {
		t.Errorf("container is %d bytes; doc.go says 200 (64-bit)", containerSize)
	}
}
