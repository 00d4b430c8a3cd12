package event

import (
	"reflect"
	"testing"
	"unsafe"
)

// TestEventIsSmallAndFlat guards the two properties the rings rely on.
func TestEventIsSmallAndFlat(t *testing.T) {
	if size := unsafe.Sizeof(Event{}); size != 512 {
		t.Errorf("Event is %d bytes; keep it 512 (rings are sized by it)", size)
	}
	typ := reflect.TypeOf(Event{})
	for i := 0; i < typ.NumField(); i++ {
		switch typ.Field(i).Type.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map, reflect.String, reflect.Interface, reflect.Func, reflect.Chan:
			t.Errorf("field %s holds a pointer; events must be pointer-free", typ.Field(i).Name)
		}
	}
}

func TestKindString(t *testing.T) {
	if KindSyscall.String() != "syscall" || Kind(200).String() != "unknown" {
		t.Error("kind names")
	}
}
