package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestCheckExecutable(t *testing.T) {
	bundle := t.TempDir()
	root := filepath.Join(bundle, "rootfs")
	for _, d := range []string{"bin", "usr/bin", "sbin", "opt/dir"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "bin/busybox"), []byte("x"), 0o755)
	os.Symlink("/bin/busybox", filepath.Join(root, "bin/sh"))           // absolute link
	os.Symlink("../../bin/busybox", filepath.Join(root, "usr/bin/env")) // relative link
	os.Symlink("/nowhere", filepath.Join(root, "bin/dangling"))
	os.Symlink("../../../../../../bin/busybox", filepath.Join(root, "sbin/escape")) // ".." stays in root

	spec := func(args []string, env ...string) *specs.Spec {
		return &specs.Spec{
			Root:    &specs.Root{Path: "rootfs"},
			Process: &specs.Process{Args: args, Env: env, Cwd: "/"},
			Mounts:  []specs.Mount{{Destination: "/data"}, {Destination: "/opt/dir/"}},
		}
	}
	ok := []*specs.Spec{
		spec([]string{"/bin/sh"}),
		spec([]string{"sh"}),
		spec([]string{"env"}, "PATH=/usr/bin"),
		spec([]string{"/sbin/escape"}),
		spec([]string{"./bin/busybox"}),
		spec([]string{"/data/tool"}),        // on a mount: cannot tell, allowed
		spec([]string{"/opt/dir/tool"}),     // on a mount: cannot tell, allowed
		{Root: &specs.Root{Path: "rootfs"}}, // no process: runsc's business
	}
	for _, s := range ok {
		if err := checkExecutable(bundle, s); err != nil {
			t.Errorf("%v: %v", s.Process, err)
		}
	}
	bad := map[*specs.Spec]string{
		spec([]string{"/no/such/cmd"}):        "no such file or directory",
		spec([]string{"no-such-cmd"}):         "executable file not found in $PATH",
		spec([]string{"/bin/dangling"}):       "no such file or directory",
		spec([]string{"/bin"}):                "no such file or directory", // a directory
		spec([]string{"env"}, "PATH=/bin:/x"): "executable file not found",
	}
	for s, want := range bad {
		if err := checkExecutable(bundle, s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: %v, want %q", s.Process.Args, err, want)
		}
	}
}
