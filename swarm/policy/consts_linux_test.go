//go:build linux && amd64

package policy

import (
	"testing"

	"golang.org/x/sys/unix"
)

// The literal tables must agree with golang.org/x/sys/unix on x86-64.
func TestConstsMatchUnix(t *testing.T) {
	for name, want := range map[string]uint64{
		"CLONE_NEWUSER": unix.CLONE_NEWUSER, "AF_PACKET": unix.AF_PACKET, "AF_VSOCK": unix.AF_VSOCK,
		"SOCK_RAW": unix.SOCK_RAW, "TIOCSTI": unix.TIOCSTI, "PROT_EXEC": unix.PROT_EXEC,
		"O_RDWR": unix.O_RDWR, "SIGKILL": uint64(unix.SIGKILL), "PR_SET_NO_NEW_PRIVS": unix.PR_SET_NO_NEW_PRIVS,
		"AT_FDCWD": 0xffffffffffffff9c,
	} {
		if got, ok := ConstValue(name); !ok || got != want {
			t.Errorf("%s = %#x, %v; want %#x", name, got, ok, want)
		}
	}
	for name, want := range map[string]unix.Errno{"EPERM": unix.EPERM, "EACCES": unix.EACCES, "ENOSYS": unix.ENOSYS, "EWOULDBLOCK": unix.EAGAIN} {
		if got, ok := ErrnoNumber(name); !ok || uint64(got) != uint64(want) {
			t.Errorf("%s = %d; want %d", name, got, want)
		}
	}
	for e := unix.Errno(1); e < 134; e++ {
		if n := unix.ErrnoName(e); n != "" {
			if got, ok := ErrnoNumber(n); !ok || got != uint16(e) {
				t.Errorf("errno %s: table has %d, %v", n, got, ok)
			}
		}
	}
}
