package netguard

import (
	"testing"
	"unsafe"
)

const (
	containerSize = unsafe.Sizeof(container{})
	probeSize     = unsafe.Sizeof(probe{})
)

// TestSizes pins the per-container structs: the memory figures in doc.go
// are computed from them.
func TestSizes(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"container", containerSize, 10528},
		{"probe", probeSize, 32},
		{"flowRec", unsafe.Sizeof(flowRec{}), 80},
		{"topEntry", unsafe.Sizeof(topEntry{}), 72},
		{"foldEntry", unsafe.Sizeof(foldEntry{}), 40},
	} {
		if tc.got != tc.want {
			t.Errorf("%s is %d bytes; doc.go says %d", tc.name, tc.got, tc.want)
		}
	}
}
