package syscalls

import (
	"errors"
	"os"
	"testing"

	"github.com/athenaos/athena/swarm/policy"
)

// FuzzCompile: any policy that parses either compiles or fails with a
// policy error, and the compiled table decides any input without panicking.
func FuzzCompile(f *testing.F) {
	f.Add([]byte(testPolicy), uint16(56), uint64(0x10000000))
	f.Add(policy.DefaultYAML(), uint16(41), uint64(40))
	if b, err := os.ReadFile(examplesDir + "/web-server.yaml"); err == nil {
		f.Add(b, uint16(42), uint64(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, sysno uint16, a0 uint64) {
		p, err := policy.Parse("fuzz", data)
		if err != nil {
			return
		}
		tab, err := Compile(p)
		if err != nil {
			if !errors.Is(err, policy.ErrInvalid) {
				t.Fatalf("compile error is not a policy error: %v", err)
			}
			return
		}
		args := [6]uint64{a0, a0 >> 3, a0 >> 7}
		_ = tab.Decide(uintptr(sysno), &args)
	})
}
