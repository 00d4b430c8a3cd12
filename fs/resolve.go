package fs

import (
	"gvisor.dev/gvisor/pkg/marshal"
	"strings"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/context"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/fspath"
	"gvisor.dev/gvisor/pkg/hostarch"
	"gvisor.dev/gvisor/pkg/sentry/arch"
	"gvisor.dev/gvisor/pkg/sentry/kernel/auth"
	"gvisor.dev/gvisor/pkg/sentry/vfs"
)

// Task is what Resolve needs of the calling task: its memory, descriptors,
// credentials, capabilities, roots and VFS. sentry/ adapts *kernel.Task to
// it (only sentry/ touches gVisor's kernel package; STYLE.md section 3).
type Task interface {
	context.Context
	// marshal.CopyContext: CopyScratchBuffer, CopyInBytes, CopyOutBytes.
	marshal.CopyContext
	CopyInString(addr hostarch.Addr, maxlen int) (string, error)
	GetFile(fd int32) *vfs.FileDescription
	Credentials() *auth.Credentials
	HasSelfCapability(cp linux.Capability) bool
	HasCapabilityIn(cp linux.Capability, ns *auth.UserNamespace) bool
	MountNamespace() *vfs.MountNamespace
	// VFS is the kernel's virtual filesystem.
	VFS() *vfs.VirtualFilesystem
	// RootDirectory and WorkingDirectory return the task's root and cwd
	// with a reference the caller drops (a zero VirtualDentry when the
	// task is exiting).
	RootDirectory() vfs.VirtualDentry
	WorkingDirectory() vfs.VirtualDentry
}

// Resolve fills c for a call of sysno with args by task t. It changes
// nothing and holds no reference when it returns.
//
// Errors are those the syscall itself would return, in the order it
// checks: first what it checks before it looks at a path (invalid flags:
// EINVAL; missing capability for mount, umount2, pivot_root, chroot,
// move_mount, open_tree(OPEN_TREE_CLONE): EPERM; openat2's struct
// open_how: EFAULT, EINVAL, E2BIG, EAGAIN; inotify_add_watch's
// descriptor: EBADF, EINVAL; the times of utime, utimes, futimesat and
// utimensat: EFAULT, EINVAL), then, per path, EFAULT for a bad pointer,
// ENAMETOOLONG, ENOENT for an empty path without AT_EMPTY_PATH, EXDEV for
// an absolute path with RESOLVE_BENEATH, EBADF for a bad dirfd, and the
// errors of resolving the directory part (ENOENT, ENOTDIR, ELOOP,
// EACCES, EXDEV and EAGAIN for openat2's RESOLVE_* flags, ...).
//
// What is wrong with the last component itself (missing, not a directory
// before a trailing slash, a symlink loop or a dangling symlink when
// followed) is not an error: Path names it and Target is "", and the
// call reports its own error. The exception is open with O_CREAT through
// a dangling symlink, which resolves where the file would be created and
// fails with what that resolution meets.
//
// For calls this gVisor answers with a fixed error without looking at the
// path (fchmodat2, name_to_handle_at, fspick, swapon, swapoff), a path
// that does not resolve is left out of c instead of failing the call.
//
// utimensat with both times UTIME_OMIT does nothing and succeeds whatever
// the path: c then has the call's Ops and no path (N == 0).
//
// For a sysno that Known rejects, Resolve returns ENOSYS and leaves c
// empty.
//
// Preconditions: t is the calling task and Resolve runs on its goroutine
// (it reads t's memory and descriptor table).
func Resolve(t Task, sysno uintptr, args *arch.SyscallArguments, c *Call) error {
	*c = Call{}
	var raw [6]uint64
	for i := range raw {
		raw[i] = uint64(args[i].Value)
	}
	var how *linux.OpenHow
	var howBuf linux.OpenHow
	if sysno == sysOpenat2 {
		if err := copyInOpenHow(t, hostarch.Addr(raw[2]), raw[3], &howBuf); err != nil {
			return err
		}
		how = &howBuf
	}
	p, ok, err := decode(sysno, &raw, how)
	if !ok {
		return linuxerr.ENOSYS
	}
	if err != nil {
		return err
	}
	noop, err := runPrecheck(t, p.pre, sysno, &raw)
	if err != nil {
		return err
	}
	c.Ops = p.ops
	if noop {
		return nil
	}

	var r resolver
	if err := r.init(t, &p); err != nil {
		return err
	}
	defer r.release()
	for i := range p.n {
		err := r.path(&p.paths[i], &c.Paths[c.N])
		if err != nil {
			c.Paths[c.N] = Target{}
			if p.fixedErr {
				continue
			}
			*c = Call{}
			return err
		}
		c.N++
	}
	return nil
}

// copyInOpenHow reads openat2's struct open_how as gVisor's Openat2 does.
func copyInOpenHow(t Task, addr hostarch.Addr, size uint64, how *linux.OpenHow) error {
	if size < linux.OPEN_HOW_SIZE_VER0 {
		return linuxerr.EINVAL
	}
	if size > hostarch.PageSize {
		return linuxerr.E2BIG
	}
	if _, err := how.CopyInN(t, addr, int(min(size, linux.OPEN_HOW_SIZE_LATEST))); err != nil {
		return err
	}
	if size > linux.OPEN_HOW_SIZE_LATEST {
		// A newer struct: the fields this kernel does not know must be 0.
		buf := make([]byte, size-linux.OPEN_HOW_SIZE_LATEST)
		if _, err := t.CopyInBytes(addr+linux.OPEN_HOW_SIZE_LATEST, buf); err != nil {
			return err
		}
		for _, b := range buf {
			if b != 0 {
				return linuxerr.E2BIG
			}
		}
	}
	return nil
}

// runPrecheck makes the checks a call makes before it looks at its paths
// and that need the task. noop reports a call that will do nothing to any
// path and succeed (utimensat with both times UTIME_OMIT).
func runPrecheck(t Task, pre precheck, sysno uintptr, a *[6]uint64) (noop bool, err error) {
	switch pre {
	case checkChroot:
		if !t.HasSelfCapability(linux.CAP_SYS_CHROOT) {
			return false, linuxerr.EPERM
		}
	case checkMountAdmin:
		if !t.HasCapabilityIn(linux.CAP_SYS_ADMIN, t.MountNamespace().Owner) {
			return false, linuxerr.EPERM
		}
	case checkInotifyFD:
		f := t.GetFile(int32(a[0]))
		if f == nil {
			return false, linuxerr.EBADF
		}
		_, ok := f.Impl().(*vfs.Inotify)
		f.DecRef(t)
		if !ok {
			return false, linuxerr.EINVAL
		}
	case checkUtimes:
		return false, checkTimeval(t, sysno, a)
	case checkUtimens:
		return checkTimespec(t, a)
	}
	return false, nil
}

// checkTimeval reads and checks the times of utime, utimes and futimesat
// as gVisor does before it looks at the path.
func checkTimeval(t Task, sysno uintptr, a *[6]uint64) error {
	addr := hostarch.Addr(a[1])
	if sysno == sysFutimesat {
		addr = hostarch.Addr(a[2])
	}
	if addr == 0 {
		return nil
	}
	if sysno == sysUtime {
		var times linux.Utime
		_, err := times.CopyIn(t, addr)
		return err
	}
	var times [2]linux.Timeval
	if _, err := linux.CopyTimevalSliceIn(t, addr, times[:]); err != nil {
		return err
	}
	for _, tv := range times {
		if tv.Usec < 0 || tv.Usec > 999999 {
			return linuxerr.EINVAL
		}
	}
	return nil
}

// checkTimespec reads and checks utimensat's times, then its flags, in
// gVisor's (and Linux's) order: both UTIME_OMIT is a successful no-op
// whatever the path and flags.
func checkTimespec(t Task, a *[6]uint64) (noop bool, err error) {
	if addr := hostarch.Addr(a[2]); addr != 0 {
		var times [2]linux.Timespec
		if _, err := linux.CopyTimespecSliceIn(t, addr, times[:]); err != nil {
			return false, err
		}
		omit := 0
		for _, ts := range times {
			if ts.Nsec == linux.UTIME_OMIT {
				omit++
				continue
			}
			if ts.Nsec != linux.UTIME_NOW && (ts.Nsec < 0 || ts.Nsec > 999999999) {
				return false, linuxerr.EINVAL
			}
		}
		if omit == 2 {
			return true, nil
		}
	}
	if int32(a[3])&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return false, linuxerr.EINVAL
	}
	return false, nil
}

// resolver resolves the path arguments of one call.
type resolver struct {
	// t is the calling task (path reads its memory and descriptors); ctx
	// is t as a context for the VFS. Only path needs t, so that tests can
	// drive the rest with a plain context.
	t     Task
	ctx   context.Context
	vfs   *vfs.VirtualFilesystem
	creds *auth.Credentials
	// root is the task's root: where absolute paths start. A reference is
	// held until release.
	root vfs.VirtualDentry
	// nsroot is the root of the task's mount namespace: where names are
	// made from. A reference is held until release.
	nsroot vfs.VirtualDentry
	// resolve holds openat2's RESOLVE_* flags (0 for other calls).
	resolve uint64
	// start is where the current path argument's relative paths start
	// (cwd or dirfd; with RESOLVE_IN_ROOT also absolute ones). Set by
	// path, which holds its reference while it runs.
	start vfs.VirtualDentry
}

// init takes references on t's roots; release drops them.
func (r *resolver) init(t Task, p *plan) error {
	*r = resolver{
		t:       t,
		ctx:     t,
		vfs:     t.VFS(),
		creds:   t.Credentials(),
		resolve: p.resolve,
	}
	if p.realCreds {
		// "access() needs to use the real uid/gid, not the effective
		// uid/gid." - fs/open.c:faccessat; gVisor's accessAt does the same.
		creds := r.creds.Fork()
		creds.EffectiveKUID = creds.RealKUID
		creds.EffectiveKGID = creds.RealKGID
		if creds.EffectiveKUID.In(creds.UserNamespace) == auth.RootUID {
			creds.EffectiveCaps = creds.PermittedCaps
		} else {
			creds.EffectiveCaps = 0
		}
		r.creds = creds
	}
	r.root = t.RootDirectory()
	if !r.root.Ok() {
		// The task is exiting: its FSContext is gone.
		return linuxerr.ESRCH
	}
	if mntns := t.MountNamespace(); mntns != nil {
		r.nsroot = mntns.Root(t)
	}
	if !r.nsroot.Ok() {
		// An anonymous namespace whose root moved away: name from the
		// task's root.
		r.nsroot = r.root
		r.nsroot.IncRef()
	}
	return nil
}

func (r *resolver) release() {
	r.root.DecRef(r.ctx)
	r.nsroot.DecRef(r.ctx)
}

// path resolves one path argument into out.
func (r *resolver) path(a *pathArg, out *Target) error {
	t := r.t
	if a.nullFD && a.addr == 0 && a.dirfd != linux.AT_FDCWD {
		// "If filename is NULL and dfd refers to an open file, then
		// operate on the file." - fs/utimes.c:do_utimes()
		f := t.GetFile(a.dirfd)
		if f == nil {
			return linuxerr.EBADF
		}
		defer f.DecRef(t)
		var err error
		out.Path, err = r.name(f.VirtualDentry())
		return err
	}
	s, err := t.CopyInString(hostarch.Addr(a.addr), linux.PATH_MAX)
	if err != nil {
		return err
	}
	path := fspath.Parse(s)
	// As gVisor's getTaskPathOperation.
	if !path.Absolute && !path.HasComponents() && !a.emptyOK {
		return linuxerr.ENOENT
	}
	if r.resolve&linux.RESOLVE_BENEATH != 0 && path.Absolute {
		return linuxerr.EXDEV
	}
	start := r.root
	if !path.Absolute || r.resolve&linux.RESOLVE_IN_ROOT != 0 {
		if a.dirfd == linux.AT_FDCWD {
			start = t.WorkingDirectory()
			defer start.DecRef(t)
		} else {
			f := t.GetFile(a.dirfd)
			if f == nil {
				return linuxerr.EBADF
			}
			defer f.DecRef(t)
			// linkat's AT_EMPTY_PATH: "allowed only if t's creds are
			// identical to the creds under which the FD was opened, or
			// if t has CAP_DAC_READ_SEARCH in those creds' userns".
			if a.emptyCreds && f.Credentials() != t.Credentials() && !t.HasCapabilityIn(linux.CAP_DAC_READ_SEARCH, f.Credentials().UserNamespace) {
				return linuxerr.ENOENT
			}
			start = f.VirtualDentry()
		}
	}
	r.start = start
	if !path.Absolute && !path.HasComponents() {
		// AT_EMPTY_PATH: the file dirfd (or cwd) refers to itself.
		out.Path, err = r.name(start)
		return err
	}
	return r.named(s, a, out)
}

// named resolves a non-empty path s from r.start: the directory part
// fully, the last component as named, and where it leads if a.follow.
func (r *resolver) named(s string, a *pathArg, out *Target) error {
	dir, name, dirForm := split(s)
	full := fspath.Parse(s)
	if a.mustBeDir {
		full.Dir = true
		dirForm = true
	}
	if name == "" {
		// Only slashes: the root.
		vd, err := r.get(full, follow, false)
		if err != nil {
			return err
		}
		out.Path, err = r.nameRelease(vd)
		return err
	}
	parent, err := r.parent(dir, name)
	if err != nil {
		return err
	}
	if dirForm {
		// "." or "..", or a trailing slash, which follows a symlink:
		// the directory itself.
		vd, err := r.get(full, follow, false)
		if err == nil {
			out.Path, err = r.nameRelease(vd)
			return err
		}
		if name == "." || name == ".." {
			return err
		}
		// Missing, or not a directory: the call reports it.
		out.Path = join(parent, name)
		return nil
	}
	out.Path = join(parent, name)
	if a.follow {
		out.Target, err = r.target(s, full, a.creates)
	}
	return err
}

// parent resolves the directory part dir of a path (with the task's
// search permission on it) and returns its name; name is the last
// component, checked for length.
func (r *resolver) parent(dir, name string) (string, error) {
	vd, err := r.get(fspath.Parse(dir), follow, true)
	if err != nil {
		return "", err
	}
	p, err := r.nameRelease(vd)
	if err != nil {
		return "", err
	}
	if len(name) > linux.NAME_MAX {
		return "", linuxerr.ENAMETOOLONG
	}
	return p, nil
}

// target returns where the last component of full (text s) leads if it
// is a symlink, "" if it is not or does not exist or cannot be followed.
// creates: a dangling symlink is followed to name the file an O_CREAT
// open would create.
func (r *resolver) target(s string, full fspath.Path, creates bool) (string, error) {
	last, err := r.get(full, nofollow, false)
	if err != nil {
		// Missing (a create) or not reachable: the call reports it.
		return "", nil
	}
	defer last.DecRef(r.ctx)
	if !r.maybeSymlink(last) {
		return "", nil
	}
	vd, err := r.get(full, follow, false)
	if err == nil {
		if vd == last {
			// Not a symlink after all (its type could not be read).
			vd.DecRef(r.ctx)
			return "", nil
		}
		return r.nameRelease(vd)
	}
	if creates && linuxerr.Equals(linuxerr.ENOENT, err) {
		return r.dangling(s)
	}
	// A dangling symlink, a loop, RESOLVE_NO_SYMLINKS...: the call fails
	// with it.
	return "", nil
}

// dangling follows the dangling symlink that path text s ends in, as an
// O_CREAT open does, and returns the path of the file it would create.
// It substitutes the link's text for the last component and resolves the
// result again, up to MaxSymlinkTraversals links.
func (r *resolver) dangling(s string) (string, error) {
	text := s
	for range linux.MaxSymlinkTraversals {
		pop := r.pop(fspath.Parse(text), nofollow)
		link, err := r.vfs.ReadlinkAt(r.ctx, r.creds, &pop)
		if err != nil {
			return "", err
		}
		if link == "" {
			return "", linuxerr.ENOENT
		}
		if link[0] == '/' {
			if r.resolve&linux.RESOLVE_BENEATH != 0 {
				return "", linuxerr.EXDEV
			}
			text = link
		} else {
			dir, _, _ := split(text)
			text = dir + link
		}
		dir, name, dirForm := split(text)
		if name == "" || dirForm {
			// O_CREAT on a directory name.
			return "", linuxerr.EISDIR
		}
		parent, err := r.parent(dir, name)
		if err != nil {
			return "", err
		}
		full := fspath.Parse(text)
		last, err := r.get(full, nofollow, false)
		if linuxerr.Equals(linuxerr.ENOENT, err) {
			return join(parent, name), nil
		}
		if err != nil {
			return "", err
		}
		isLink := r.maybeSymlink(last)
		if !isLink {
			// It exists now: the open opens it.
			last.DecRef(r.ctx)
			return join(parent, name), nil
		}
		vd, err := r.get(full, follow, false)
		if err == nil {
			same := vd == last
			last.DecRef(r.ctx)
			if same {
				vd.DecRef(r.ctx)
				return join(parent, name), nil
			}
			return r.nameRelease(vd)
		}
		last.DecRef(r.ctx)
		if !linuxerr.Equals(linuxerr.ENOENT, err) {
			return "", err
		}
		// Dangling again.
	}
	return "", linuxerr.ELOOP
}

// pop returns the path operation of p from r.start, with the call's
// RESOLVE_* flags. References are borrowed from r.
func (r *resolver) pop(p fspath.Path, follow bool) vfs.PathOperation {
	start := r.start
	if p.Absolute && r.resolve&linux.RESOLVE_IN_ROOT == 0 {
		start = r.root
	}
	return vfs.PathOperation{
		Root:               r.root,
		Start:              start,
		Path:               p,
		FollowFinalSymlink: follow,
		ResolveFlags:       r.resolve,
	}
}

// get returns the dentry p leads to, with a reference. searchable: it
// must be a directory the task may search (ENOTDIR, EACCES).
func (r *resolver) get(p fspath.Path, follow, searchable bool) (vfs.VirtualDentry, error) {
	pop := r.pop(p, follow)
	return r.vfs.GetDentryAt(r.ctx, r.creds, &pop, &vfs.GetDentryOptions{CheckSearchable: searchable})
}

// maybeSymlink reports whether vd may be a symbolic link: false only if
// its type was read and is not a symlink. Callers compare the followed
// dentry with vd when it returns true.
func (r *resolver) maybeSymlink(vd vfs.VirtualDentry) bool {
	// An empty path from vd stats vd itself, without following.
	pop := vfs.PathOperation{Root: r.root, Start: vd}
	st, err := r.vfs.StatAt(r.ctx, r.creds, &pop, &vfs.StatOptions{Mask: linux.STATX_TYPE})
	if err != nil || st.Mask&linux.STATX_TYPE == 0 {
		return true
	}
	return st.Mode&linux.S_IFMT == linux.S_IFLNK
}

// name returns vd's path from the mount namespace's root.
func (r *resolver) name(vd vfs.VirtualDentry) (string, error) {
	return r.vfs.PathnameWithDeleted(r.ctx, r.nsroot, vd)
}

// nameRelease is name, then drops the caller's reference on vd.
func (r *resolver) nameRelease(vd vfs.VirtualDentry) (string, error) {
	s, err := r.name(vd)
	vd.DecRef(r.ctx)
	return s, err
}

// split cuts path text s (not empty) into its directory part (everything
// up to and including the last slash before the last component; "" for a
// single relative component) and its last component. name is "" when s
// is only slashes. dirForm reports a last component that names a
// directory to be fully resolved: ".", "..", or one followed by slashes.
func split(s string) (dir, name string, dirForm bool) {
	t := strings.TrimRight(s, "/")
	if t == "" {
		return s, "", true
	}
	i := strings.LastIndexByte(t, '/')
	dir, name = t[:i+1], t[i+1:]
	return dir, name, len(t) < len(s) || name == "." || name == ".."
}

// join returns the path of name in directory dir.
func join(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// ResolveSocketPath resolves the path of an AF_UNIX socket address that
// task t names in connect, bind or sendto, the way the kernel looks it up:
// from t's cwd when relative, every directory resolved, the last component
// as named and, when it is a symlink, followed (Target). The socket file
// itself may not exist yet (bind). Errors are those of a lookup (ENOENT for
// a missing directory, ENOTDIR, ELOOP, EACCES, ENAMETOOLONG).
func ResolveSocketPath(t Task, s string) (Target, error) {
	var out Target
	if s == "" {
		return out, linuxerr.ENOENT
	}
	var r resolver
	if err := r.init(t, &plan{}); err != nil {
		return out, err
	}
	defer r.release()
	r.start = r.root
	if s[0] != '/' {
		r.start = t.WorkingDirectory()
		if !r.start.Ok() {
			return out, linuxerr.ESRCH
		}
		defer r.start.DecRef(t)
	}
	a := cwd(0, true)
	err := r.named(s, &a, &out)
	return out, err
}
