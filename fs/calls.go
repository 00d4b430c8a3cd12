package fs

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"

	"github.com/athenaos/athena/swarm/policy"
)

// Call is what a path syscall does to files, as the kernel would see it for
// the calling task.
type Call struct {
	Ops   policy.OpSet // what the call does to the files its paths name
	N     int          // number of path arguments filled in Paths (0..2)
	Paths [2]Target
}

// Target is one path argument.
type Target struct {
	// Path is absolute and clean: every directory component resolved
	// (.., ., symlinks, dirfd, cwd), the last component as named, not
	// followed. For a last component of "." or ".." or a trailing slash
	// (or inotify's IN_ONLYDIR) it is the fully resolved directory. For an
	// empty path with AT_EMPTY_PATH (or utimensat's NULL path) it is the
	// path of the file the descriptor refers to.
	//
	// Paths are named from the root of the task's mount namespace, i.e.
	// as the container sees its file tree: a task that chroot()ed into
	// /jail and opens /etc/passwd gets /jail/etc/passwd, so that chroot
	// cannot rename a protected file. Without chroot this is the task's
	// root. A file the namespace root cannot reach (a descriptor from
	// another namespace) is named the way Linux's d_path() names it; a
	// deleted one ends in " (deleted)".
	Path string
	// Target: when the last component is a symlink that this call follows
	// (open without O_NOFOLLOW, stat, execve, chdir, ...), the fully
	// resolved path it leads to; "" otherwise (not a symlink, not
	// followed, or it does not exist). The one exception: open and creat
	// with O_CREAT (without O_EXCL) through a dangling symlink create the
	// file the link names, so Target is that file's would-be path.
	Target string
}

// x86-64 system call numbers of the calls Resolve handles. The ABI is
// fixed; numbers_amd64_test.go checks them against x/sys/unix.
const (
	sysOpen            = 2
	sysStat            = 4
	sysLstat           = 6
	sysAccess          = 21
	sysExecve          = 59
	sysTruncate        = 76
	sysChdir           = 80
	sysRename          = 82
	sysMkdir           = 83
	sysRmdir           = 84
	sysCreat           = 85
	sysLink            = 86
	sysUnlink          = 87
	sysSymlink         = 88
	sysReadlink        = 89
	sysChmod           = 90
	sysChown           = 92
	sysLchown          = 94
	sysUtime           = 132
	sysMknod           = 133
	sysStatfs          = 137
	sysPivotRoot       = 155
	sysChroot          = 161
	sysMount           = 165
	sysUmount2         = 166
	sysSwapon          = 167
	sysSwapoff         = 168
	sysSetxattr        = 188
	sysLsetxattr       = 189
	sysGetxattr        = 191
	sysLgetxattr       = 192
	sysListxattr       = 194
	sysLlistxattr      = 195
	sysRemovexattr     = 197
	sysLremovexattr    = 198
	sysUtimes          = 235
	sysInotifyAddWatch = 254
	sysOpenat          = 257
	sysMkdirat         = 258
	sysMknodat         = 259
	sysFchownat        = 260
	sysFutimesat       = 261
	sysNewfstatat      = 262
	sysUnlinkat        = 263
	sysRenameat        = 264
	sysLinkat          = 265
	sysSymlinkat       = 266
	sysReadlinkat      = 267
	sysFchmodat        = 268
	sysFaccessat       = 269
	sysUtimensat       = 280
	sysNameToHandleAt  = 303
	sysRenameat2       = 316
	sysExecveat        = 322
	sysStatx           = 332
	sysOpenTree        = 428
	sysMoveMount       = 429
	sysFspick          = 433
	sysOpenat2         = 437
	sysFaccessat2      = 439
	sysFchmodat2       = 452

	maxSysno = sysFchmodat2
)

// Flags of fspick(2) that gVisor's abi/linux does not define.
const (
	fspickSymlinkNofollow = 0x2
	fspickEmptyPath       = 0x8
)

// names maps each handled number to its name (for tests and messages).
var names = map[uintptr]string{
	sysOpen: "open", sysStat: "stat", sysLstat: "lstat", sysAccess: "access", sysExecve: "execve",
	sysTruncate: "truncate", sysChdir: "chdir", sysRename: "rename", sysMkdir: "mkdir", sysRmdir: "rmdir",
	sysCreat: "creat", sysLink: "link", sysUnlink: "unlink", sysSymlink: "symlink", sysReadlink: "readlink",
	sysChmod: "chmod", sysChown: "chown", sysLchown: "lchown", sysUtime: "utime", sysMknod: "mknod",
	sysStatfs: "statfs", sysPivotRoot: "pivot_root", sysChroot: "chroot", sysMount: "mount",
	sysUmount2: "umount2", sysSwapon: "swapon", sysSwapoff: "swapoff", sysSetxattr: "setxattr",
	sysLsetxattr: "lsetxattr", sysGetxattr: "getxattr", sysLgetxattr: "lgetxattr", sysListxattr: "listxattr",
	sysLlistxattr: "llistxattr", sysRemovexattr: "removexattr", sysLremovexattr: "lremovexattr",
	sysUtimes: "utimes", sysInotifyAddWatch: "inotify_add_watch", sysOpenat: "openat", sysMkdirat: "mkdirat",
	sysMknodat: "mknodat", sysFchownat: "fchownat", sysFutimesat: "futimesat", sysNewfstatat: "newfstatat",
	sysUnlinkat: "unlinkat", sysRenameat: "renameat", sysLinkat: "linkat", sysSymlinkat: "symlinkat",
	sysReadlinkat: "readlinkat", sysFchmodat: "fchmodat", sysFaccessat: "faccessat", sysUtimensat: "utimensat",
	sysNameToHandleAt: "name_to_handle_at", sysRenameat2: "renameat2", sysExecveat: "execveat",
	sysStatx: "statx", sysOpenTree: "open_tree", sysMoveMount: "move_mount", sysFspick: "fspick",
	sysOpenat2: "openat2", sysFaccessat2: "faccessat2", sysFchmodat2: "fchmodat2",
}

// known is names as an array, for Known.
var known [maxSysno + 1]bool

func init() {
	for n := range names {
		known[n] = true
	}
}

// Known reports whether Resolve handles sysno (x86-64 numbers).
func Known(sysno uintptr) bool {
	return sysno < uintptr(len(known)) && known[sysno]
}

// pathArg says where one path argument of a call is and how the kernel
// resolves it.
type pathArg struct {
	dirfd int32  // the directory a relative path starts at (AT_FDCWD: cwd)
	addr  uint64 // the path's address in the task's memory
	// follow: a symlink in the last component is followed.
	follow bool
	// emptyOK: an empty path names the file dirfd refers to (AT_EMPTY_PATH).
	emptyOK bool
	// emptyCreds: with emptyOK, the descriptor must have been opened with
	// the task's credentials or the task needs CAP_DAC_READ_SEARCH, else
	// ENOENT (linkat's AT_EMPTY_PATH).
	emptyCreds bool
	// nullFD: a NULL path with dirfd other than AT_FDCWD names dirfd's
	// file (utimensat, futimesat).
	nullFD bool
	// mustBeDir: resolve as if the path had a trailing slash (inotify's
	// IN_ONLYDIR).
	mustBeDir bool
	// creates: a dangling symlink in the last component is followed to
	// create the file it names (open with O_CREAT and without O_EXCL).
	creates bool
}

// precheck is a check a syscall makes before it looks at its paths and
// that needs the task (capabilities, descriptors), so that Resolve fails
// the way the call would.
type precheck uint8

const (
	checkNone       precheck = iota
	checkChroot              // CAP_SYS_CHROOT, else EPERM
	checkMountAdmin          // CAP_SYS_ADMIN in the mount namespace's owner, else EPERM
	checkInotifyFD           // args[0] must be an inotify fd: EBADF, EINVAL
	checkUtimes              // utime/utimes/futimesat: times must be readable and valid
	checkUtimens             // utimensat: times readable and valid; both UTIME_OMIT: no-op
)

// plan is what decode makes of a call: its ops and how to resolve each of
// its path arguments.
type plan struct {
	ops   policy.OpSet
	n     int
	paths [2]pathArg
	// resolve holds openat2's RESOLVE_* flags.
	resolve uint64
	// realCreds: resolve with the real rather than the effective user and
	// group (access, faccessat, faccessat2 without AT_EACCESS).
	realCreds bool
	pre       precheck
	// fixedErr: this gVisor answers the call with a fixed error
	// (ENOSYS, EOPNOTSUPP, EPERM) without looking at its paths; a path
	// that does not resolve is left out rather than failing the call with
	// an error the call would not give.
	fixedErr bool
}

// at returns a path argument starting at dirfd (AT_FDCWD for calls
// without one).
func at(dirfd int32, addr uint64, follow bool) pathArg {
	return pathArg{dirfd: dirfd, addr: addr, follow: follow}
}

func cwd(addr uint64, follow bool) pathArg { return at(linux.AT_FDCWD, addr, follow) }

func (p *plan) add(a pathArg) {
	p.paths[p.n] = a
	p.n++
}

const (
	follow   = true
	nofollow = false
)

// decode works out, from a call's number and raw arguments only, what it
// does and where its paths are. how is openat2's struct open_how, read by
// the caller (ignored for other calls). It returns the EINVAL (or EAGAIN)
// the call gives for flags it rejects before it looks at its paths, as
// this gVisor does. ok is false for calls Resolve does not handle.
//
// decode is pure: it reads no memory and no task state.
func decode(sysno uintptr, a *[6]uint64, how *linux.OpenHow) (p plan, ok bool, err error) {
	// fd and i32 read argument i as the int the kernel sees.
	fd := func(i int) int32 { return int32(a[i]) }
	i32 := fd
	switch sysno {
	// open family: ops from flags.
	case sysOpen:
		p = openPlan(linux.AT_FDCWD, a[0], uint64(uint32(a[1])), 0)
	case sysOpenat:
		p = openPlan(fd(0), a[1], uint64(uint32(a[2])), 0)
	case sysCreat:
		p = openPlan(linux.AT_FDCWD, a[0], linux.O_WRONLY|linux.O_CREAT|linux.O_TRUNC, 0)
	case sysOpenat2:
		if how == nil {
			return plan{}, true, linuxerr.EINVAL
		}
		if err := checkOpenHow(how); err != nil {
			return plan{}, true, err
		}
		p = openPlan(fd(0), a[1], how.Flags, how.Resolve)

	// read
	case sysStat:
		p.add(cwd(a[0], follow))
		p.ops = policy.OpRead
	case sysLstat:
		p.add(cwd(a[0], nofollow))
		p.ops = policy.OpRead
	case sysNewfstatat:
		flags := i32(3) &^ linux.AT_NO_AUTOMOUNT
		if flags&^(linux.AT_EMPTY_PATH|linux.AT_SYMLINK_NOFOLLOW) != 0 {
			return plan{}, true, linuxerr.EINVAL
		}
		p.add(atFlags(fd(0), a[1], flags))
		p.ops = policy.OpRead
	case sysStatx:
		flags := i32(2) &^ linux.AT_NO_AUTOMOUNT
		if flags&^(linux.AT_EMPTY_PATH|linux.AT_SYMLINK_NOFOLLOW|linux.AT_STATX_SYNC_TYPE) != 0 {
			return plan{}, true, linuxerr.EINVAL
		}
		if sync := uint32(flags & linux.AT_STATX_SYNC_TYPE); sync&(sync-1) != 0 {
			return plan{}, true, linuxerr.EINVAL
		}
		if uint32(a[3])&linux.STATX__RESERVED != 0 {
			return plan{}, true, linuxerr.EINVAL
		}
		p.add(atFlags(fd(0), a[1], flags))
		p.ops = policy.OpRead
	case sysAccess:
		if err := accessMode(a[1], 0); err != nil {
			return plan{}, true, err
		}
		p.add(cwd(a[0], follow))
		p.ops, p.realCreds = policy.OpRead, true
	case sysFaccessat:
		if err := accessMode(a[2], 0); err != nil {
			return plan{}, true, err
		}
		p.add(at(fd(0), a[1], follow))
		p.ops, p.realCreds = policy.OpRead, true
	case sysFaccessat2:
		flags := i32(3)
		if err := accessMode(a[2], flags); err != nil {
			return plan{}, true, err
		}
		p.add(atFlags(fd(0), a[1], flags))
		p.ops, p.realCreds = policy.OpRead, flags&linux.AT_EACCESS == 0
	case sysReadlink, sysReadlinkat:
		// "Since Linux 2.6.39, pathname can be an empty string, in which
		// case the call operates on the symbolic link referred to by
		// dirfd" - readlinkat(2); gVisor allows it for readlink too.
		arg, size := cwd(a[0], nofollow), a[2]
		if sysno == sysReadlinkat {
			arg, size = at(fd(0), a[1], nofollow), a[3]
		}
		if int(size) <= 0 {
			return plan{}, true, linuxerr.EINVAL
		}
		arg.emptyOK = true
		p.add(arg)
		p.ops = policy.OpRead
	case sysGetxattr, sysListxattr:
		p.add(cwd(a[0], follow))
		p.ops = policy.OpRead
	case sysLgetxattr, sysLlistxattr:
		p.add(cwd(a[0], nofollow))
		p.ops = policy.OpRead
	case sysStatfs:
		p.add(cwd(a[0], follow))
		p.ops = policy.OpRead
	case sysChdir:
		p.add(cwd(a[0], follow))
		p.ops = policy.OpRead
	case sysInotifyAddWatch:
		mask := uint32(a[2])
		if mask&linux.ALL_INOTIFY_BITS == 0 {
			return plan{}, true, linuxerr.EINVAL
		}
		// args[0] is the inotify descriptor, not a directory.
		arg := cwd(a[1], mask&linux.IN_DONT_FOLLOW == 0)
		arg.mustBeDir = mask&linux.IN_ONLYDIR != 0
		p.add(arg)
		p.ops, p.pre = policy.OpRead, checkInotifyFD
	case sysNameToHandleAt:
		// Unlike the *at calls, name_to_handle_at follows only with
		// AT_SYMLINK_FOLLOW.
		flags := i32(4)
		arg := at(fd(0), a[1], flags&linux.AT_SYMLINK_FOLLOW != 0)
		arg.emptyOK = flags&linux.AT_EMPTY_PATH != 0
		p.add(arg)
		p.ops, p.fixedErr = policy.OpRead, true

	// write
	case sysTruncate:
		p.add(cwd(a[0], follow))
		p.ops = policy.OpWrite
	case sysSetxattr, sysRemovexattr:
		p.add(cwd(a[0], follow))
		p.ops = policy.OpWrite
	case sysLsetxattr, sysLremovexattr:
		p.add(cwd(a[0], nofollow))
		p.ops = policy.OpWrite
	case sysUtime, sysUtimes:
		p.add(cwd(a[0], follow))
		p.ops, p.pre = policy.OpWrite, checkUtimes
	case sysFutimesat:
		arg := at(fd(0), a[1], follow)
		arg.nullFD = true
		p.add(arg)
		p.ops, p.pre = policy.OpWrite, checkUtimes
	case sysUtimensat:
		// The flags are checked after the times (checkUtimens), as
		// gVisor and Linux do; Resolve calls checkUtimensFlags.
		arg := atFlags(fd(0), a[1], i32(3))
		arg.nullFD = true
		p.add(arg)
		p.ops, p.pre = policy.OpWrite, checkUtimens

	// create
	case sysMkdir, sysMknod:
		p.add(cwd(a[0], nofollow))
		p.ops = policy.OpCreate
	case sysMkdirat, sysMknodat:
		p.add(at(fd(0), a[1], nofollow))
		p.ops = policy.OpCreate
	case sysSymlink:
		// args[0] is the link's text, not resolved.
		p.add(cwd(a[1], nofollow))
		p.ops = policy.OpCreate | policy.OpLink
	case sysSymlinkat:
		p.add(at(fd(1), a[2], nofollow))
		p.ops = policy.OpCreate | policy.OpLink
	case sysLink:
		p.add(cwd(a[0], nofollow))
		p.add(cwd(a[1], nofollow))
		p.ops = policy.OpCreate | policy.OpLink
	case sysLinkat:
		flags := i32(4)
		if flags&^(linux.AT_EMPTY_PATH|linux.AT_SYMLINK_FOLLOW) != 0 {
			return plan{}, true, linuxerr.EINVAL
		}
		old := at(fd(0), a[1], flags&linux.AT_SYMLINK_FOLLOW != 0)
		old.emptyOK = flags&linux.AT_EMPTY_PATH != 0
		old.emptyCreds = old.emptyOK
		p.add(old)
		p.add(at(fd(2), a[3], nofollow))
		p.ops = policy.OpCreate | policy.OpLink
	case sysRename:
		p.add(cwd(a[0], nofollow))
		p.add(cwd(a[1], nofollow))
		p.ops = policy.OpRename | policy.OpCreate | policy.OpDelete
	case sysRenameat, sysRenameat2:
		// renameat2's flags (RENAME_NOREPLACE, RENAME_EXCHANGE,
		// RENAME_WHITEOUT) change neither the paths nor the ops: with
		// RENAME_EXCHANGE each name is both removed and created.
		p.add(at(fd(0), a[1], nofollow))
		p.add(at(fd(2), a[3], nofollow))
		p.ops = policy.OpRename | policy.OpCreate | policy.OpDelete

	// delete
	case sysUnlink, sysRmdir:
		p.add(cwd(a[0], nofollow))
		p.ops = policy.OpDelete
	case sysUnlinkat:
		if i32(2)&^linux.AT_REMOVEDIR != 0 {
			return plan{}, true, linuxerr.EINVAL
		}
		p.add(at(fd(0), a[1], nofollow))
		p.ops = policy.OpDelete

	// exec
	case sysExecve:
		p.add(cwd(a[0], follow))
		p.ops = policy.OpExec
	case sysExecveat:
		flags := i32(4)
		if flags&^(linux.AT_EMPTY_PATH|linux.AT_SYMLINK_NOFOLLOW) != 0 {
			return plan{}, true, linuxerr.EINVAL
		}
		p.add(atFlags(fd(0), a[1], flags))
		p.ops = policy.OpExec

	// chmod, chown
	case sysChmod:
		p.add(cwd(a[0], follow))
		p.ops = policy.OpChmod
	case sysFchmodat:
		p.add(at(fd(0), a[1], follow))
		p.ops = policy.OpChmod
	case sysFchmodat2:
		p.add(atFlags(fd(0), a[1], i32(3)))
		p.ops, p.fixedErr = policy.OpChmod, true
	case sysChown:
		p.add(cwd(a[0], follow))
		p.ops = policy.OpChown
	case sysLchown:
		p.add(cwd(a[0], nofollow))
		p.ops = policy.OpChown
	case sysFchownat:
		flags := i32(4)
		if flags&^(linux.AT_EMPTY_PATH|linux.AT_SYMLINK_NOFOLLOW) != 0 {
			return plan{}, true, linuxerr.EINVAL
		}
		p.add(atFlags(fd(0), a[1], flags))
		p.ops = policy.OpChown

	// mount
	case sysMount:
		p, err = mountPlan(a)
	case sysUmount2:
		flags := i32(1)
		if flags&(linux.MNT_FORCE|linux.MNT_EXPIRE) != 0 {
			return plan{}, true, linuxerr.EINVAL
		}
		p.add(cwd(a[0], flags&linux.UMOUNT_NOFOLLOW == 0))
		p.ops, p.pre = policy.OpMount, checkMountAdmin
	case sysPivotRoot:
		p.add(cwd(a[0], follow))
		p.add(cwd(a[1], follow))
		p.ops, p.pre = policy.OpMount, checkMountAdmin
	case sysChroot:
		p.add(cwd(a[0], follow))
		p.ops, p.pre = policy.OpMount, checkChroot
	case sysSwapon, sysSwapoff:
		p.add(cwd(a[0], follow))
		p.ops, p.fixedErr = policy.OpMount, true
	case sysOpenTree:
		flags := uint32(a[2]) &^ linux.AT_NO_AUTOMOUNT
		if flags&^(linux.AT_EMPTY_PATH|linux.AT_SYMLINK_NOFOLLOW|linux.OPEN_TREE_CLOEXEC|linux.OPEN_TREE_CLONE|linux.AT_RECURSIVE) != 0 {
			return plan{}, true, linuxerr.EINVAL
		}
		clone := flags&linux.OPEN_TREE_CLONE != 0
		if flags&linux.AT_RECURSIVE != 0 && !clone {
			return plan{}, true, linuxerr.EINVAL
		}
		p.add(atFlags(fd(0), a[1], int32(flags)))
		p.ops = policy.OpMount
		if clone {
			p.pre = checkMountAdmin
		}
	case sysMoveMount:
		flags := uint32(a[4]) &^ (linux.MOVE_MOUNT_F_AUTOMOUNTS | linux.MOVE_MOUNT_T_AUTOMOUNTS)
		if flags&^(linux.MOVE_MOUNT_F_EMPTY_PATH|linux.MOVE_MOUNT_T_EMPTY_PATH|linux.MOVE_MOUNT_F_SYMLINKS|linux.MOVE_MOUNT_T_SYMLINKS) != 0 {
			return plan{}, true, linuxerr.EINVAL
		}
		from := at(fd(0), a[1], flags&linux.MOVE_MOUNT_F_SYMLINKS != 0)
		from.emptyOK = flags&linux.MOVE_MOUNT_F_EMPTY_PATH != 0
		to := at(fd(2), a[3], flags&linux.MOVE_MOUNT_T_SYMLINKS != 0)
		to.emptyOK = flags&linux.MOVE_MOUNT_T_EMPTY_PATH != 0
		p.add(from)
		p.add(to)
		p.ops, p.pre = policy.OpMount, checkMountAdmin
	case sysFspick:
		flags := uint32(a[2])
		arg := at(fd(0), a[1], flags&fspickSymlinkNofollow == 0)
		arg.emptyOK = flags&fspickEmptyPath != 0
		p.add(arg)
		p.ops, p.fixedErr = policy.OpMount, true
	default:
		return plan{}, false, nil
	}
	if err != nil {
		return plan{}, true, err
	}
	return p, true, nil
}

// atFlags returns a path argument of an *at call whose flags take
// AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH.
func atFlags(dirfd int32, addr uint64, flags int32) pathArg {
	a := at(dirfd, addr, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	a.emptyOK = flags&linux.AT_EMPTY_PATH != 0
	return a
}

// accessMode checks access's mode and faccessat2's flags as gVisor does.
func accessMode(mode uint64, flags int32) error {
	if uint32(mode)&^7 != 0 {
		return linuxerr.EINVAL
	}
	// faccessat2(2) isn't documented as supporting AT_EMPTY_PATH, but it does.
	if flags&^(linux.AT_EACCESS|linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return linuxerr.EINVAL
	}
	return nil
}

// openOps returns what an open with these flags does to its file:
// O_ACCMODE read-only → OpRead, write-only → OpWrite, O_RDWR (and the
// ioctl-only 3, which Linux checks for read and write) → both; O_CREAT
// and O_TMPFILE add OpCreate, O_TRUNC adds OpWrite; O_PATH is OpRead
// whatever else is set (the kernel ignores the other flags).
func openOps(flags uint64) policy.OpSet {
	if flags&linux.O_PATH != 0 {
		return policy.OpRead
	}
	var ops policy.OpSet
	switch flags & linux.O_ACCMODE {
	case linux.O_RDONLY:
		ops = policy.OpRead
	case linux.O_WRONLY:
		ops = policy.OpWrite
	default:
		ops = policy.OpRead | policy.OpWrite
	}
	if flags&(linux.O_CREAT|linux.O_TMPFILE) != 0 {
		ops |= policy.OpCreate
	}
	if flags&linux.O_TRUNC != 0 {
		ops |= policy.OpWrite
	}
	return ops
}

// openPlan is the plan of open, openat, openat2 and creat.
func openPlan(dirfd int32, addr uint64, flags, resolve uint64) plan {
	var p plan
	// O_CREAT|O_EXCL never follows: "If pathname is a symbolic link, then
	// open() fails regardless of where the symbolic link points." gVisor
	// returns EEXIST for it.
	creat := flags&linux.O_CREAT != 0 && flags&linux.O_TMPFILE == 0
	excl := creat && flags&linux.O_EXCL != 0
	arg := at(dirfd, addr, flags&linux.O_NOFOLLOW == 0 && !excl)
	arg.creates = creat && arg.follow
	p.add(arg)
	p.ops = openOps(flags)
	p.resolve = resolve
	return p
}

// checkOpenHow validates openat2's struct open_how as gVisor's Openat2
// does, before it looks at the path.
func checkOpenHow(how *linux.OpenHow) error {
	flags, mode, resolve := how.Flags, how.Mode, how.Resolve
	if resolve&^(linux.RESOLVE_BENEATH|linux.RESOLVE_IN_ROOT|linux.RESOLVE_CACHED|linux.RESOLVE_NO_MAGICLINKS|linux.RESOLVE_NO_SYMLINKS|linux.RESOLVE_NO_XDEV) != 0 {
		return linuxerr.EINVAL
	}
	if resolve&linux.RESOLVE_BENEATH != 0 && resolve&linux.RESOLVE_IN_ROOT != 0 {
		return linuxerr.EINVAL
	}
	if flags&^linux.ValidOpenFlags != 0 {
		return linuxerr.EINVAL
	}
	if flags&(linux.O_DIRECTORY|linux.O_CREAT) == linux.O_DIRECTORY|linux.O_CREAT {
		return linuxerr.EINVAL
	}
	if flags&linux.O_PATH != 0 && flags&^linux.ValidOPathFlags != 0 {
		return linuxerr.EINVAL
	}
	if flags&(linux.O_CREAT|linux.O_TMPFILE) == 0 && mode != 0 {
		return linuxerr.EINVAL
	}
	if mode&^0o7777 != 0 {
		return linuxerr.EINVAL
	}
	if resolve&linux.RESOLVE_CACHED != 0 && flags&(linux.O_TRUNC|linux.O_CREAT|linux.O_TMPFILE) != 0 {
		return linuxerr.EAGAIN
	}
	return nil
}

// mountPlan is the plan of mount(2): the target always (followed), the
// source too when the call names a path with it, in the order Linux and
// gVisor test the flags: MS_REMOUNT (source ignored), MS_BIND (source is
// a path), propagation flags (source ignored), MS_MOVE (source is a path),
// else a new mount (source is a device name or "none", not resolved).
// The target is Paths[0] and the source, when it is a path, Paths[1]:
// gVisor resolves the target first, so its errors come first.
func mountPlan(a *[6]uint64) (plan, error) {
	var p plan
	flags := a[3]
	if flags&linux.MS_MGC_MSK == linux.MS_MGC_VAL {
		flags &^= linux.MS_MGC_MSK
	}
	if flags&(linux.MS_UNBINDABLE|linux.MS_NODIRATIME) != 0 {
		// gVisor rejects these before it looks at the target.
		return plan{}, linuxerr.EINVAL
	}
	sourceIsPath := false
	switch {
	case flags&linux.MS_REMOUNT != 0:
	case flags&linux.MS_BIND != 0:
		sourceIsPath = true
	case flags&(linux.MS_SHARED|linux.MS_PRIVATE|linux.MS_SLAVE|linux.MS_UNBINDABLE) != 0:
	case flags&linux.MS_MOVE != 0:
		sourceIsPath = true
	}
	p.add(cwd(a[1], follow))
	if sourceIsPath {
		p.add(cwd(a[0], follow))
	}
	p.ops, p.pre = policy.OpMount, checkMountAdmin
	return p, nil
}
