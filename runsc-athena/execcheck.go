package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Why check the executable at create: runc fails "create" when the
// container's command does not exist, and Docker then removes everything.
// gVisor only finds out at "start", when the container is already
// "created"; Docker 20.10 then cannot delete the task ("task must be
// stopped before deletion") and the containerd shim is left behind for
// good. Failing the create the way runc does leaves nothing.

// defaultPath is the PATH runc uses when the spec's environment has none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// errUnknown means the check cannot tell (the command may live on a mount
// that is not in the bundle's rootfs); the container is then left to runsc.
var errUnknown = errors.New("cannot tell")

// checkExecutable reports a clear error when the container's command
// cannot exist: not in the rootfs and not on any mount.
func checkExecutable(bundle string, spec *specs.Spec) error {
	if spec.Process == nil || len(spec.Process.Args) == 0 || spec.Root == nil {
		return nil // runsc validates the spec itself
	}
	root := spec.Root.Path
	if !filepath.IsAbs(root) {
		root = filepath.Join(bundle, root)
	}
	var mounts []string
	for _, m := range spec.Mounts {
		mounts = append(mounts, path.Clean(m.Destination))
	}
	name := spec.Process.Args[0]
	if strings.Contains(name, "/") {
		p := name
		if !path.IsAbs(p) {
			p = path.Join("/", spec.Process.Cwd, p)
		}
		switch err := findInRoot(root, p, mounts); {
		case err == nil || errors.Is(err, errUnknown):
			return nil
		default:
			return fmt.Errorf("exec: %q: stat %s: no such file or directory", name, name)
		}
	}
	pathVar := defaultPath
	for _, e := range spec.Process.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			pathVar = v
		}
	}
	for _, dir := range filepath.SplitList(pathVar) {
		if dir == "" || !path.IsAbs(dir) {
			return nil // relative PATH entries: leave it to runsc
		}
		if err := findInRoot(root, path.Join(dir, name), mounts); err == nil || errors.Is(err, errUnknown) {
			return nil
		}
	}
	return fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

// underMount reports whether p is a mount destination or below one.
func underMount(p string, mounts []string) bool {
	for _, m := range mounts {
		if p == m || strings.HasPrefix(p, strings.TrimSuffix(m, "/")+"/") {
			return true
		}
	}
	return false
}

// findInRoot resolves the absolute path p inside root the way the
// container will see it (symlinks followed, absolute targets relative to
// root, ".." not escaping root) and reports whether it names something
// other than a directory. A path that touches a mount gives errUnknown.
func findInRoot(root, p string, mounts []string) error {
	const maxLinks = 40
	links := 0
	rest := strings.Split(strings.TrimPrefix(path.Clean(p), "/"), "/")
	cur := "/"
	for len(rest) > 0 {
		comp := rest[0]
		rest = rest[1:]
		if comp == "" || comp == "." {
			continue
		}
		next := path.Join(cur, comp) // Join cleans "..", never above "/"
		if underMount(next, mounts) {
			return errUnknown
		}
		st, err := os.Lstat(filepath.Join(root, next))
		if err != nil {
			return err
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			if links++; links > maxLinks {
				return errors.New("too many symlinks")
			}
			target, err := os.Readlink(filepath.Join(root, next))
			if err != nil {
				return err
			}
			if path.IsAbs(target) {
				cur = "/"
			}
			rest = append(strings.Split(strings.Trim(target, "/"), "/"), rest...)
			continue
		}
		if len(rest) > 0 && !st.IsDir() {
			return fs.ErrNotExist
		}
		cur = next
	}
	st, err := os.Stat(filepath.Join(root, cur))
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fs.ErrNotExist
	}
	return nil
}
