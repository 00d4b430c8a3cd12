package fs

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/context"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/fspath"
	"gvisor.dev/gvisor/pkg/sentry/fsimpl/tmpfs"
	"gvisor.dev/gvisor/pkg/sentry/kernel/auth"
	"gvisor.dev/gvisor/pkg/sentry/ktime"
	"gvisor.dev/gvisor/pkg/sentry/pgalloc"
	"gvisor.dev/gvisor/pkg/sentry/vfs"
)

// The resolver's walking (everything but reading the task's memory and
// descriptors, which needs a *kernel.Task) runs here against a real VFS on
// tmpfs, with a context carrying what tmpfs needs. gVisor's own test
// helpers (contexttest, fsimpl/testutil) are not in its Go module.

// testCtx is a context for tmpfs: a memory file, a clock, credentials.
type testCtx struct {
	context.Context
	mf    *pgalloc.MemoryFile
	clock ktime.SyntheticClock
	creds *auth.Credentials
	mntns *vfs.MountNamespace
}

func (c *testCtx) Value(key any) any {
	switch key {
	case pgalloc.CtxMemoryFile:
		return c.mf
	case ktime.CtxRealtimeClock:
		return &c.clock
	case auth.CtxCredentials:
		return c.creds
	case vfs.CtxMountNamespace:
		if c.mntns == nil {
			return nil
		}
		c.mntns.IncRef() // the caller owns a reference
		return c.mntns
	}
	return c.Context.Value(key)
}

// testFS is a VFS with a tmpfs root holding:
//
//	/etc/shadow /etc/passwd
//	/tmp/link -> /etc/shadow     /tmp/rel -> ../etc/shadow
//	/tmp/dirlink -> /etc         /tmp/dotlink -> .
//	/tmp/dangle -> /etc/newfile  /tmp/dangle2 -> dangle
//	/tmp/loop -> loop            /tmp/file
//	/tmp/danglerel -> sub/new    /tmp/sub/
//	/tmp/dangledir -> /etc/newdir/  /tmp/dangledeep -> /missing/new
//	/secret/x (0700)             /jail/etc/shadow
type testFS struct {
	ctx   *testCtx
	vfs   vfs.VirtualFilesystem
	mntns *vfs.MountNamespace
	root  vfs.VirtualDentry
}

func newTestFS(t *testing.T) *testFS {
	fd, err := unix.MemfdCreate("fs-test", 0)
	if err != nil {
		t.Skipf("memfd_create: %v", err)
	}
	mf, err := pgalloc.NewMemoryFile(os.NewFile(uintptr(fd), "fs-test"), pgalloc.MemoryFileOpts{})
	if err != nil {
		t.Skipf("pgalloc.NewMemoryFile: %v", err)
	}
	userns := auth.NewRootUserNamespace()
	ctx := &testCtx{Context: context.Background(), mf: mf, creds: auth.NewRootCredentials(userns)}
	f := &testFS{ctx: ctx}
	if err := f.vfs.Init(ctx); err != nil {
		t.Fatal(err)
	}
	f.vfs.MustRegisterFilesystemType(tmpfs.Name, &tmpfs.FilesystemType{}, &vfs.RegisterFilesystemTypeOptions{AllowUserMount: true})
	f.mntns, err = f.vfs.NewMountNamespace(ctx, ctx.creds, "", tmpfs.Name, &vfs.MountOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.root = f.mntns.Root(ctx)
	ctx.mntns = f.mntns
	for _, d := range []string{"/etc", "/tmp", "/tmp/sub", "/jail", "/jail/etc"} {
		f.mkdir(t, d, 0o755)
	}
	f.mkdir(t, "/secret", 0o700)
	for _, p := range []string{"/etc/shadow", "/etc/passwd", "/tmp/file", "/secret/x", "/jail/etc/shadow"} {
		f.create(t, p)
	}
	for link, target := range map[string]string{
		"/tmp/link": "/etc/shadow", "/tmp/rel": "../etc/shadow", "/tmp/dirlink": "/etc",
		"/tmp/dotlink": ".", "/tmp/dangle": "/etc/newfile", "/tmp/dangle2": "dangle",
		"/tmp/loop": "loop", "/tmp/danglerel": "sub/new", "/tmp/dangledir": "/etc/newdir/",
		"/tmp/dangledeep": "/missing/new",
	} {
		pop := f.pop(link)
		if err := f.vfs.SymlinkAt(ctx, ctx.creds, &pop, target); err != nil {
			t.Fatalf("symlink %s: %v", link, err)
		}
	}
	t.Cleanup(func() {
		f.root.DecRef(ctx)
		f.mntns.DecRef(ctx)
	})
	return f
}

func (f *testFS) pop(p string) vfs.PathOperation {
	return vfs.PathOperation{Root: f.root, Start: f.root, Path: fspath.Parse(p)}
}

func (f *testFS) mkdir(t *testing.T, p string, mode linux.FileMode) {
	pop := f.pop(p)
	if err := f.vfs.MkdirAt(f.ctx, f.ctx.creds, &pop, &vfs.MkdirOptions{Mode: mode}); err != nil {
		t.Fatalf("mkdir %s: %v", p, err)
	}
}

func (f *testFS) create(t *testing.T, p string) {
	pop := f.pop(p)
	fd, err := f.vfs.OpenAt(f.ctx, f.ctx.creds, &pop, &vfs.OpenOptions{Flags: linux.O_CREAT | linux.O_WRONLY, Mode: 0o644})
	if err != nil {
		t.Fatalf("create %s: %v", p, err)
	}
	fd.DecRef(f.ctx)
}

// get returns the dentry at absolute path p, with a reference.
func (f *testFS) get(t *testing.T, p string) vfs.VirtualDentry {
	pop := f.pop(p)
	vd, err := f.vfs.GetDentryAt(f.ctx, f.ctx.creds, &pop, &vfs.GetDentryOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", p, err)
	}
	t.Cleanup(func() { vd.DecRef(f.ctx) })
	return vd
}

// resolver returns a resolver rooted at root (the task's root), naming
// from the namespace root, starting relative paths at start.
func (f *testFS) resolver(root, start vfs.VirtualDentry, creds *auth.Credentials, resolve uint64) *resolver {
	return &resolver{ctx: f.ctx, vfs: &f.vfs, creds: creds, root: root, nsroot: f.root, start: start, resolve: resolve}
}

type namedCase struct {
	path       string
	follow     bool
	creates    bool
	mustBeDir  bool
	wantPath   string
	wantTarget string
	wantErr    error
}

func runNamed(t *testing.T, r *resolver, cases []namedCase) {
	t.Helper()
	for _, tc := range cases {
		var out Target
		a := pathArg{follow: tc.follow, creates: tc.creates, mustBeDir: tc.mustBeDir}
		err := r.named(tc.path, &a, &out)
		if err != tc.wantErr || out.Path != tc.wantPath || out.Target != tc.wantTarget {
			t.Errorf("named(%q follow=%v creates=%v dir=%v) = {%q %q} %v, want {%q %q} %v",
				tc.path, tc.follow, tc.creates, tc.mustBeDir, out.Path, out.Target, err, tc.wantPath, tc.wantTarget, tc.wantErr)
		}
	}
}

func TestNamed(t *testing.T) {
	f := newTestFS(t)
	long := strings.Repeat("a", linux.NAME_MAX+1)
	runNamed(t, f.resolver(f.root, f.root, f.ctx.creds, 0), []namedCase{
		{path: "/etc/shadow", wantPath: "/etc/shadow"},
		{path: "/etc/../etc/./shadow", wantPath: "/etc/shadow"},
		{path: "//etc///shadow", follow: true, wantPath: "/etc/shadow"},
		{path: "/../../etc/shadow", wantPath: "/etc/shadow"},
		{path: "/tmp/dirlink/shadow", wantPath: "/etc/shadow"},
		{path: "/tmp/dotlink/dirlink/../etc/shadow", wantPath: "/etc/shadow"},
		// The last component as named, and where it leads when followed.
		{path: "/tmp/link", wantPath: "/tmp/link"},
		{path: "/tmp/link", follow: true, wantPath: "/tmp/link", wantTarget: "/etc/shadow"},
		{path: "/tmp/rel", follow: true, wantPath: "/tmp/rel", wantTarget: "/etc/shadow"},
		{path: "/tmp/dotlink", follow: true, wantPath: "/tmp/dotlink", wantTarget: "/tmp"},
		{path: "/etc/shadow", follow: true, wantPath: "/etc/shadow"},
		// Directories: ".", "..", trailing slash (which follows).
		{path: "/", wantPath: "/"},
		{path: "///", wantPath: "/"},
		{path: "/etc/.", wantPath: "/etc"},
		{path: "/etc/..", wantPath: "/"},
		{path: "/..", wantPath: "/"},
		{path: "/tmp/dirlink/", wantPath: "/etc"},
		{path: "/tmp/dirlink/.", wantPath: "/etc"},
		{path: "/tmp/dirlink/..", wantPath: "/"},
		{path: "/tmp/dirlink", mustBeDir: true, wantPath: "/etc"},
		{path: "/tmp/newdir/", wantPath: "/tmp/newdir"},
		{path: "/tmp/file/", wantPath: "/tmp/file"}, // ENOTDIR is the call's
		// A missing last component is not an error.
		{path: "/etc/missing", follow: true, wantPath: "/etc/missing"},
		// Dangling symlinks: no Target unless an O_CREAT open follows it.
		{path: "/tmp/dangle", follow: true, wantPath: "/tmp/dangle"},
		{path: "/tmp/dangle", follow: true, creates: true, wantPath: "/tmp/dangle", wantTarget: "/etc/newfile"},
		{path: "/tmp/dangle2", follow: true, creates: true, wantPath: "/tmp/dangle2", wantTarget: "/etc/newfile"},
		{path: "/tmp/danglerel", follow: true, creates: true, wantPath: "/tmp/danglerel", wantTarget: "/tmp/sub/new"},
		{path: "/tmp/link", follow: true, creates: true, wantPath: "/tmp/link", wantTarget: "/etc/shadow"},
		{path: "/tmp/loop", follow: true, wantPath: "/tmp/loop"},
		{path: "/tmp/dangledir", follow: true, creates: true, wantPath: "/tmp/dangledir", wantErr: linuxerr.EISDIR},
		{path: "/tmp/dangledeep", follow: true, creates: true, wantPath: "/tmp/dangledeep", wantErr: linuxerr.ENOENT},
		{path: "/tmp/dangledeep", follow: true, wantPath: "/tmp/dangledeep"},
		{path: "/tmp/loop", follow: true, creates: true, wantPath: "/tmp/loop"}, // the call gives ELOOP
		// Errors in the directory part.
		{path: "/missing/x", wantErr: linuxerr.ENOENT},
		{path: "/etc/shadow/x", wantErr: linuxerr.ENOTDIR},
		{path: "/etc/shadow/", wantPath: "/etc/shadow"},
		{path: "/tmp/loop/x", wantErr: linuxerr.ELOOP},
		{path: "/etc/" + long, wantErr: linuxerr.ENAMETOOLONG},
	})
}

func TestNamedRelative(t *testing.T) {
	f := newTestFS(t)
	tmp := f.get(t, "/tmp")
	runNamed(t, f.resolver(f.root, tmp, f.ctx.creds, 0), []namedCase{
		{path: "link", follow: true, wantPath: "/tmp/link", wantTarget: "/etc/shadow"},
		{path: "../etc/shadow", wantPath: "/etc/shadow"},
		{path: "./sub/../file", wantPath: "/tmp/file"},
		{path: ".", wantPath: "/tmp"},
		{path: "..", wantPath: "/"},
		{path: "new", follow: true, creates: true, wantPath: "/tmp/new"},
		{path: "dangle2", follow: true, creates: true, wantPath: "/tmp/dangle2", wantTarget: "/etc/newfile"},
		{path: "/etc/passwd", wantPath: "/etc/passwd"},
	})
	// A start that is not a directory.
	file := f.get(t, "/tmp/file")
	runNamed(t, f.resolver(f.root, file, f.ctx.creds, 0), []namedCase{
		{path: "x", wantErr: linuxerr.ENOTDIR},
	})
}

func TestNamedPermission(t *testing.T) {
	f := newTestFS(t)
	user := auth.NewUserCredentials(1000, 1000, nil, nil, f.ctx.creds.UserNamespace)
	runNamed(t, f.resolver(f.root, f.root, user, 0), []namedCase{
		{path: "/secret/x", wantErr: linuxerr.EACCES},
		{path: "/secret", follow: true, wantPath: "/secret"},
		{path: "/etc/shadow", wantPath: "/etc/shadow"},
	})
}

// TestNamedChroot: names come from the namespace root, so a chroot does
// not rename files, and paths cannot climb out of the task's root.
func TestNamedChroot(t *testing.T) {
	f := newTestFS(t)
	jail := f.get(t, "/jail")
	runNamed(t, f.resolver(jail, jail, f.ctx.creds, 0), []namedCase{
		{path: "/etc/shadow", wantPath: "/jail/etc/shadow"},
		{path: "/../../etc/shadow", wantPath: "/jail/etc/shadow"},
		{path: "/", wantPath: "/jail"},
		{path: "..", wantPath: "/jail"},
	})
}

func TestNamedResolveFlags(t *testing.T) {
	f := newTestFS(t)
	tmp := f.get(t, "/tmp")
	runNamed(t, f.resolver(f.root, tmp, f.ctx.creds, linux.RESOLVE_BENEATH), []namedCase{
		{path: "file", follow: true, wantPath: "/tmp/file"},
		{path: "../etc/shadow", wantErr: linuxerr.EXDEV},
		{path: "dirlink/shadow", wantErr: linuxerr.EXDEV},
		// The call fails with EXDEV when it follows the absolute link.
		{path: "link", follow: true, wantPath: "/tmp/link"},
		{path: "dangle", follow: true, creates: true, wantPath: "/tmp/dangle"},
	})
	runNamed(t, f.resolver(f.root, tmp, f.ctx.creds, linux.RESOLVE_NO_SYMLINKS), []namedCase{
		{path: "dirlink/shadow", wantErr: linuxerr.ELOOP},
		{path: "link", wantPath: "/tmp/link"},
		{path: "link", follow: true, wantPath: "/tmp/link"},
	})
	jail := f.get(t, "/jail")
	runNamed(t, f.resolver(f.root, jail, f.ctx.creds, linux.RESOLVE_IN_ROOT), []namedCase{
		{path: "/etc/shadow", wantPath: "/jail/etc/shadow"},
		{path: "../../etc/shadow", wantPath: "/jail/etc/shadow"},
	})
}

// TestNoReferenceLeak resolves paths of every kind through a mount and
// then unmounts it without MNT_DETACH, which fails with EBUSY if a
// reference on the mount was left behind.
func TestNoReferenceLeak(t *testing.T) {
	f := newTestFS(t)
	f.mkdir(t, "/mnt", 0o755)
	pop := f.pop("/mnt")
	if _, err := f.vfs.MountAt(f.ctx, f.ctx.creds, "", &pop, tmpfs.Name, &vfs.MountOptions{}); err != nil {
		t.Fatal(err)
	}
	f.mkdir(t, "/mnt/d", 0o755)
	f.create(t, "/mnt/f")
	for link, target := range map[string]string{"/mnt/l": "f", "/mnt/dl": "missing", "/mnt/loop": "loop", "/mnt/up": "..", "/mnt/abs": "/mnt/d"} {
		pop := f.pop(link)
		if err := f.vfs.SymlinkAt(f.ctx, f.ctx.creds, &pop, target); err != nil {
			t.Fatal(err)
		}
	}
	r := f.resolver(f.root, f.root, f.ctx.creds, 0)
	var n int
	for _, p := range []string{"/mnt", "/mnt/", "/mnt/.", "/mnt/..", "/mnt/d", "/mnt/d/", "/mnt/f", "/mnt/f/", "/mnt/f/x",
		"/mnt/l", "/mnt/dl", "/mnt/loop", "/mnt/loop/x", "/mnt/up", "/mnt/up/mnt/l", "/mnt/abs", "/mnt/abs/", "/mnt/missing",
		"/mnt/missing/x", "/mnt/d/" + strings.Repeat("a", 300)} {
		for _, a := range []pathArg{{}, {follow: true}, {follow: true, creates: true}, {mustBeDir: true}} {
			var out Target
			if err := r.named(p, &a, &out); err == nil {
				n++
			}
		}
	}
	if n == 0 {
		t.Fatal("nothing resolved")
	}
	pop = f.pop("/mnt")
	if err := f.vfs.UmountAt(f.ctx, f.ctx.creds, &pop, &vfs.UmountOptions{}); err != nil {
		t.Errorf("umount /mnt after resolving: %v (a reference leaked)", err)
	}
}
