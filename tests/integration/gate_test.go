package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// writePolicy writes a policy file for a test and returns its path.
func writePolicy(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const policyHeader = "version: 1\nmode: enforce\ndefault: allow\nrules:\n"

// TestDefaultPolicyMatchesDockerSeccomp: gVisor does not apply Docker's
// seccomp profile, athena's default policy does the same job. Calls the
// profile refuses fail the same way under athena as under runc.
func TestDefaultPolicyMatchesDockerSeccomp(t *testing.T) {
	requireIntegration(t)
	for _, rt := range runtimes {
		t.Run(rt, func(t *testing.T) {
			r := runIn(t, rt, "sh", "-c", "unshare -U true 2>&1; echo rc=$?; unshare -m true 2>&1; echo rc=$?; mkdir /tmp/d && echo mkdir-ok")
			out := r.stdout
			if strings.Count(out, "Operation not permitted") != 2 || strings.Count(out, "rc=1") != 2 || !strings.Contains(out, "mkdir-ok") {
				t.Errorf("%v", r)
			}
		})
	}
}

func TestPolicyErrnoAction(t *testing.T) {
	requireIntegration(t)
	const rt = "athena-it-nomkdir"
	registerRuntime(t, rt, "--athena-policy="+writePolicy(t, policyHeader+"  - syscalls: [mkdir, mkdirat]\n    action: errno(EPERM)\n"))
	r := runIn(t, rt, "sh", "-c", "mkdir /tmp/x; echo rc=$?; touch /tmp/y && echo touch-ok; ls /tmp")
	if !strings.Contains(r.stderr+r.stdout, "Operation not permitted") || !strings.Contains(r.stdout, "rc=1") ||
		!strings.Contains(r.stdout, "touch-ok") || strings.Contains(r.stdout, "x\n") {
		t.Errorf("mkdir denied with EPERM, the rest works: %v", r)
	}
}

// TestPolicyKillAction: the kill action ends the process as seccomp's
// SECCOMP_RET_KILL_PROCESS does, by SIGSYS (status 128+31 in a shell).
func TestPolicyKillAction(t *testing.T) {
	requireIntegration(t)
	const rt = "athena-it-killmkdir"
	registerRuntime(t, rt, "--athena-policy="+writePolicy(t, policyHeader+"  - syscalls: [mkdir, mkdirat]\n    action: kill\n"))
	r := runIn(t, rt, "sh", "-c", "(mkdir /tmp/x); echo status=$?; [ -d /tmp/x ] || echo no-dir")
	if r.code != 0 || !strings.Contains(r.stdout, "status=159") || !strings.Contains(r.stdout, "no-dir") {
		t.Errorf("want the subshell killed by SIGSYS (159) and no directory: %v", r)
	}
}

// TestBadPolicyFailsCreate: a malformed policy stops the container before
// it starts, with the file and line in Docker's error, and leaves nothing.
func TestBadPolicyFailsCreate(t *testing.T) {
	requireIntegration(t)
	const rt = "athena-it-badpolicy"
	path := writePolicy(t, policyHeader+"  - syscalls: [mkdir]\n    action: errno(ENOTANERRNO)\n")
	registerRuntime(t, rt, "--athena-policy="+path)
	name := uniqueName("badpolicy")
	r := docker(t, "run", "--rm", "--name", name, "--runtime="+rt, busybox, "echo", "must-not-run")
	if r.code == 0 || strings.Contains(r.stdout, "must-not-run") {
		t.Fatalf("container ran under a malformed policy: %v", r)
	}
	if !strings.Contains(r.stderr, path+":6") || !strings.Contains(r.stderr, "ENOTANERRNO") {
		t.Errorf("error does not name the file, line and bad value: %q", r.stderr)
	}
	if docker(t, "inspect", name).code == 0 || len(hostProcsMatching(name)) != 0 {
		t.Error("container or processes left behind")
	}
}

// TestPolicyAnnotation: without runtime flags, the OCI annotation
// dev.athena.policy chooses the policy (what containerd and CRI users set).
func TestPolicyAnnotation(t *testing.T) {
	requireIntegration(t)
	o := newOCI(t)
	bundle := makeBundle(t, o, "sh", "-c", "mkdir /tmp/x; echo rc=$?")
	annotations := map[string]string{"dev.athena.policy": writePolicy(t, policyHeader+"  - syscalls: [mkdir, mkdirat]\n    action: errno(EACCES)\n")}
	editSpec(t, bundle, func(spec *specs.Spec) { spec.Annotations = annotations })
	id := uniqueName("annot")
	r := o.run("run", "--bundle="+bundle, id)
	o.run("delete", "-force", id)
	if !strings.Contains(r.stdout+r.stderr, "Permission denied") || !strings.Contains(r.stdout, "rc=1") {
		t.Errorf("annotated policy not applied: %v", r)
	}

	// A restored container runs under the policy the host chooses at
	// restore time, not under whatever was in force before (here: the
	// same annotation, which the restore must read again).
	editSpec(t, bundle, func(spec *specs.Spec) { spec.Process.Args = []string{"sleep", "1000"} })
	id = uniqueName("annot-restore")
	t.Cleanup(func() { o.run("delete", "-force", id) })
	o.must("run", "--detach", "--bundle="+bundle, id)
	img := t.TempDir()
	o.must("checkpoint", "--image-path="+img, id)
	o.must("delete", "-force", id)
	o.must("restore", "--detach", "--image-path="+img, "--bundle="+bundle, id)
	if r := o.run("exec", id, "mkdir", "/tmp/after-restore"); r.code == 0 || !strings.Contains(r.stderr, "Permission denied") {
		t.Errorf("policy not in force after restore: %v", r)
	}
}
