package containerd

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The containerd namespaces the tests use: ctr's and the CRI's.
const (
	ctrNS = "athena-test"
	criNS = "k8s.io"
)

// containerd is one containerd daemon started by the tests.
type containerd struct {
	e    *env
	dir  string // its root, state, sockets, config and log live here
	sock string
	log  string
	// runscRoot is the runsc root of its shims (runsc-athena --root is
	// runscRoot/NAMESPACE).
	runscRoot string
	// ctrOptions is the shim options file ctr containers use
	// (--runtime-config-path); the CRI handler's is in config.toml.
	ctrOptions string
	cmd        *exec.Cmd
	exited     chan struct{}
}

// configTOML is containerd 1.6's config (version 2 format) for the tests:
// the CRI plugin with the runtime handler "athena" beside runc, the
// sandbox image imported locally, the streaming server on a free loopback
// port. The handler's shim options file gives the shims their own runsc
// root. There are no CNI plugins here, so the test pods ask for the host's
// network namespace; runsc then starts their sandbox in a new, empty one
// (loopback only), never the host's.
const configTOML = `version = 2
root = "{{dir}}/root"
state = "{{dir}}/state"
[grpc]
  address = "{{dir}}/containerd.sock"
[ttrpc]
  address = "{{dir}}/containerd.sock.ttrpc"
[debug]
  level = "debug"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{{pause}}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{{dir}}/cni/bin"
    conf_dir = "{{dir}}/cni/conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.athena]
      runtime_type = "io.containerd.athena.v1"
      pod_annotations = ["dev.athena.*"]
      container_annotations = ["dev.athena.*"]
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.athena.options]
        TypeUrl = "io.containerd.runsc.v1.options"
        ConfigPath = "{{dir}}/runsc-cri.toml"
`

// startContainerd starts a containerd in e's work directory under name.
// With dropResource, containerd (and so every shim and runsc-athena it
// starts) runs without CAP_SYS_RESOURCE: nothing can lower its OOM score.
func (e *env) startContainerd(name string, dropResource bool) (*containerd, error) {
	dir := filepath.Join(e.dir, name)
	c := &containerd{
		e:          e,
		dir:        dir,
		sock:       filepath.Join(dir, "containerd.sock"),
		log:        filepath.Join(dir, "containerd.log"),
		runscRoot:  filepath.Join(dir, "runsc"),
		ctrOptions: filepath.Join(dir, "runsc.toml"),
		exited:     make(chan struct{}),
	}
	for _, d := range []string{dir, filepath.Join(dir, "logs"), filepath.Join(dir, "cni", "conf")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	// runsc-athena's logs (warnings and errors; --debug is off, it would
	// send the sandbox's own messages to the container's stdio).
	logs := filepath.Join(dir, "logs") + "/"
	config := strings.NewReplacer("{{dir}}", dir, "{{pause}}", pauseImage).Replace(configTOML)
	files := map[string]string{
		"config.toml":    config,
		"runsc.toml":     fmt.Sprintf("root = %q\n[runsc_config]\n  debug-log = %q\n", c.runscRoot, logs),
		"runsc-cri.toml": fmt.Sprintf("root = %q\n[runsc_config]\n  debug-log = %q\n", c.runscRoot, logs),
	}
	for f, text := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644); err != nil {
			return nil, err
		}
	}
	logf, err := os.Create(c.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	args := []string{"containerd", "--config", filepath.Join(dir, "config.toml")}
	if dropResource {
		args = []string{"capsh", "--drop=cap_sys_resource", "--", "-c", "exec " + strings.Join(args, " ")}
	}
	c.cmd = exec.Command(args[0], args[1:]...)
	c.cmd.Dir = dir
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.Env = append(os.Environ(), "PATH="+filepath.Join(e.prefix, "bin")+":"+os.Getenv("PATH"))
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	e.started = append(e.started, c)
	go func() {
		_ = c.cmd.Wait()
		close(c.exited)
	}()
	up := waitFor(20*time.Second, func() bool {
		r, err := run("ctr", "-a", c.sock, "version")
		return err == nil && r.code == 0
	})
	if !up {
		return nil, fmt.Errorf("containerd %s did not answer within 20s; its log:\n%s", name, c.logText())
	}
	for _, ns := range []string{ctrNS, criNS} {
		for _, img := range e.images {
			r, err := c.ctr(ns, "image", "import", img)
			if err != nil {
				return nil, err
			}
			if r.code != 0 {
				return nil, fmt.Errorf("importing %s: %s", img, r)
			}
		}
	}
	return c, nil
}

// logText is containerd's log (which carries its shims' logs).
func (c *containerd) logText() string {
	b, _ := os.ReadFile(c.log)
	return string(b)
}

// ctr runs ctr against c in namespace ns.
func (c *containerd) ctr(ns string, args ...string) (result, error) {
	return run("ctr", append([]string{"-a", c.sock, "-n", ns}, args...)...)
}

// mustCtr runs ctr and fails the test on a non-zero exit.
func (c *containerd) mustCtr(t *testing.T, ns string, args ...string) string {
	t.Helper()
	r, err := c.ctr(ns, args...)
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 0 {
		t.Fatalf("ctr %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// crictl runs crictl against c's CRI.
func (c *containerd) crictl(args ...string) (result, error) {
	ep := "unix://" + c.sock
	return run(c.e.crictl, append([]string{"--config", "/dev/null", "--runtime-endpoint", ep, "--image-endpoint", ep, "--timeout", "60s"}, args...)...)
}

// mustCrictl runs crictl and fails the test on a non-zero exit.
func (c *containerd) mustCrictl(t *testing.T, args ...string) string {
	t.Helper()
	r, err := c.crictl(args...)
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 0 {
		t.Fatalf("crictl %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// runscAthena runs the installed runsc-athena with args.
func (c *containerd) runscAthena(args ...string) (result, error) {
	return run(filepath.Join(c.e.prefix, "bin", "runsc-athena"), args...)
}

// ctrArgs is "ctr run" with the athena runtime and c's shim options.
func (c *containerd) ctrRun(extra ...string) []string {
	return append([]string{"run", "--runtime", runtimeType, "--runtime-config-path", c.ctrOptions}, extra...)
}

// stop removes what the tests left in c (pods, tasks, containers), stops
// c, and kills by pid whatever it started that still runs.
func (c *containerd) stop() error {
	select {
	case <-c.exited:
	default:
		if r, err := c.crictl("pods", "-q"); err == nil {
			for _, p := range strings.Fields(r.stdout) {
				_, _ = c.crictl("stopp", p)
				_, _ = c.crictl("rmp", "-f", p)
			}
		}
		for _, ns := range []string{ctrNS, criNS} {
			if r, err := c.ctr(ns, "task", "ls", "-q"); err == nil {
				for _, id := range strings.Fields(r.stdout) {
					_, _ = c.ctr(ns, "task", "kill", "-s", "SIGKILL", id)
					_, _ = c.ctr(ns, "task", "delete", "-f", id)
				}
			}
			if r, err := c.ctr(ns, "container", "ls", "-q"); err == nil {
				for _, id := range strings.Fields(r.stdout) {
					_, _ = c.ctr(ns, "container", "rm", id)
				}
			}
		}
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(15 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
	}
	var left, sockets []string
	for _, pid := range processesUnder(c.dir) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		left = append(left, fmt.Sprintf("%d: %s", pid, strings.ReplaceAll(string(cmdline), "\x00", " ")))
		// A shim runs in its bundle, whose file "address" names its
		// socket (under /run/containerd/s): a killed shim leaves it.
		if addr, err := os.ReadFile(fmt.Sprintf("/proc/%d/cwd/address", pid)); err == nil {
			sockets = append(sockets, strings.TrimPrefix(strings.TrimSpace(string(addr)), "unix://"))
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, s := range sockets {
		if strings.HasPrefix(s, "/run/containerd/s/") {
			_ = os.Remove(s)
		}
	}
	if err := unmountUnder(c.dir); err != nil {
		return err
	}
	if len(left) > 0 {
		return errors.New("processes left after containerd stopped (killed):\n  " + strings.Join(left, "\n  "))
	}
	return nil
}

// shimPids returns the pids of the shims c started (for any container).
func (c *containerd) shimPids() []int {
	var pids []int
	for _, pid := range processesUnder(c.dir) {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if filepath.Base(exe) == "containerd-shim-athena-v1" {
			pids = append(pids, pid)
		}
	}
	return pids
}
