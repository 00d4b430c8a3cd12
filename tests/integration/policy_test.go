package integration

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/athenaos/athena/syscalls"
)

var (
	probeOnce sync.Once
	probePath string
	probeErr  string
)

// probeBinary builds testdata/probe.c (static) once and returns its path;
// tests mount it into containers as /probe.
func probeBinary(t *testing.T) string {
	t.Helper()
	probeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "athena-probe-")
		if err != nil {
			probeErr = err.Error()
			return
		}
		probePath = filepath.Join(dir, "probe")
		out, err := exec.Command("gcc", "-static", "-O2", "-o", probePath, "testdata/probe.c").CombinedOutput()
		if err != nil {
			probeErr = "building testdata/probe.c: " + err.Error() + "\n" + string(out)
		}
	})
	if probeErr != "" {
		t.Fatal(probeErr)
	}
	return probePath
}

// recorded runs a busybox container to completion (runIn's arguments) and
// returns its result and container ID.
func recorded(t *testing.T, rt string, optsAndCmd ...string) (result, string) {
	t.Helper()
	opts, cmd := splitDashDash(optsAndCmd)
	return runRecorded(t, rt, busybox, opts, cmd...)
}

// runRecorded runs image to completion with docker run --rm under runtime
// rt and returns its result and container ID (the ID its decision record
// is named by).
func runRecorded(t *testing.T, rt, image string, opts []string, cmd ...string) (result, string) {
	t.Helper()
	cidfile := filepath.Join(t.TempDir(), "cid")
	args := append([]string{"run", "--rm", "--runtime=" + rt, "--cidfile=" + cidfile}, opts...)
	r := docker(t, append(append(args, image), cmd...)...)
	id, err := os.ReadFile(cidfile)
	if err != nil {
		t.Fatalf("no container ID: %v (%v)", err, r)
	}
	return r, strings.TrimSpace(string(id))
}

// requireRecordedDenial checks that container id's record in dir holds a
// refused call of syscall, and logs it.
func requireRecordedDenial(t *testing.T, dir, id, syscall string) {
	t.Helper()
	denied := findDecision(decisions(t, dir, id), func(d *syscalls.Decision) bool { return d.Action != "allow" && d.Syscall == syscall })
	if denied == nil {
		t.Errorf("no recorded refusal of %s", syscall)
		return
	}
	t.Logf("recorded: %s %s %s %v -> %s (%s)", denied.Comm, denied.Syscall, denied.Path, denied.Net, denied.Action, denied.Rule)
}

// decisions reads container id's decision record in dir. The sandbox
// writes it asynchronously; a record still being written by a container
// that is gone is complete once the container is.
func decisions(t *testing.T, dir, id string) []syscalls.Decision {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, id+".jsonl"))
	if err != nil {
		t.Fatalf("decision record of %s: %v", id, err)
	}
	var out []syscalls.Decision
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if !bytes.Contains(sc.Bytes(), []byte(`"type":"decision"`)) {
			continue
		}
		d, err := syscalls.ParseDecision(sc.Bytes())
		if err != nil {
			t.Fatalf("bad record line %q: %v", sc.Bytes(), err)
		}
		out = append(out, d)
	}
	return out
}

// findDecision returns the first decision that satisfies match.
func findDecision(ds []syscalls.Decision, match func(*syscalls.Decision) bool) *syscalls.Decision {
	for i := range ds {
		if match(&ds[i]) {
			return &ds[i]
		}
	}
	return nil
}

// TestDecisionRecord: the log action allows the call and the decision
// reaches the host's JSON-lines record with who, what and which rule.
func TestDecisionRecord(t *testing.T) {
	requireIntegration(t)
	const rt = "athena-it-logmkdir"
	dir := t.TempDir()
	registerRuntime(t, rt, "--athena-events-dir="+dir,
		"--athena-policy="+writePolicy(t, policyHeader+"  - name: watch mkdir\n    syscalls: [mkdir, mkdirat]\n    action: log\n"))
	r, id := recorded(t, rt, "mkdir", "/tmp/logged")
	if r.code != 0 {
		t.Fatalf("logged mkdir must succeed: %v", r)
	}
	d := findDecision(decisions(t, dir, id), func(d *syscalls.Decision) bool { return d.Syscall == "mkdir" || d.Syscall == "mkdirat" })
	if d == nil {
		t.Fatalf("no decision for mkdir in the record of %s", id)
	}
	if d.Container != id || d.Comm != "mkdir" || d.PID <= 0 || d.Rule != "watch mkdir" || d.Action != "allow" || d.Mode != "enforce" || d.Time.IsZero() {
		t.Errorf("decision %+v", *d)
	}
}

// slowPathPolicy combines path, argument and network rules.
const slowPathPolicy = policyHeader + `  - name: the secret
    action: errno(EACCES)
    paths: [/etc/secret]
    ops: [read]
  - name: no user namespaces
    action: errno(EPERM)
    syscalls: [clone]
    args:
      flags: {any_of: [CLONE_NEWUSER]}
  - name: no packet sockets
    action: errno(EACCES)
    syscalls: [socket]
    args:
      family: {in: [AF_PACKET]}
  - name: no terminal injection
    action: errno(EPERM)
    syscalls: [ioctl]
    args:
      request: {in: [TIOCSTI]}
  - name: one local service
    action: allow
    net:
      - {op: connect, to: ["127.0.0.1:7000"], protocol: tcp}
  - name: no other connections
    action: errno(EACCES)
    net:
      - {op: connect, to: ["*:*"]}
  - name: no datagrams to 9999
    action: errno(EPERM)
    net:
      - {op: sendto, to: ["*:9999"], protocol: udp}
  - name: the secret socket
    action: errno(ECONNABORTED)
    net:
      - {op: connect, to: ["unix:/run/secret.sock"]}
`

// TestSlowPathRules: path rules hold against every way of naming the
// file, argument predicates and network rules hold, and everything else
// works.
func TestSlowPathRules(t *testing.T) {
	requireIntegration(t)
	const rt = "athena-it-slowpath"
	dir := t.TempDir()
	registerRuntime(t, rt, "--athena-events-dir="+dir, "--athena-policy="+writePolicy(t, slowPathPolicy))
	probe := probeBinary(t)
	script := `
try() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name=ok"; else echo "$name=denied"; fi; }
echo s3cret > /etc/secret && echo write=ok
try plain cat /etc/secret
try dotdot cat /etc/../etc/./secret
try slashes cat //etc///secret
try cwd sh -c 'cd /etc && cat secret'
try cwd-dotdot sh -c 'cd /tmp && cat ../etc/secret'
ln -s /etc/secret /tmp/link && try symlink cat /tmp/link
ln -s /etc /tmp/etclink && try dir-symlink cat /tmp/etclink/secret
try hardlink ln /etc/secret /tmp/hard
try rename mv /etc/secret /tmp/moved
try rename-dir mv /etc /etc2
try other cat /etc/passwd
echo dirfd=$(/probe openat /etc secret)
echo dirfd-root=$(/probe openat / etc/secret)
echo dirfd-other=$(/probe openat /etc passwd)
echo clone-newuser=$(/probe clone-newuser)
echo socket-packet=$(/probe socket-packet)
echo socket-inet=$(/probe socket-inet)
echo tiocsti=$(/probe ioctl-tiocsti </dev/null)
echo connect-allowed=$(/probe connect 127.0.0.1 7000)
echo connect-other=$(/probe connect 127.0.0.1 7001)
echo sendto-9999=$(/probe sendto 127.0.0.1 9999)
echo sendto-9998=$(/probe sendto 127.0.0.1 9998)
mkdir -p /run
/probe listen-unix /run/secret.sock >/dev/null &
/probe listen-unix /run/other.sock >/dev/null &
sleep 1
echo unix-plain=$(/probe connect-unix /run/secret.sock)
echo unix-relative=$(cd /run && /probe connect-unix secret.sock)
ln -s /run/secret.sock /tmp/alias.sock && echo unix-symlink=$(/probe connect-unix /tmp/alias.sock)
ln -s /run /tmp/rundir && echo unix-dir-symlink=$(/probe connect-unix /tmp/rundir/secret.sock)
echo unix-other=$(/probe connect-unix /run/other.sock)
case " $(echo /etc/*) " in *" /etc/secret "*) echo still-there ;; esac
`
	r, id := recorded(t, rt, "-v", probe+":/probe:ro", "--", "sh", "-c", script)
	want := map[string]string{
		"write": "ok", "plain": "denied", "dotdot": "denied", "slashes": "denied", "cwd": "denied", "cwd-dotdot": "denied",
		"symlink": "denied", "dir-symlink": "denied", "hardlink": "denied", "rename": "denied", "rename-dir": "denied",
		"other": "ok", "dirfd": "EACCES", "dirfd-root": "EACCES", "dirfd-other": "ok",
		"clone-newuser": "EPERM", "socket-packet": "EACCES", "socket-inet": "ok",
		// Without the rule TIOCSTI on /dev/null fails with ENOTTY.
		"tiocsti": "EPERM",
		// Allowed, but nothing listens.
		"connect-allowed": "ECONNREFUSED", "connect-other": "EACCES",
		"sendto-9999": "EPERM", "sendto-9998": "ok",
		"unix-plain": "ECONNABORTED", "unix-relative": "ECONNABORTED", "unix-symlink": "ECONNABORTED", "unix-dir-symlink": "ECONNABORTED",
		"unix-other": "ok",
	}
	got := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			got[k] = v
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
	if !strings.Contains(r.stdout, "still-there") {
		t.Errorf("the protected file was moved: %v", r)
	}
	if t.Failed() {
		t.Logf("output: %v", r)
	}
	ds := decisions(t, dir, id)
	if d := findDecision(ds, func(d *syscalls.Decision) bool {
		return d.Rule == "the secret" && d.Path == "/tmp/link" && d.Target == "/etc/secret"
	}); d == nil {
		t.Errorf("no decision for the symlinked read naming the path and its target")
	} else if d.Action != "errno(EACCES)" || d.Comm != "cat" {
		t.Errorf("symlink decision %+v", *d)
	}
	if d := findDecision(ds, func(d *syscalls.Decision) bool { return d.Net != nil && strings.HasSuffix(d.Net.Endpoint, ":7001") }); d == nil || d.Rule != "no other connections" || d.Net.Protocol != "tcp" {
		t.Errorf("no decision for the refused connect: %+v", d)
	}
}

// TestLivePolicyReplace: swarm policy set replaces a running container's
// policy without restarting it; a bad policy is refused and the one in
// force stays.
func TestLivePolicyReplace(t *testing.T) {
	requireIntegration(t)
	bin := athenaBinary(t)
	name := uniqueName("livepolicy")
	id := startDetached(t, "athena", name, "sleep", "1000")
	if r := docker(t, "exec", name, "mkdir", "/tmp/before"); r.code != 0 {
		t.Fatalf("mkdir before: %v", r)
	}
	deny := writePolicy(t, policyHeader+"  - syscalls: [mkdir, mkdirat]\n    action: errno(EPERM)\n")
	if r := runCmd(t, "", bin, "swarm", "policy", "set", id, deny); r.code != 0 || !strings.Contains(r.stdout, "replaced") {
		t.Fatalf("policy set: %v", r)
	}
	if r := docker(t, "exec", name, "mkdir", "/tmp/after"); r.code == 0 || !strings.Contains(r.stderr, "Operation not permitted") {
		t.Errorf("new policy not in force: %v", r)
	}
	bad := writePolicy(t, policyHeader+"  - syscalls: [mkdir, nosuchcall]\n    action: allow\n")
	if r := runCmd(t, "", bin, "swarm", "policy", "set", id, bad); r.code == 0 || !strings.Contains(r.stderr, bad+":5") || !strings.Contains(r.stderr, "nosuchcall") {
		t.Errorf("a bad policy must be refused naming file and line: %v", r)
	}
	// A garbled message reaching the sandbox directly is refused there too.
	fifo, err := os.OpenFile("/run/athena/control/"+id+".fifo", os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fifo.WriteString("athena-policy 5 0000000000000000000000000000000000000000000000000000000000000000 \"garbled\"\nhello")
	fifo.Close()
	if r := docker(t, "exec", name, "mkdir", "/tmp/still"); r.code == 0 {
		t.Errorf("the policy in force must stay after refusals: %v", r)
	}
	var status string
	eventually(t, 10*time.Second, "the refusal and both denials in swarm status", func() bool {
		r := runCmd(t, "", bin, "swarm", "status", "--json", id)
		status = r.stdout
		return strings.Contains(status, `"policy_refused": 1`) && strings.Contains(status, `"denied": 2`)
	})
	if !strings.Contains(status, `"policy_updates": 1`) || !strings.Contains(status, `"policy": "`+deny+`"`) {
		t.Errorf("status: %s", status)
	}
	if r := runCmd(t, "", bin, "swarm", "policy", "show", id); !strings.Contains(r.stdout, "mkdirat") {
		t.Errorf("policy show: %v", r)
	}
}

// TestDeadLinkNeverBlocksTheApp: with the decision record's disk full,
// the app keeps running, decisions keep being enforced, and the lost
// records are counted in the status and reported in the record once it
// can be written again.
func TestDeadLinkNeverBlocksTheApp(t *testing.T) {
	requireIntegration(t)
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "athena-it-full", dir).CombinedOutput(); err != nil {
		t.Fatalf("mounting a small tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	const rt = "athena-it-fulldisk"
	registerRuntime(t, rt, "--athena-events-dir="+dir,
		"--athena-policy="+writePolicy(t, policyHeader+"  - syscalls: [mkdir, mkdirat]\n    action: errno(EPERM)\n  - syscalls: [execve]\n    action: log\n"))
	name := uniqueName("fulldisk")
	id := startDetached(t, rt, name, "sleep", "1000")
	// Fill the disk.
	if out, err := exec.Command("sh", "-c", "cat /dev/zero > "+dir+"/filler").CombinedOutput(); err == nil {
		t.Fatalf("filling the tmpfs should end in ENOSPC: %s", out)
	}
	// Thousands of logged calls while nothing can be written.
	r := docker(t, "exec", name, "sh", "-c", "for i in $(seq 1 500); do cat /dev/null; done; echo alive")
	if r.code != 0 || !strings.Contains(r.stdout, "alive") {
		t.Fatalf("app blocked or failed with the disk full: %v", r)
	}
	if r := docker(t, "exec", name, "mkdir", "/tmp/x"); r.code == 0 {
		t.Errorf("decisions must be enforced with the disk full: %v", r)
	}
	bin := athenaBinary(t)
	eventually(t, 15*time.Second, "lost records in swarm status", func() bool {
		st := runCmd(t, "", bin, "--athena-events-dir="+dir, "swarm", "status", "--json", id).stdout
		return strings.Contains(st, `"lost": `) && !strings.Contains(st, `"lost": 0,`)
	})
	os.Remove(dir + "/filler")
	docker(t, "exec", name, "mkdir", "/tmp/y") // a decision to write
	eventually(t, 15*time.Second, "a lost-records line in the record", func() bool {
		data, _ := os.ReadFile(filepath.Join(dir, id+".jsonl"))
		return bytes.Contains(data, []byte(`"type":"lost"`))
	})
}

// hostListener listens on the Docker bridge's gateway and answers every
// connection with "pong"; it returns the port.
func hostListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(bridgeGateway(t), "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("pong\n"))
			c.Close()
		}
	}()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// learnThenEnforce runs workload in learn mode, exports the learned
// profile, and registers a runtime that enforces it. It returns that
// runtime and its events dir.
func learnThenEnforce(t *testing.T, prefix, image string, opts []string, workload []string) (string, string) {
	t.Helper()
	learnRT, enforceRT := "athena-it-"+prefix+"-learn", "athena-it-"+prefix+"-enforce"
	dir := t.TempDir()
	registerRuntime(t, learnRT, "--athena-events-dir="+dir, "--athena-mode=learn")
	r, id := runRecorded(t, learnRT, image, opts, workload...)
	if r.code != 0 {
		t.Fatalf("workload in learn mode: %v", r)
	}
	profile := filepath.Join(t.TempDir(), "profile.yaml")
	bin := athenaBinary(t)
	if r := runCmd(t, "", bin, "--athena-events-dir="+dir, "swarm", "profile", "export", "-o", profile, id); r.code != 0 {
		t.Fatalf("profile export: %v", r)
	}
	if data, err := os.ReadFile(profile); err == nil {
		t.Logf("learned profile:\n%s", data)
	}
	registerRuntime(t, enforceRT, "--athena-events-dir="+dir, "--athena-policy="+profile)
	return enforceRT, dir
}

// TestLearnThenEnforceBusybox: a profile learned from a busybox workload
// lets the same workload run unchanged, and blocks (and records) a new
// program, a write to /etc and a connection to a new port.
func TestLearnThenEnforceBusybox(t *testing.T) {
	requireIntegration(t)
	gw, port := bridgeGateway(t), hostListener(t)
	otherPort := hostListener(t)
	const script = `
set -e
mkdir -p /tmp/app && echo data > /tmp/app/state && cat /tmp/app/state >/dev/null
ls /etc >/dev/null
reply=$(nc $GW $PORT </dev/null) && echo "reply=$reply"
case "$EXTRA" in
  exec) /probe socket-inet && echo extra=ok ;;
  etc) echo x > /etc/athena-new && echo extra=ok ;;
  port) nc $GW $OTHER </dev/null && echo extra=ok ;;
esac
echo done
`
	probe := probeBinary(t)
	env := func(extra string) []string {
		return []string{"-v", probe + ":/probe:ro", "-e", "GW=" + gw, "-e", "PORT=" + port, "-e", "OTHER=" + otherPort, "-e", "EXTRA=" + extra}
	}
	rt, dir := learnThenEnforce(t, "bblearn", busybox, env(""), []string{"sh", "-c", script})
	r := runIn(t, rt, append(env(""), "--", "sh", "-c", script)...)
	if r.code != 0 || !strings.Contains(r.stdout, "reply=pong") || !strings.Contains(r.stdout, "done") {
		t.Fatalf("the learned workload must pass unchanged: %v", r)
	}
	for _, extra := range []string{"exec", "etc", "port"} {
		t.Run(extra, func(t *testing.T) {
			r, id := recorded(t, rt, append(env(extra), "--", "sh", "-c", script)...)
			if strings.Contains(r.stdout, "extra=ok") {
				t.Fatalf("new behaviour %s was not blocked: %v", extra, r)
			}
			if !strings.Contains(r.stdout, "reply=pong") {
				t.Errorf("the learned part must still work: %v", r)
			}
			requireRecordedDenial(t, dir, id, map[string]string{"exec": "execve", "etc": "openat", "port": "connect"}[extra])
		})
	}
}

// TestLearnThenEnforceDebian: the same with a Python server in the Debian
// image: the learned server and client run unchanged; a shell spawned by
// the server, a write to /etc and a connection to a new port are blocked
// and recorded.
func TestLearnThenEnforceDebian(t *testing.T) {
	requireIntegration(t)
	if docker(t, "image", "inspect", debianImage).code != 0 {
		t.Fatalf("%s missing (make images-debian)", debianImage)
	}
	gw, port := bridgeGateway(t), hostListener(t)
	otherPort := hostListener(t)
	wd, _ := os.Getwd()
	app := filepath.Join(wd, "testdata", "learnapp.py")
	opts := func(extra string) []string {
		return []string{"-v", app + ":/app.py:ro", "-e", "GW=" + gw, "-e", "PORT=" + port, "-e", "OTHER=" + otherPort, "-e", "EXTRA=" + extra}
	}
	cmd := []string{"python3", "/app.py"}
	rt, dir := learnThenEnforce(t, "deblearn", debianImage, opts(""), cmd)
	r, _ := runRecorded(t, rt, debianImage, opts(""), cmd...)
	if r.code != 0 || !strings.Contains(r.stdout, "served=3") || !strings.Contains(r.stdout, "upstream=pong") {
		t.Fatalf("the learned workload must pass unchanged: %v", r)
	}
	for _, extra := range []string{"shell", "etc", "port"} {
		t.Run(extra, func(t *testing.T) {
			r, id := runRecorded(t, rt, debianImage, opts(extra), cmd...)
			if !strings.Contains(r.stdout, "extra=blocked") {
				t.Fatalf("new behaviour %s was not blocked: %v", extra, r)
			}
			if !strings.Contains(r.stdout, "served=3") {
				t.Errorf("the learned part must still work: %v", r)
			}
			requireRecordedDenial(t, dir, id, map[string]string{"shell": "execve", "etc": "openat", "port": "connect"}[extra])
		})
	}
}

// TestPodContainersHaveTheirOwnPolicy: in a sandbox with several
// containers (a CRI pod, created through the OCI CLI with CRI's
// annotations), each container runs under its own policy, and its
// decisions are recorded under its own ID.
func TestPodContainersHaveTheirOwnPolicy(t *testing.T) {
	requireIntegration(t)
	o := newOCI(t)
	events := t.TempDir()
	sandboxID, containerID := uniqueName("pod"), uniqueName("pod-ctr")
	cri := func(kind string) map[string]string {
		return map[string]string{"io.kubernetes.cri.container-type": kind, "io.kubernetes.cri.sandbox-id": sandboxID}
	}
	sb := makeBundle(t, o, "sleep", "1000")
	editSpec(t, sb, func(spec *specs.Spec) { spec.Annotations = cri("sandbox") })
	ctr := makeBundle(t, o, "sh", "-c", "mkdir /tmp/x; echo rc=$?")
	denyMkdir := writePolicy(t, policyHeader+"  - name: no mkdir in this container\n    syscalls: [mkdir, mkdirat]\n    action: errno(EPERM)\n")
	editSpec(t, ctr, func(spec *specs.Spec) {
		spec.Annotations = cri("container")
		spec.Annotations["dev.athena.policy"] = denyMkdir
	})
	t.Cleanup(func() {
		o.run("delete", "-force", containerID)
		o.run("delete", "-force", sandboxID)
	})
	o.must("--athena-events-dir="+events, "run", "--detach", "--bundle="+sb, sandboxID)
	r := o.run("--athena-events-dir="+events, "run", "--bundle="+ctr, containerID)
	if !strings.Contains(r.stdout+r.stderr, "Operation not permitted") || !strings.Contains(r.stdout, "rc=1") {
		t.Errorf("the pod container's own policy must apply to it: %v", r)
	}
	if r := o.run("exec", sandboxID, "mkdir", "/tmp/root-ok"); r.code != 0 {
		t.Errorf("the sandbox's container keeps its policy (the default, which allows mkdir): %v", r)
	}
	var d *syscalls.Decision
	eventually(t, 10*time.Second, "the pod container's decision in the sandbox's record", func() bool {
		d = findDecision(decisions(t, events, sandboxID), func(d *syscalls.Decision) bool { return d.Rule == "no mkdir in this container" })
		return d != nil
	})
	if d.Container != containerID || d.Action != "errno(EPERM)" {
		t.Errorf("decision %+v", *d)
	}
	bin := athenaBinary(t)
	if r := runCmd(t, "", bin, "--athena-events-dir="+events, "swarm", "events", containerID); !strings.Contains(r.stdout, containerID) || strings.Contains(r.stdout, `"type":"start"`) {
		t.Errorf("swarm events of the pod container shows its lines only: %v", r)
	}
}

// TestObserveMode: observe mode lets a call the policy refuses run, and
// records it as a would-be denial with the intended action.
func TestObserveMode(t *testing.T) {
	requireIntegration(t)
	const rt = "athena-it-observe"
	dir := t.TempDir()
	registerRuntime(t, rt, "--athena-events-dir="+dir, "--athena-mode=observe",
		"--athena-policy="+writePolicy(t, policyHeader+"  - name: no mkdir\n    syscalls: [mkdir, mkdirat]\n    action: errno(EPERM)\n"))
	r, id := recorded(t, rt, "sh", "-c", "mkdir /tmp/observed && echo made")
	if r.code != 0 || r.stdout != "made\n" {
		t.Fatalf("observe mode must let the call run: %v", r)
	}
	d := findDecision(decisions(t, dir, id), func(d *syscalls.Decision) bool { return d.Rule == "no mkdir" })
	if d == nil || !d.WouldDeny || d.Action != "allow" || d.Intended != "errno(EPERM)" || d.Mode != "observe" {
		t.Errorf("want a would-deny record for mkdir: %+v", d)
	}
}
