package integration

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/sentry"
	"github.com/athenaos/athena/swarm/record"
)

// netPolicy allows every call and sets the network section.
const netPolicy = "version: 1\nmode: enforce\ndefault: allow\nnetwork:\n"

// serveHTTP starts busybox httpd in a container on a port published to
// the host's loopback and returns its URL once it answers.
func serveHTTP(t *testing.T, rt, name string, opts ...string) string {
	t.Helper()
	args := append([]string{"-p", "127.0.0.1::8080"}, opts...)
	args = append(args, "--", "sh", "-c", "mkdir -p /www && echo served > /www/index.html && exec httpd -f -p 8080 -h /www")
	startDetached(t, rt, name, args...)
	hostPort := strings.Split(strings.TrimSpace(mustDocker(t, "port", name, "8080/tcp")), "\n")[0]
	url := "http://" + hostPort + "/index.html"
	eventually(t, 30*time.Second, "the server in the container to answer on "+url, func() bool { return get(url) == nil })
	return url
}

// get fetches url and checks that the server in the container answered.
func get(url string) error {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(b) != "served\n" {
		return fmt.Errorf("GET %s: %s %q", url, resp.Status, b)
	}
	return nil
}

// TestEgressPolicy: under an egress policy that allows one destination,
// an outbound connection anywhere else fails at once with ECONNREFUSED
// (the filter answers the SYN with a reset) and is recorded; the allowed
// one works; a published port still serves, since flows a client opens
// from outside are not egress.
func TestEgressPolicy(t *testing.T) {
	requireIntegration(t)
	probe := probeBinary(t)
	gw := bridgeGateway(t)
	allowed, other := hostListener(t), hostListener(t)
	dir := t.TempDir()
	rt := "athena-it-egress"
	registerRuntime(t, rt, "--athena-events-dir="+dir, "--athena-policy="+writePolicy(t, netPolicy+
		"  egress:\n    default: deny\n    rules:\n      - {name: the one service, action: allow, protocol: tcp, to: ['"+gw+":"+allowed+"']}\n"))

	name := uniqueName("athena-egress")
	url := serveHTTP(t, rt, name, "-v", probe+":/probe:ro")
	id := inspect(t, name, "{{.Id}}")
	start := time.Now()
	r := docker(t, "exec", name, "sh", "-c", "/probe connect "+gw+" "+allowed+"; /probe connect "+gw+" "+other+"; /probe sendto 1.1.1.1 53")
	took := time.Since(start)
	lines := strings.Fields(r.stdout)
	if r.code != 0 || len(lines) != 3 || lines[0] != "ok" || lines[1] != "ECONNREFUSED" {
		t.Fatalf("connects: %v; want ok, then ECONNREFUSED", r)
	}
	if took > 3*time.Second {
		t.Errorf("the refused connect took %v with the rest: want it to fail at once, not time out", took)
	}
	if err := get(url); err != nil {
		t.Errorf("published port under egress default deny: %v", err)
	}
	st := swarmStatus(t, id, "the refusals in the status", func(st *sentry.Status) bool {
		return st.Swarm.Network != nil && st.Swarm.Network.Refused >= 2
	})
	if n := st.Swarm.Network; !n.Filter || n.Stack != "netstack" || !strings.HasPrefix(n.Egress, "default deny, 1 rules") {
		t.Errorf("network status %+v", n)
	}
	docker(t, "rm", "-f", name) // the record is complete once the sandbox is gone
	var refusal *record.Decision
	for _, d := range swarmDecisions(t, dir, id) {
		if d.Agent == "egress" && strings.Contains(d.Reason, gw+":"+other) {
			refusal = &d
		}
	}
	if refusal == nil {
		t.Errorf("no egress decision about %s:%s in %+v", gw, other, swarmDecisions(t, dir, id))
	}
}

// TestPortScanIsBlocked: a scan of closed ports from inside the container
// is seen by the scan detector and, with the connection burst it makes,
// carries a block of the scanned host (the configured response): even a
// port that answered before is refused for the hold. A benign server
// under load in another container of the same runtime draws nothing: its
// flows are opened from outside.
func TestPortScanIsBlocked(t *testing.T) {
	requireIntegration(t)
	probe := probeBinary(t)
	gw := bridgeGateway(t)
	open := hostListener(t)
	dir := t.TempDir()
	rt := "athena-it-scan"
	registerRuntime(t, rt, "--athena-events-dir="+dir, "--athena-policy="+writePolicy(t, netPolicy+"  burst: {floor: 50}\n  block_hold: 1m\n"))

	// The benign server first: 300 requests from the host.
	server := uniqueName("athena-busy")
	url := serveHTTP(t, rt, server)
	serverID := inspect(t, server, "{{.Id}}")
	for i := range 300 {
		if err := get(url); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}

	name := uniqueName("athena-scan")
	startDetached(t, rt, name, "-v", probe+":/probe:ro", "--", "sleep", "600")
	id := inspect(t, name, "{{.Id}}")
	if r := docker(t, "exec", name, "/probe", "connect", gw, open); strings.TrimSpace(r.stdout) != "ok" {
		t.Fatalf("connect before the scan: %v", r)
	}
	if r := docker(t, "exec", name, "/probe", "scan", gw, "20000", "20199"); r.code != 0 || !strings.HasPrefix(r.stdout, "open 0 closed 200") {
		t.Fatalf("scan: %v", r)
	}
	st := swarmStatus(t, id, "a block of the scanned host", func(st *sentry.Status) bool {
		return st.Swarm.Network != nil && len(st.Swarm.Network.Blocks) > 0
	})
	if b := st.Swarm.Network.Blocks[0]; b.Remote != gw || !strings.Contains(b.Why, "scan") {
		t.Errorf("block %+v: want the scanned host %s, for the scan", b, gw)
	}
	if r := docker(t, "exec", name, "/probe", "connect", gw, open); strings.TrimSpace(r.stdout) != "ECONNREFUSED" {
		t.Errorf("connect to the scanned host after the block: %v; want ECONNREFUSED", r)
	}
	if err := get(url); err != nil {
		t.Errorf("the benign server after the scan next door: %v", err)
	}

	docker(t, "rm", "-f", name, server)
	var carried *record.Decision
	for _, d := range swarmDecisions(t, dir, id) {
		if d.Carried && d.Action == "deny" && (d.Agent == "scan" || d.Agent == "burst") {
			carried = &d
			break
		}
	}
	if carried == nil || len(carried.Votes) < 2 || !strings.Contains(carried.Quorum, "2 of") {
		t.Errorf("carried block %+v: want the scan and burst detectors' votes", carried)
	}
	for _, d := range swarmDecisions(t, dir, serverID) {
		if d.Agent == "scan" || d.Agent == "burst" || d.Agent == "egress" {
			t.Errorf("the benign server drew a network decision: %+v", d)
		}
	}
}

// TestAgentFaultsLeaveTheAppRunning: the memory and network agents are
// advisory (fail-open). A panic in either is recovered and the agent
// restarted; stopping either for good leaves the app and its traffic
// running, and the swarm is not degraded (docs/swarm.md).
func TestAgentFaultsLeaveTheAppRunning(t *testing.T) {
	requireIntegration(t)
	name := uniqueName("athena-agent-faults")
	url := serveHTTP(t, "athena", name)
	id := inspect(t, name, "{{.Id}}")
	bin := athenaBinary(t)
	agentState := func(st *sentry.Status, agent string) sentry.AgentStatus {
		for _, a := range st.Swarm.Agents {
			if a.Name == agent {
				return a
			}
		}
		return sentry.AgentStatus{}
	}
	for _, agent := range []string{"netguard", "memory"} {
		if r := runCmd(t, "", bin, "swarm", "inject", id, "agent-panic", agent); r.code != 0 {
			t.Fatalf("inject agent-panic %s: %v", agent, r)
		}
		for range 5 { // traffic, so that the network agent takes a step
			if err := get(url); err != nil {
				t.Fatalf("after a panic of %s: %v", agent, err)
			}
		}
		swarmStatus(t, id, agent+" restarted after its panic", func(st *sentry.Status) bool {
			a := agentState(st, agent)
			return a.State == "running" && a.Panics == 1 && a.Restarts >= 1
		})
		if r := runCmd(t, "", bin, "swarm", "inject", id, "agent-stop", agent); r.code != 0 {
			t.Fatalf("inject agent-stop %s: %v", agent, r)
		}
		st := swarmStatus(t, id, agent+" stopped", func(st *sentry.Status) bool { return agentState(st, agent).State == "stopped" })
		if st.Swarm.Degraded {
			t.Errorf("stopping the fail-open %s degraded the swarm: %s", agent, st.Swarm.Why)
		}
		if err := get(url); err != nil {
			t.Errorf("traffic after %s stopped: %v", agent, err)
		}
	}
	if r := runCmd(t, "", bin, "swarm", "inject", id, "agent-panic", "nosuch"); r.code == 0 || !strings.Contains(r.stderr, "no such agent") {
		t.Errorf("inject into an unknown agent: %v", r)
	}
	if r := docker(t, "exec", name, "echo", "alive"); strings.TrimSpace(r.stdout) != "alive" {
		t.Errorf("the app after both agents stopped: %v", r)
	}
}

// TestCheckpointWithThePacketFilter: the filter's matcher and target are
// in the network stack's tables, which a checkpoint saves; the checkpoint
// works, and the restored sandbox runs a fresh filter of its own.
func TestCheckpointWithThePacketFilter(t *testing.T) {
	requireIntegration(t)
	o := newOCI(t)
	// runsc spec's network namespace gives the sandbox a netstack
	// (loopback only).
	bundle := makeBundle(t, o, "sleep", "1000")
	id := uniqueName("ckpt-net")
	t.Cleanup(func() { o.run("delete", "-force", id) })
	o.must("run", "--detach", "--bundle="+bundle, id)
	img := t.TempDir()
	o.must("checkpoint", "--image-path="+img, id)
	o.must("delete", "-force", id)
	o.must("restore", "--detach", "--image-path="+img, "--bundle="+bundle, id)
	bin := athenaBinary(t)
	eventually(t, 20*time.Second, "the restored sandbox's filter", func() bool {
		r := runCmd(t, "", bin, "--root="+o.root, "swarm", "status", id)
		return strings.Contains(r.stdout, "network (netstack, packet filter on")
	})
	if r := o.run("exec", id, "echo", "alive"); strings.TrimSpace(r.stdout) != "alive" {
		t.Errorf("restored container: %v", r)
	}
}
