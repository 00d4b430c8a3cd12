package syscalls

import (
	"testing"

	"github.com/athenaos/athena/swarm/policy"

	"golang.org/x/sys/unix"
)

func TestNames(t *testing.T) {
	for name, want := range map[string]uintptr{
		"read": unix.SYS_READ, "clone": unix.SYS_CLONE, "execve": unix.SYS_EXECVE, "_sysctl": unix.SYS__SYSCTL,
		"newfstatat": unix.SYS_NEWFSTATAT, "kexec_file_load": unix.SYS_KEXEC_FILE_LOAD, "clone3": unix.SYS_CLONE3,
		"openat2": unix.SYS_OPENAT2, "mseal": unix.SYS_MSEAL, "open_tree_attr": unix.SYS_OPEN_TREE_ATTR,
		"uretprobe": unix.SYS_URETPROBE, "io_uring_setup": unix.SYS_IO_URING_SETUP,
	} {
		if got, ok := Number(name); !ok || got != want {
			t.Errorf("Number(%q) = %d, %v; want %d", name, got, ok, want)
		}
		if Name(want) != name {
			t.Errorf("Name(%d) = %q; want %q", want, Name(want), name)
		}
	}
	if Name(336) != "" || Name(423) != "" || Name(424) != "pidfd_send_signal" || Name(1<<20) != "" {
		t.Error("gap 336..423 wrong")
	}
}

func TestArgSpecs(t *testing.T) {
	for sys, specs := range argSpecs {
		if _, ok := Number(sys); !ok {
			t.Errorf("argSpecs: unknown syscall %q", sys)
		}
		for i, s := range specs {
			if s.Index > 5 || s.Mask == 0 {
				t.Errorf("%s.%s: bad spec %+v", sys, s.Name, s)
			}
			for _, o := range specs[:i] {
				if o.Name == s.Name || o.Index == s.Index {
					t.Errorf("%s: duplicate argument %s", sys, s.Name)
				}
			}
		}
	}
}

func TestClasses(t *testing.T) {
	other := map[string]bool{"getpmsg": true, "putpmsg": true, "afs_syscall": true, "tuxcall": true,
		"security": true, "vserver": true, "epoll_ctl_old": true, "epoll_wait_old": true}
	for n, name := range names {
		if name == "" {
			continue
		}
		if c := ClassOf(uintptr(n)); (c == ClassOther) != other[name] {
			t.Errorf("%s is in class %s", name, c)
		}
	}
	// The policy language's class names and this package's must agree.
	if len(policy.Classes) != int(numClasses) {
		t.Errorf("policy.Classes has %d names, syscalls has %d classes", len(policy.Classes), numClasses)
	}
	for _, name := range policy.Classes {
		if _, ok := ParseClass(name); !ok {
			t.Errorf("class %q missing", name)
		}
	}
}
