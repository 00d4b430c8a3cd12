package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// oci drives runsc-athena's OCI command line directly, without Docker, with
// a private state root.
type oci struct {
	t    *testing.T
	bin  string
	root string
}

func (o oci) run(args ...string) result {
	o.t.Helper()
	return runCmd(o.t, "", o.bin, append([]string{"--root=" + o.root}, args...)...)
}

// newOCI returns a driver with a private state root. runsc keeps a shared
// empty network namespace for --network=none sandboxes bind-mounted at
// ROOT/null-netns; it is unmounted when the test ends so the root can go.
func newOCI(t *testing.T) oci {
	o := oci{t: t, bin: athenaBinary(t), root: t.TempDir()}
	t.Cleanup(func() {
		netns := filepath.Join(o.root, "null-netns")
		if _, err := os.Stat(netns); err == nil {
			if err := unix.Unmount(netns, unix.MNT_DETACH); err != nil {
				t.Errorf("unmounting %s: %v", netns, err)
			}
		}
	})
	return o
}

func (o oci) must(args ...string) string {
	o.t.Helper()
	r := o.run(args...)
	if r.code != 0 {
		o.t.Fatalf("runsc-athena %s: %v", strings.Join(args, " "), r)
	}
	return r.stdout
}

func (o oci) status(id string) string {
	o.t.Helper()
	var st specs.State
	if err := json.Unmarshal([]byte(o.must("state", id)), &st); err != nil {
		o.t.Fatalf("state %s: %v", id, err)
	}
	return string(st.Status)
}

// makeBundle exports the busybox image into dir/rootfs and writes a
// config.json from `runsc-athena spec`, adjusted to run args without a
// terminal.
func makeBundle(t *testing.T, o oci, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	rootfs := filepath.Join(dir, "rootfs")
	if err := os.Mkdir(rootfs, 0o755); err != nil {
		t.Fatal(err)
	}
	cid := strings.TrimSpace(mustDocker(t, "create", busybox, "true"))
	t.Cleanup(func() { exec.Command("docker", "rm", "-f", cid).Run() })
	export := exec.Command("sh", "-c", "docker export "+cid+" | tar -x -C "+rootfs)
	if out, err := export.CombinedOutput(); err != nil {
		t.Fatalf("exporting rootfs: %v: %s", err, out)
	}
	o.must("spec", "--bundle="+dir)
	editSpec(t, dir, func(spec *specs.Spec) {
		spec.Process.Terminal = false
		spec.Process.Args = args
		spec.Root.Readonly = false
	})
	return dir
}

// editSpec reads bundle's config.json, lets edit change it, and writes it
// back.
func editSpec(t *testing.T, bundle string, edit func(*specs.Spec)) {
	t.Helper()
	cfg := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatalf("reading %s: %v", cfg, err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		t.Fatalf("%s is not valid JSON: %v", cfg, err)
	}
	edit(&spec)
	if data, err = json.Marshal(spec); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOCILifecycle walks a container through every OCI subcommand:
// create, start, state, exec, ps, events, pause, resume, checkpoint,
// restore, kill, wait, delete, list.
func TestOCILifecycle(t *testing.T) {
	requireIntegration(t)
	o := newOCI(t)
	bundle := makeBundle(t, o, "sh", "-c", "echo ready > /tmp/ready; while true; do sleep 0.2; done")
	id := uniqueName("oci")
	t.Cleanup(func() {
		exec.Command(o.bin, "--root="+o.root, "delete", "-force", id).Run()
	})

	o.must("create", "--bundle="+bundle, id)
	if st := o.status(id); st != "created" {
		t.Fatalf("after create: %s", st)
	}
	if list := o.must("list", "-quiet"); strings.TrimSpace(list) != id {
		t.Errorf("list: %q", list)
	}
	o.must("start", id)
	if st := o.status(id); st != "running" {
		t.Fatalf("after start: %s", st)
	}
	eventually(t, 30*time.Second, "the app to start", func() bool {
		return o.run("exec", id, "cat", "/tmp/ready").stdout == "ready\n"
	})
	if r := o.run("exec", id, "sh", "-c", "echo state-before-checkpoint > /tmp/keep; exit 4"); r.code != 4 {
		t.Errorf("exec exit status: %v, want 4", r)
	}
	if ps := o.must("ps", id); !strings.Contains(ps, "sleep") && !strings.Contains(ps, "sh") {
		t.Errorf("ps shows no app process: %q", ps)
	}
	if ev := o.must("events", "-stats", id); !strings.Contains(ev, `"type":"stats"`) {
		t.Errorf("events -stats: %q", ev)
	}

	o.must("pause", id)
	if st := o.status(id); st != "paused" {
		t.Errorf("after pause: %s", st)
	}
	o.must("resume", id)
	if st := o.status(id); st != "running" {
		t.Errorf("after resume: %s", st)
	}

	// Checkpoint stops the container; restore brings back its memory and
	// in-sandbox files under the same ID.
	img := t.TempDir()
	o.must("checkpoint", "--image-path="+img, id)
	eventually(t, 30*time.Second, "container stopped after checkpoint", func() bool {
		return o.status(id) == "stopped"
	})
	o.must("delete", id)
	o.must("restore", "--detach", "--image-path="+img, "--bundle="+bundle, id)
	if st := o.status(id); st != "running" {
		t.Fatalf("after restore: %s", st)
	}
	if r := o.run("exec", id, "cat", "/tmp/keep"); r.stdout != "state-before-checkpoint\n" {
		t.Errorf("state after restore: %v", r)
	}

	o.must("kill", id, "KILL")
	eventually(t, 30*time.Second, "stopped after kill", func() bool { return o.status(id) == "stopped" })
	o.must("delete", id)
	if list := o.must("list", "-quiet"); strings.TrimSpace(list) != "" {
		t.Errorf("list after delete: %q", list)
	}
	if procs := hostProcsMatching(id); len(procs) != 0 {
		t.Errorf("processes left after delete: %v", procs)
	}
}

// TestOCIRunAndDo covers run (foreground, exit status), wait and do.
func TestOCIRunAndDo(t *testing.T) {
	requireIntegration(t)
	o := newOCI(t)
	bundle := makeBundle(t, o, "sh", "-c", "echo from-run; exit 3")
	id := uniqueName("oci-run")
	r := o.run("run", "--bundle="+bundle, id)
	if r.code != 3 || r.stdout != "from-run\n" {
		t.Errorf("run: %v, want from-run and exit 3", r)
	}
	o.run("delete", "-force", id)
	if procs := hostProcsMatching(id); len(procs) != 0 {
		t.Errorf("processes left after run: %v", procs)
	}

	// wait, called while the container runs, returns its exit status.
	bundle = makeBundle(t, o, "sh", "-c", "sleep 1; exit 6")
	id = uniqueName("oci-wait")
	o.must("create", "--bundle="+bundle, id)
	o.must("start", id)
	if r := o.run("wait", id); r.code != 0 || !strings.Contains(r.stdout, `"exitStatus":6`) {
		t.Errorf("wait: %v, want exitStatus 6", r)
	}
	eventually(t, 30*time.Second, "stopped after exit", func() bool { return o.status(id) == "stopped" })
	o.must("delete", id)

	r = o.run("--network=none", "do", "-quiet", "sh", "-c", "uname -r; exit 4")
	if r.code != 4 || !strings.Contains(r.stdout, "gvisor") {
		t.Errorf("do: %v, want a gVisor kernel release and exit 4", r)
	}
}

func TestVersion(t *testing.T) {
	requireIntegration(t)
	bin := athenaBinary(t)
	gv := strings.TrimSpace(runCmd(t, "", "go", "list", "-m", "-f", "{{.Version}}", "gvisor.dev/gvisor").stdout)
	for _, args := range [][]string{{"--version"}, {"--root=/tmp", "--version"}} {
		r := runCmd(t, "", bin, args...)
		lines := strings.Split(r.stdout, "\n")
		if r.code != 0 || !strings.HasPrefix(lines[0], "runsc-athena version ") || !strings.Contains(r.stdout, "gvisor.dev/gvisor "+gv) {
			t.Errorf("%v: %v; want athena's version and gVisor %s", args, r, gv)
		}
	}
}

// TestOCIUserNamespace runs a container in a user namespace with uid and
// gid mappings: the sandbox then reads its policy as a mapped, unprivileged
// user, which must work (it did not once: the policy directory was 0700).
func TestOCIUserNamespace(t *testing.T) {
	requireIntegration(t)
	o := newOCI(t)
	bundle := makeBundle(t, o, "sh", "-c", "id -u; mkdir /tmp/ok && echo mkdir-ok")
	editSpec(t, bundle, func(spec *specs.Spec) {
		spec.Linux.Namespaces = append(spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
		spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	})
	// The mapped users must be able to reach the bundle (t.TempDir makes
	// 0700 directories).
	for _, d := range []string{filepath.Dir(bundle), bundle} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	id := uniqueName("userns")
	r := o.run("run", "--bundle="+bundle, id)
	o.run("delete", "-force", id)
	if r.code != 0 || r.stdout != "0\nmkdir-ok\n" {
		t.Errorf("container in a user namespace: %v", r)
	}
}
