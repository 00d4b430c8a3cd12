package fs

import (
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
	gvisor "gvisor.dev/gvisor/pkg/sentry/syscalls/linux"
)

// TestNumbers checks the x86-64 numbers against x/sys/unix.
func TestNumbers(t *testing.T) {
	want := map[string]uintptr{
		"open": unix.SYS_OPEN, "stat": unix.SYS_STAT, "lstat": unix.SYS_LSTAT, "access": unix.SYS_ACCESS,
		"execve": unix.SYS_EXECVE, "truncate": unix.SYS_TRUNCATE, "chdir": unix.SYS_CHDIR,
		"rename": unix.SYS_RENAME, "mkdir": unix.SYS_MKDIR, "rmdir": unix.SYS_RMDIR, "creat": unix.SYS_CREAT,
		"link": unix.SYS_LINK, "unlink": unix.SYS_UNLINK, "symlink": unix.SYS_SYMLINK,
		"readlink": unix.SYS_READLINK, "chmod": unix.SYS_CHMOD, "chown": unix.SYS_CHOWN,
		"lchown": unix.SYS_LCHOWN, "utime": unix.SYS_UTIME, "mknod": unix.SYS_MKNOD,
		"statfs": unix.SYS_STATFS, "pivot_root": unix.SYS_PIVOT_ROOT, "chroot": unix.SYS_CHROOT,
		"mount": unix.SYS_MOUNT, "umount2": unix.SYS_UMOUNT2, "swapon": unix.SYS_SWAPON,
		"swapoff": unix.SYS_SWAPOFF, "setxattr": unix.SYS_SETXATTR, "lsetxattr": unix.SYS_LSETXATTR,
		"getxattr": unix.SYS_GETXATTR, "lgetxattr": unix.SYS_LGETXATTR, "listxattr": unix.SYS_LISTXATTR,
		"llistxattr": unix.SYS_LLISTXATTR, "removexattr": unix.SYS_REMOVEXATTR,
		"lremovexattr": unix.SYS_LREMOVEXATTR, "utimes": unix.SYS_UTIMES,
		"inotify_add_watch": unix.SYS_INOTIFY_ADD_WATCH, "openat": unix.SYS_OPENAT,
		"mkdirat": unix.SYS_MKDIRAT, "mknodat": unix.SYS_MKNODAT, "fchownat": unix.SYS_FCHOWNAT,
		"futimesat": unix.SYS_FUTIMESAT, "newfstatat": unix.SYS_NEWFSTATAT, "unlinkat": unix.SYS_UNLINKAT,
		"renameat": unix.SYS_RENAMEAT, "linkat": unix.SYS_LINKAT, "symlinkat": unix.SYS_SYMLINKAT,
		"readlinkat": unix.SYS_READLINKAT, "fchmodat": unix.SYS_FCHMODAT, "faccessat": unix.SYS_FACCESSAT,
		"utimensat": unix.SYS_UTIMENSAT, "name_to_handle_at": unix.SYS_NAME_TO_HANDLE_AT,
		"renameat2": unix.SYS_RENAMEAT2, "execveat": unix.SYS_EXECVEAT, "statx": unix.SYS_STATX,
		"open_tree": unix.SYS_OPEN_TREE, "move_mount": unix.SYS_MOVE_MOUNT, "fspick": unix.SYS_FSPICK,
		"openat2": unix.SYS_OPENAT2, "faccessat2": unix.SYS_FACCESSAT2, "fchmodat2": unix.SYS_FCHMODAT2,
	}
	if len(want) != len(names) {
		t.Errorf("%d names, %d numbers checked", len(names), len(want))
	}
	for name, n := range want {
		if names[n] != name {
			t.Errorf("%s is %d, names[%d] = %q", name, n, n, names[n])
		}
	}
}

// TestFixedErrors checks that the calls decode marks fixedErr are the
// ones this gVisor does not implement, and that the others are
// implemented: if a gVisor upgrade changes that, fixedErr must follow.
func TestFixedErrors(t *testing.T) {
	for n, name := range names {
		var a [6]uint64
		p, _, _ := decode(n, &a, nil)
		sc, ok := gvisor.AMD64.Table[n]
		implemented := ok && sc.SupportLevel != kernel.SupportUnimplemented
		if ok && sc.Name != name {
			t.Errorf("gVisor names %d %q, we %q", n, sc.Name, name)
		}
		if n == sysOpenat2 || n == sysReadlink || n == sysReadlinkat || n == sysInotifyAddWatch {
			// decode rejects their zero arguments; none is fixedErr.
			if !implemented {
				t.Errorf("%s: not implemented by gVisor", name)
			}
			continue
		}
		if p.fixedErr == implemented {
			t.Errorf("%s: fixedErr %v, gVisor implements it: %v", name, p.fixedErr, implemented)
		}
	}
}
