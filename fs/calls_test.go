package fs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"slices"
	"strconv"
	"testing"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"

	"github.com/athenaos/athena/swarm/policy"
)

const (
	fdcwd = uint64(0xffffffffffffff9c) // AT_FDCWD (-100) as a register holds it
	p0    = 0x1000                     // path addresses
	p1    = 0x2000
)

// notHandled lists the syscalls of pathOpSyscalls that Resolve does not
// handle, because this gVisor does not implement them (doc.go).
var notHandled = []string{"uselib", "open_tree_attr", "getxattrat", "listxattrat", "setxattrat", "removexattrat"}

func number(t *testing.T, name string) uintptr {
	t.Helper()
	for n, s := range names {
		if s == name {
			return n
		}
	}
	t.Fatalf("no number for %q", name)
	return 0
}

func TestKnown(t *testing.T) {
	for n := range names {
		if !Known(n) {
			t.Errorf("Known(%d %s) = false", n, names[n])
		}
	}
	for _, n := range []uintptr{0, 1, 3, 134, 451, 463, 467, maxSysno + 1, 1 << 20, ^uintptr(0)} {
		if Known(n) {
			t.Errorf("Known(%d) = true", n)
		}
	}
}

// Known may be called on the gate's path: it must not allocate.
func TestKnownAllocs(t *testing.T) {
	n := uintptr(sysOpenat)
	if allocs := testing.AllocsPerRun(100, func() { _ = Known(n) }); allocs != 0 {
		t.Errorf("Known allocates %v times", allocs)
	}
}

// pathOps reads syscalls/compile.go's pathOpSyscalls: syscall → ops.
func pathOps(t *testing.T) map[string]policy.OpSet {
	t.Helper()
	src, err := os.ReadFile("../syscalls/compile.go")
	if err != nil {
		t.Skipf("syscalls/compile.go: %v", err)
	}
	f, err := parser.ParseFile(token.NewFileSet(), "compile.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]policy.OpSet{}
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Names) != 1 || vs.Names[0].Name != "pathOpSyscalls" {
			return true
		}
		for _, e := range vs.Values[0].(*ast.CompositeLit).Elts {
			kv := e.(*ast.KeyValueExpr)
			opName, _ := strconv.Unquote(kv.Key.(*ast.BasicLit).Value)
			op, ok := policy.ParseOp(opName)
			if !ok {
				t.Fatalf("pathOpSyscalls: unknown op %q", opName)
			}
			for _, s := range kv.Value.(*ast.CompositeLit).Elts {
				name, _ := strconv.Unquote(s.(*ast.BasicLit).Value)
				out[name] |= op
			}
		}
		return false
	})
	if len(out) == 0 {
		t.Fatal("pathOpSyscalls not found in syscalls/compile.go")
	}
	return out
}

// TestOpsMatchCompile checks that each call's ops are those pathOpSyscalls
// gives it: exactly for calls without flag-dependent ops, and as the union
// over the flags for the open family.
func TestOpsMatchCompile(t *testing.T) {
	want := pathOps(t)
	for name, ops := range want {
		if slices.Contains(notHandled, name) {
			continue
		}
		n := number(t, name)
		if !Known(n) {
			t.Errorf("%s is in pathOpSyscalls but not Known", name)
		}
		var union policy.OpSet
		flagSets := []uint64{0}
		if n == sysOpen || n == sysOpenat || n == sysOpenat2 {
			flagSets = []uint64{linux.O_RDONLY, linux.O_WRONLY, linux.O_RDWR, linux.O_CREAT, linux.O_TRUNC, linux.O_PATH}
		}
		for _, flags := range flagSets {
			a := [6]uint64{fdcwd, p0, flags, 0, 0, 0}
			switch n {
			case sysOpen:
				a = [6]uint64{p0, flags}
			case sysAccess:
				a = [6]uint64{p0, 0}
			case sysReadlink:
				a[2] = 100
			case sysReadlinkat:
				a[3] = 100
			case sysInotifyAddWatch:
				a[2] = linux.IN_MODIFY
			}
			how := &linux.OpenHow{Flags: flags}
			if flags&linux.O_CREAT != 0 {
				how.Mode = 0o644
			}
			p, ok, err := decode(n, &a, how)
			if !ok || err != nil {
				t.Fatalf("decode(%s): ok %v err %v", name, ok, err)
			}
			union |= p.ops
		}
		if union != ops {
			t.Errorf("%s: ops %v, pathOpSyscalls says %v", name, union.Names(), ops.Names())
		}
	}
	for n, name := range names {
		if _, ok := want[name]; !ok {
			t.Errorf("%s (%d) is Known but not in pathOpSyscalls", name, n)
		}
	}
}

func TestOpenOps(t *testing.T) {
	r, w, c, rw := policy.OpRead, policy.OpWrite, policy.OpCreate, policy.OpRead|policy.OpWrite
	for _, tc := range []struct {
		flags uint64
		want  policy.OpSet
	}{
		{linux.O_RDONLY, r},
		{linux.O_WRONLY, w},
		{linux.O_RDWR, rw},
		{3, rw}, // Linux checks read and write for the ioctl-only mode
		{linux.O_RDONLY | linux.O_CREAT, r | c},
		{linux.O_WRONLY | linux.O_CREAT | linux.O_TRUNC, w | c},
		{linux.O_RDONLY | linux.O_TRUNC, r | w},
		{linux.O_RDWR | linux.O_CREAT | linux.O_EXCL, rw | c},
		{linux.O_PATH, r},
		{linux.O_PATH | linux.O_WRONLY | linux.O_CREAT | linux.O_TRUNC, r},
		{linux.O_WRONLY | linux.O_TMPFILE | linux.O_DIRECTORY, w | c},
		{linux.O_RDONLY | linux.O_NOFOLLOW | linux.O_CLOEXEC | linux.O_DIRECTORY, r},
	} {
		if got := openOps(tc.flags); got != tc.want {
			t.Errorf("openOps(%#o) = %v, want %v", tc.flags, got.Names(), tc.want.Names())
		}
	}
}

// arg is the expected decoding of one path argument.
type arg struct {
	dirfd  int32
	addr   uint64
	follow bool
	empty  bool // emptyOK
	extra  string
}

func (a arg) of(p pathArg) bool {
	extra := ""
	if p.emptyCreds {
		extra += "creds,"
	}
	if p.nullFD {
		extra += "nullfd,"
	}
	if p.mustBeDir {
		extra += "dir,"
	}
	if p.creates {
		extra += "creates,"
	}
	return a.dirfd == p.dirfd && a.addr == p.addr && a.follow == p.follow && a.empty == p.emptyOK && a.extra == extra
}

const (
	cw = linux.AT_FDCWD
	fF = true  // follow
	nF = false // no follow
)

func TestDecode(t *testing.T) {
	const (
		nofollow = linux.AT_SYMLINK_NOFOLLOW
		empty    = linux.AT_EMPTY_PATH
	)
	R, W, C, D := policy.OpRead, policy.OpWrite, policy.OpCreate, policy.OpDelete
	X, M, O, L, N, Mo := policy.OpExec, policy.OpChmod, policy.OpChown, policy.OpLink, policy.OpRename, policy.OpMount
	for _, tc := range []struct {
		name string
		args [6]uint64
		how  *linux.OpenHow
		ops  policy.OpSet
		want []arg
		// resolve is the RESOLVE_* flags, creds whether real IDs are used,
		// fixed whether the call has a fixed error in gVisor.
		resolve uint64
		creds   bool
		pre     precheck
		fixed   bool
	}{
		{name: "open", args: [6]uint64{p0, linux.O_RDONLY}, ops: R, want: []arg{{cw, p0, fF, false, ""}}},
		{name: "open", args: [6]uint64{p0, linux.O_RDONLY | linux.O_NOFOLLOW}, ops: R, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "open", args: [6]uint64{p0, linux.O_WRONLY | linux.O_CREAT}, ops: W | C, want: []arg{{cw, p0, fF, false, "creates,"}}},
		{name: "open", args: [6]uint64{p0, linux.O_WRONLY | linux.O_CREAT | linux.O_EXCL}, ops: W | C, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "open", args: [6]uint64{p0, linux.O_WRONLY | linux.O_CREAT | linux.O_NOFOLLOW}, ops: W | C, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "open", args: [6]uint64{p0, linux.O_PATH | linux.O_NOFOLLOW}, ops: R, want: []arg{{cw, p0, nF, false, ""}}},
		// The flags are an int: high bits of the register are ignored.
		{name: "open", args: [6]uint64{p0, 1<<32 | linux.O_RDONLY}, ops: R, want: []arg{{cw, p0, fF, false, ""}}},
		{name: "openat", args: [6]uint64{5, p0, linux.O_RDWR | linux.O_TRUNC}, ops: R | W, want: []arg{{5, p0, fF, false, ""}}},
		{name: "openat", args: [6]uint64{fdcwd, p0, linux.O_RDONLY}, ops: R, want: []arg{{cw, p0, fF, false, ""}}},
		{name: "creat", args: [6]uint64{p0, 0o644}, ops: W | C, want: []arg{{cw, p0, fF, false, "creates,"}}},
		{name: "openat2", args: [6]uint64{7, p0, p1, 24}, how: &linux.OpenHow{Flags: linux.O_RDONLY, Resolve: linux.RESOLVE_BENEATH | linux.RESOLVE_NO_SYMLINKS},
			ops: R, want: []arg{{7, p0, fF, false, ""}}, resolve: linux.RESOLVE_BENEATH | linux.RESOLVE_NO_SYMLINKS},
		{name: "openat2", args: [6]uint64{7, p0, p1, 24}, how: &linux.OpenHow{Flags: linux.O_WRONLY | linux.O_CREAT, Mode: 0o600},
			ops: W | C, want: []arg{{7, p0, fF, false, "creates,"}}},

		{name: "stat", args: [6]uint64{p0}, ops: R, want: []arg{{cw, p0, fF, false, ""}}},
		{name: "lstat", args: [6]uint64{p0}, ops: R, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "newfstatat", args: [6]uint64{3, p0, 0, 0}, ops: R, want: []arg{{3, p0, fF, false, ""}}},
		{name: "newfstatat", args: [6]uint64{3, p0, 0, nofollow | empty}, ops: R, want: []arg{{3, p0, nF, true, ""}}},
		{name: "newfstatat", args: [6]uint64{3, p0, 0, linux.AT_NO_AUTOMOUNT}, ops: R, want: []arg{{3, p0, fF, false, ""}}},
		{name: "statx", args: [6]uint64{fdcwd, p0, nofollow, linux.STATX_BASIC_STATS}, ops: R, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "statx", args: [6]uint64{4, p0, empty}, ops: R, want: []arg{{4, p0, fF, true, ""}}},
		{name: "access", args: [6]uint64{p0, 4}, ops: R, want: []arg{{cw, p0, fF, false, ""}}, creds: true},
		{name: "faccessat", args: [6]uint64{3, p0, 2}, ops: R, want: []arg{{3, p0, fF, false, ""}}, creds: true},
		{name: "faccessat2", args: [6]uint64{3, p0, 0, nofollow}, ops: R, want: []arg{{3, p0, nF, false, ""}}, creds: true},
		{name: "faccessat2", args: [6]uint64{3, p0, 0, linux.AT_EACCESS | empty}, ops: R, want: []arg{{3, p0, fF, true, ""}}},
		{name: "readlink", args: [6]uint64{p0, p1, 64}, ops: R, want: []arg{{cw, p0, nF, true, ""}}},
		{name: "readlinkat", args: [6]uint64{3, p0, p1, 64}, ops: R, want: []arg{{3, p0, nF, true, ""}}},
		{name: "getxattr", args: [6]uint64{p0}, ops: R, want: []arg{{cw, p0, fF, false, ""}}},
		{name: "lgetxattr", args: [6]uint64{p0}, ops: R, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "listxattr", args: [6]uint64{p0}, ops: R, want: []arg{{cw, p0, fF, false, ""}}},
		{name: "llistxattr", args: [6]uint64{p0}, ops: R, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "statfs", args: [6]uint64{p0}, ops: R, want: []arg{{cw, p0, fF, false, ""}}},
		{name: "chdir", args: [6]uint64{p0}, ops: R, want: []arg{{cw, p0, fF, false, ""}}},
		{name: "inotify_add_watch", args: [6]uint64{9, p0, linux.IN_MODIFY}, ops: R, want: []arg{{cw, p0, fF, false, ""}}, pre: checkInotifyFD},
		{name: "inotify_add_watch", args: [6]uint64{9, p0, linux.IN_MODIFY | linux.IN_DONT_FOLLOW | linux.IN_ONLYDIR}, ops: R, want: []arg{{cw, p0, nF, false, "dir,"}}, pre: checkInotifyFD},
		{name: "name_to_handle_at", args: [6]uint64{3, p0, 0, 0, 0}, ops: R, want: []arg{{3, p0, nF, false, ""}}, fixed: true},
		{name: "name_to_handle_at", args: [6]uint64{3, p0, 0, 0, linux.AT_SYMLINK_FOLLOW | empty}, ops: R, want: []arg{{3, p0, fF, true, ""}}, fixed: true},

		{name: "truncate", args: [6]uint64{p0}, ops: W, want: []arg{{cw, p0, fF, false, ""}}},
		{name: "setxattr", args: [6]uint64{p0}, ops: W, want: []arg{{cw, p0, fF, false, ""}}},
		{name: "lsetxattr", args: [6]uint64{p0}, ops: W, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "removexattr", args: [6]uint64{p0}, ops: W, want: []arg{{cw, p0, fF, false, ""}}},
		{name: "lremovexattr", args: [6]uint64{p0}, ops: W, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "utime", args: [6]uint64{p0, p1}, ops: W, want: []arg{{cw, p0, fF, false, ""}}, pre: checkUtimes},
		{name: "utimes", args: [6]uint64{p0, 0}, ops: W, want: []arg{{cw, p0, fF, false, ""}}, pre: checkUtimes},
		{name: "futimesat", args: [6]uint64{3, 0, 0}, ops: W, want: []arg{{3, 0, fF, false, "nullfd,"}}, pre: checkUtimes},
		{name: "utimensat", args: [6]uint64{3, 0, 0, 0}, ops: W, want: []arg{{3, 0, fF, false, "nullfd,"}}, pre: checkUtimens},
		{name: "utimensat", args: [6]uint64{fdcwd, p0, 0, nofollow}, ops: W, want: []arg{{cw, p0, nF, false, "nullfd,"}}, pre: checkUtimens},

		{name: "mkdir", args: [6]uint64{p0, 0o755}, ops: C, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "mkdirat", args: [6]uint64{3, p0, 0o755}, ops: C, want: []arg{{3, p0, nF, false, ""}}},
		{name: "mknod", args: [6]uint64{p0}, ops: C, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "mknodat", args: [6]uint64{3, p0}, ops: C, want: []arg{{3, p0, nF, false, ""}}},
		{name: "symlink", args: [6]uint64{p1, p0}, ops: C | L, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "symlinkat", args: [6]uint64{p1, 3, p0}, ops: C | L, want: []arg{{3, p0, nF, false, ""}}},
		{name: "link", args: [6]uint64{p0, p1}, ops: C | L, want: []arg{{cw, p0, nF, false, ""}, {cw, p1, nF, false, ""}}},
		{name: "linkat", args: [6]uint64{3, p0, 4, p1, 0}, ops: C | L, want: []arg{{3, p0, nF, false, ""}, {4, p1, nF, false, ""}}},
		{name: "linkat", args: [6]uint64{3, p0, 4, p1, linux.AT_SYMLINK_FOLLOW | empty}, ops: C | L, want: []arg{{3, p0, fF, true, "creds,"}, {4, p1, nF, false, ""}}},
		{name: "rename", args: [6]uint64{p0, p1}, ops: N | C | D, want: []arg{{cw, p0, nF, false, ""}, {cw, p1, nF, false, ""}}},
		{name: "renameat", args: [6]uint64{3, p0, 4, p1}, ops: N | C | D, want: []arg{{3, p0, nF, false, ""}, {4, p1, nF, false, ""}}},
		{name: "renameat2", args: [6]uint64{3, p0, 4, p1, linux.RENAME_EXCHANGE}, ops: N | C | D, want: []arg{{3, p0, nF, false, ""}, {4, p1, nF, false, ""}}},

		{name: "unlink", args: [6]uint64{p0}, ops: D, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "rmdir", args: [6]uint64{p0}, ops: D, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "unlinkat", args: [6]uint64{3, p0, linux.AT_REMOVEDIR}, ops: D, want: []arg{{3, p0, nF, false, ""}}},

		{name: "execve", args: [6]uint64{p0}, ops: X, want: []arg{{cw, p0, fF, false, ""}}},
		{name: "execveat", args: [6]uint64{3, p0, 0, 0, empty}, ops: X, want: []arg{{3, p0, fF, true, ""}}},
		{name: "execveat", args: [6]uint64{3, p0, 0, 0, nofollow}, ops: X, want: []arg{{3, p0, nF, false, ""}}},

		{name: "chmod", args: [6]uint64{p0}, ops: M, want: []arg{{cw, p0, fF, false, ""}}},
		{name: "fchmodat", args: [6]uint64{3, p0, 0o600}, ops: M, want: []arg{{3, p0, fF, false, ""}}},
		{name: "fchmodat2", args: [6]uint64{3, p0, 0o600, nofollow}, ops: M, want: []arg{{3, p0, nF, false, ""}}, fixed: true},
		{name: "chown", args: [6]uint64{p0}, ops: O, want: []arg{{cw, p0, fF, false, ""}}},
		{name: "lchown", args: [6]uint64{p0}, ops: O, want: []arg{{cw, p0, nF, false, ""}}},
		{name: "fchownat", args: [6]uint64{3, p0, 0, 0, nofollow | empty}, ops: O, want: []arg{{3, p0, nF, true, ""}}},

		{name: "mount", args: [6]uint64{p0, p1, 0, 0}, ops: Mo, want: []arg{{cw, p1, fF, false, ""}}, pre: checkMountAdmin},
		{name: "mount", args: [6]uint64{p0, p1, 0, linux.MS_BIND | linux.MS_REC}, ops: Mo, want: []arg{{cw, p1, fF, false, ""}, {cw, p0, fF, false, ""}}, pre: checkMountAdmin},
		{name: "mount", args: [6]uint64{p0, p1, 0, linux.MS_MOVE}, ops: Mo, want: []arg{{cw, p1, fF, false, ""}, {cw, p0, fF, false, ""}}, pre: checkMountAdmin},
		{name: "mount", args: [6]uint64{p0, p1, 0, linux.MS_REMOUNT | linux.MS_BIND}, ops: Mo, want: []arg{{cw, p1, fF, false, ""}}, pre: checkMountAdmin},
		{name: "mount", args: [6]uint64{p0, p1, 0, linux.MS_PRIVATE | linux.MS_MOVE}, ops: Mo, want: []arg{{cw, p1, fF, false, ""}}, pre: checkMountAdmin},
		// The pre-2.4 magic in the high bits is not a propagation flag.
		{name: "mount", args: [6]uint64{p0, p1, 0, linux.MS_MGC_VAL | linux.MS_MOVE}, ops: Mo, want: []arg{{cw, p1, fF, false, ""}, {cw, p0, fF, false, ""}}, pre: checkMountAdmin},
		{name: "umount2", args: [6]uint64{p0, 0}, ops: Mo, want: []arg{{cw, p0, fF, false, ""}}, pre: checkMountAdmin},
		{name: "umount2", args: [6]uint64{p0, linux.UMOUNT_NOFOLLOW | linux.MNT_DETACH}, ops: Mo, want: []arg{{cw, p0, nF, false, ""}}, pre: checkMountAdmin},
		{name: "pivot_root", args: [6]uint64{p0, p1}, ops: Mo, want: []arg{{cw, p0, fF, false, ""}, {cw, p1, fF, false, ""}}, pre: checkMountAdmin},
		{name: "chroot", args: [6]uint64{p0}, ops: Mo, want: []arg{{cw, p0, fF, false, ""}}, pre: checkChroot},
		{name: "swapon", args: [6]uint64{p0, 0}, ops: Mo, want: []arg{{cw, p0, fF, false, ""}}, fixed: true},
		{name: "swapoff", args: [6]uint64{p0}, ops: Mo, want: []arg{{cw, p0, fF, false, ""}}, fixed: true},
		{name: "open_tree", args: [6]uint64{3, p0, 0}, ops: Mo, want: []arg{{3, p0, fF, false, ""}}},
		{name: "open_tree", args: [6]uint64{3, p0, linux.OPEN_TREE_CLONE | linux.AT_RECURSIVE | nofollow | empty}, ops: Mo, want: []arg{{3, p0, nF, true, ""}}, pre: checkMountAdmin},
		{name: "move_mount", args: [6]uint64{3, p0, 4, p1, 0}, ops: Mo, want: []arg{{3, p0, nF, false, ""}, {4, p1, nF, false, ""}}, pre: checkMountAdmin},
		{name: "move_mount", args: [6]uint64{3, p0, 4, p1, linux.MOVE_MOUNT_F_SYMLINKS | linux.MOVE_MOUNT_T_EMPTY_PATH},
			ops: Mo, want: []arg{{3, p0, fF, false, ""}, {4, p1, nF, true, ""}}, pre: checkMountAdmin},
		{name: "move_mount", args: [6]uint64{3, p0, 4, p1, linux.MOVE_MOUNT_F_EMPTY_PATH | linux.MOVE_MOUNT_T_SYMLINKS},
			ops: Mo, want: []arg{{3, p0, nF, true, ""}, {4, p1, fF, false, ""}}, pre: checkMountAdmin},
		{name: "fspick", args: [6]uint64{3, p0, 0}, ops: Mo, want: []arg{{3, p0, fF, false, ""}}, fixed: true},
		{name: "fspick", args: [6]uint64{3, p0, fspickSymlinkNofollow | fspickEmptyPath}, ops: Mo, want: []arg{{3, p0, nF, true, ""}}, fixed: true},
	} {
		n := number(t, tc.name)
		p, ok, err := decode(n, &tc.args, tc.how)
		if !ok || err != nil {
			t.Errorf("decode(%s %#x): ok %v, err %v", tc.name, tc.args, ok, err)
			continue
		}
		if p.ops != tc.ops {
			t.Errorf("decode(%s %#x): ops %v, want %v", tc.name, tc.args, p.ops.Names(), tc.ops.Names())
		}
		if p.n != len(tc.want) {
			t.Errorf("decode(%s %#x): %d paths, want %d", tc.name, tc.args, p.n, len(tc.want))
			continue
		}
		for i, w := range tc.want {
			if !w.of(p.paths[i]) {
				t.Errorf("decode(%s %#x): path %d = %+v, want %+v", tc.name, tc.args, i, p.paths[i], w)
			}
		}
		if p.resolve != tc.resolve || p.realCreds != tc.creds || p.pre != tc.pre || p.fixedErr != tc.fixed {
			t.Errorf("decode(%s %#x): resolve %#x creds %v pre %v fixed %v, want %#x %v %v %v",
				tc.name, tc.args, p.resolve, p.realCreds, p.pre, p.fixedErr, tc.resolve, tc.creds, tc.pre, tc.fixed)
		}
	}
}

// TestDecodeErrors checks the errors calls give for their flags before
// they look at their paths.
func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args [6]uint64
		how  *linux.OpenHow
		want error
	}{
		{"newfstatat", [6]uint64{3, p0, 0, linux.AT_REMOVEDIR}, nil, linuxerr.EINVAL},
		{"statx", [6]uint64{3, p0, linux.AT_STATX_SYNC_TYPE, 0}, nil, linuxerr.EINVAL},
		{"statx", [6]uint64{3, p0, 0, linux.STATX__RESERVED}, nil, linuxerr.EINVAL},
		{"access", [6]uint64{p0, 8}, nil, linuxerr.EINVAL},
		{"faccessat2", [6]uint64{3, p0, 0, linux.AT_NO_AUTOMOUNT}, nil, linuxerr.EINVAL},
		{"readlink", [6]uint64{p0, p1, 0}, nil, linuxerr.EINVAL},
		{"readlinkat", [6]uint64{3, p0, p1, 1 << 63}, nil, linuxerr.EINVAL},
		{"inotify_add_watch", [6]uint64{3, p0, 0}, nil, linuxerr.EINVAL},
		{"linkat", [6]uint64{3, p0, 3, p1, linux.AT_SYMLINK_NOFOLLOW}, nil, linuxerr.EINVAL},
		{"unlinkat", [6]uint64{3, p0, linux.AT_SYMLINK_NOFOLLOW}, nil, linuxerr.EINVAL},
		{"execveat", [6]uint64{3, p0, 0, 0, linux.AT_REMOVEDIR}, nil, linuxerr.EINVAL},
		{"fchownat", [6]uint64{3, p0, 0, 0, linux.AT_REMOVEDIR}, nil, linuxerr.EINVAL},
		{"mount", [6]uint64{p0, p1, 0, linux.MS_UNBINDABLE}, nil, linuxerr.EINVAL},
		{"umount2", [6]uint64{p0, linux.MNT_FORCE}, nil, linuxerr.EINVAL},
		{"open_tree", [6]uint64{3, p0, linux.AT_RECURSIVE}, nil, linuxerr.EINVAL},
		{"open_tree", [6]uint64{3, p0, linux.AT_REMOVEDIR}, nil, linuxerr.EINVAL},
		{"move_mount", [6]uint64{3, p0, 3, p1, linux.MOVE_MOUNT_BENEATH}, nil, linuxerr.EINVAL},
		{"openat2", [6]uint64{3, p0, p1, 24}, nil, linuxerr.EINVAL},
		{"openat2", [6]uint64{3, p0, p1, 24}, &linux.OpenHow{Resolve: linux.RESOLVE_BENEATH | linux.RESOLVE_IN_ROOT}, linuxerr.EINVAL},
		{"openat2", [6]uint64{3, p0, p1, 24}, &linux.OpenHow{Resolve: 0x40}, linuxerr.EINVAL},
		{"openat2", [6]uint64{3, p0, p1, 24}, &linux.OpenHow{Flags: linux.O_CREAT | linux.O_DIRECTORY}, linuxerr.EINVAL},
		{"openat2", [6]uint64{3, p0, p1, 24}, &linux.OpenHow{Flags: linux.O_PATH | linux.O_WRONLY}, linuxerr.EINVAL},
		{"openat2", [6]uint64{3, p0, p1, 24}, &linux.OpenHow{Mode: 0o644}, linuxerr.EINVAL},
		{"openat2", [6]uint64{3, p0, p1, 24}, &linux.OpenHow{Flags: linux.O_CREAT, Mode: 0o10000}, linuxerr.EINVAL},
		{"openat2", [6]uint64{3, p0, p1, 24}, &linux.OpenHow{Flags: linux.O_CREAT, Resolve: linux.RESOLVE_CACHED}, linuxerr.EAGAIN},
		{"openat2", [6]uint64{3, p0, p1, 24}, &linux.OpenHow{Flags: 1 << 40}, linuxerr.EINVAL},
	} {
		_, ok, err := decode(number(t, tc.name), &tc.args, tc.how)
		if !ok || err != tc.want {
			t.Errorf("decode(%s %#x %+v): ok %v err %v, want %v", tc.name, tc.args, tc.how, ok, err, tc.want)
		}
	}
	if _, ok, _ := decode(0, &[6]uint64{}, nil); ok {
		t.Error("decode(read) ok")
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		s, dir, name string
		dirForm      bool
	}{
		{"a", "", "a", false},
		{"/a", "/", "a", false},
		{"/etc/shadow", "/etc/", "shadow", false},
		{"/etc/../etc/./shadow", "/etc/../etc/./", "shadow", false},
		{"a//b", "a//", "b", false},
		{"a/b/", "a/", "b", true},
		{"a/b//", "a/", "b", true},
		{"/", "/", "", true},
		{"///", "///", "", true},
		{".", "", ".", true},
		{"..", "", "..", true},
		{"/etc/.", "/etc/", ".", true},
		{"a/..", "a/", "..", true},
		{"...", "", "...", false},
		{".hidden", "", ".hidden", false},
	} {
		dir, name, dirForm := split(tc.s)
		if dir != tc.dir || name != tc.name || dirForm != tc.dirForm {
			t.Errorf("split(%q) = %q %q %v, want %q %q %v", tc.s, dir, name, dirForm, tc.dir, tc.name, tc.dirForm)
		}
	}
}

func TestJoin(t *testing.T) {
	for _, tc := range []struct{ dir, name, want string }{
		{"/", "etc", "/etc"},
		{"/etc", "shadow", "/etc/shadow"},
		{"/tmp/d (deleted)", "x", "/tmp/d (deleted)/x"},
	} {
		if got := join(tc.dir, tc.name); got != tc.want {
			t.Errorf("join(%q, %q) = %q, want %q", tc.dir, tc.name, got, tc.want)
		}
	}
}
