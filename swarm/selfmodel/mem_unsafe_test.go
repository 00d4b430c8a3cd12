package selfmodel

import (
	"testing"
	"unsafe"
)

const taskSize = unsafe.Sizeof(Task{})

// TestTaskSize pins the per-task struct: the memory figures in doc.go are
// computed from it.
func TestTaskSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) == 8 && taskSize != 104 {
		t.Errorf("Task is %d bytes; doc.go says 104", taskSize)
	}
	if unsafe.Sizeof(novel{}) > 48 {
		t.Errorf("novel is %d bytes; doc.go says 48", unsafe.Sizeof(novel{}))
	}
}
