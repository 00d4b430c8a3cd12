package containerd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// runtimeType is the shim's runtime type (containerd runs the binary
	// containerd-shim-athena-v1 for it).
	runtimeType = "io.containerd.athena.v1"
	// criHandler is the CRI runtime handler (Kubernetes RuntimeClass
	// handler) the test config defines.
	criHandler = "athena"
	// busyboxImage runs a shell; pauseImage sleeps, as a pod's sandbox.
	busyboxImage = "athena.test/busybox:latest"
	pauseImage   = "athena.test/pause:latest"
	// crictlVersion is the cri-tools release built when crictl is missing.
	crictlVersion = "v1.34.0"
	// commandTimeout bounds every ctr and crictl call.
	commandTimeout = 2 * time.Minute
)

// enabled reports whether the tests were asked for.
func enabled() bool { return os.Getenv("ATHENA_CONTAINERD") == "1" }

// suite is the environment all tests share: binaries, images and the
// containerd started for them.
var suite *env

// env is one test environment: a work directory with the binaries
// installed the way make install lays them out, images, and containerd
// instances started on it.
type env struct {
	dir     string // the work directory
	prefix  string // dir/prefix: bin/ and lib/athena/shim/runsc
	crictl  string
	images  []string // image archives to import
	started []*containerd
	// main is the containerd most tests share.
	main *containerd
}

// TestMain sets up the shared environment, runs the tests, and tears down
// everything the tests started, whatever their outcome.
func TestMain(m *testing.M) {
	if !enabled() {
		os.Exit(m.Run())
	}
	e, err := newEnv()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: setting up the containerd tests: %v\n", err)
		if e != nil {
			e.teardown()
		}
		os.Exit(1)
	}
	suite = e
	code := m.Run()
	if err := e.teardown(); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: teardown: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// requireSuite skips the test unless the tests were asked for.
func requireSuite(t *testing.T) *env {
	t.Helper()
	if !enabled() {
		t.Skip("containerd test: set ATHENA_CONTAINERD=1 (make test-containerd does)")
	}
	if suite == nil {
		t.Fatal("the containerd test environment was not set up")
	}
	return suite
}

func newEnv() (*env, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("the containerd tests need root")
	}
	for _, bin := range []string{"containerd", "ctr", "capsh"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("%s missing (make test-containerd installs it with scripts/deps.sh): %w", bin, err)
		}
	}
	dir, err := os.MkdirTemp("/var/tmp", "athena-ctd-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir, prefix: filepath.Join(dir, "prefix")}
	if err := e.installBinaries(); err != nil {
		return e, err
	}
	if e.crictl, err = findCrictl(); err != nil {
		return e, err
	}
	if e.images, err = buildImages(filepath.Join(dir, "images")); err != nil {
		return e, err
	}
	if e.main, err = e.startContainerd("main", false); err != nil {
		return e, err
	}
	return e, nil
}

// installBinaries lays out prefix/bin/{containerd-shim-athena-v1,
// runsc-athena} and the link prefix/lib/athena/shim/runsc, as make install
// does under /usr/local.
func (e *env) installBinaries() error {
	bin := filepath.Join(e.prefix, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	from := os.Getenv("ATHENA_BIN_DIR")
	for _, b := range []struct{ name, pkg string }{
		{"runsc-athena", "./runsc-athena"},
		{"containerd-shim-athena-v1", "./runsc-athena/cmd/containerd-shim-athena-v1"},
	} {
		dst := filepath.Join(bin, b.name)
		if from != "" {
			if out, err := exec.Command("install", "-m", "0755", filepath.Join(from, b.name), dst).CombinedOutput(); err != nil {
				return fmt.Errorf("installing %s from ATHENA_BIN_DIR: %v: %s", b.name, err, out)
			}
			continue
		}
		cmd := exec.Command("go", "build", "-trimpath", "-o", dst, b.pkg)
		cmd.Dir = repoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v: %s", b.name, err, out)
		}
	}
	link := filepath.Join(e.prefix, "lib", "athena", "shim")
	if err := os.MkdirAll(link, 0o755); err != nil {
		return err
	}
	return os.Symlink("../../../bin/runsc-athena", filepath.Join(link, "runsc"))
}

// repoRoot is the checkout's root (tests run in their package directory).
func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}

// findCrictl returns crictl from PATH or the cache, building it there with
// go install when it is in neither.
func findCrictl() (string, error) {
	if p, err := exec.LookPath("crictl"); err == nil {
		return p, nil
	}
	cache := os.Getenv("ATHENA_CACHE_DIR")
	if cache == "" {
		cache = "/var/cache/athena"
	}
	bin := filepath.Join(cache, "crictl-"+crictlVersion)
	p := filepath.Join(bin, "crictl")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	cmd := exec.Command("go", "install", "sigs.k8s.io/cri-tools/cmd/crictl@"+crictlVersion)
	cmd.Dir = os.TempDir() // outside this module: its go.mod must not change
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "CGO_ENABLED=0", "GOFLAGS=-modcacherw")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building crictl %s: %v: %s", crictlVersion, err, out)
	}
	return p, nil
}

// teardown stops every containerd the tests started and what they left,
// then removes the work directory.
func (e *env) teardown() error {
	var errs []error
	for _, c := range e.started {
		if err := c.stop(); err != nil {
			errs = append(errs, err)
		}
	}
	// Whatever still runs from the work directory (a shim or a sandbox of
	// a containerd that died) is killed by its pid.
	for _, pid := range processesUnder(e.dir) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	if err := unmountUnder(e.dir); err != nil {
		errs = append(errs, err)
	}
	if os.Getenv("ATHENA_KEEP") == "" {
		if err := os.RemoveAll(e.dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// processesUnder lists the processes whose command line or executable
// names something under dir, except this process.
func processesUnder(dir string) []int {
	var pids []int
	files, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range files {
		pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f)))
		if err != nil || pid == os.Getpid() {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		exe, _ := os.Readlink(filepath.Join(filepath.Dir(f), "exe"))
		if bytes.Contains(data, []byte(dir)) || strings.HasPrefix(exe, dir) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// unmountUnder detaches every mount below dir, deepest first (containerd's
// rootfs mounts, runsc's null-netns).
func unmountUnder(dir string) error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var points []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			points = append(points, f[4])
		}
	}
	sort.Slice(points, func(i, j int) bool { return len(points[i]) > len(points[j]) })
	var errs []error
	for _, p := range points {
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// result is what a command did.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
}

// run runs a command; only a failure to start or a timeout is an error, a
// non-zero exit is data.
func run(name string, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return r, fmt.Errorf("%s %s: timed out after %v: %s", name, strings.Join(args, " "), commandTimeout, r)
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		return r, fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return r, nil
}

// waitFor polls cond every 100ms until it holds or d passed.
func waitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
