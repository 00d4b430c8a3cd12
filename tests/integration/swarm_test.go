package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/sentry"
	"github.com/athenaos/athena/swarm/record"
)

// swarmPolicy enforces one rule and lets the sense of self enforce once
// its model has gone 2,000 windows without change (the default, 100,000,
// takes minutes of a real workload).
const swarmPolicy = `version: 1
mode: enforce
default: allow
rules:
  - name: no-secret
    paths: [/etc/secret*]
    ops: [read]
    action: errno(EACCES)
swarm:
  selfmodel:
    stable_after: 2000
`

// swarmLoop is the workload: a shell loop of small commands. With
// ATTACK=1, from the 21st round the shell itself reads files the rules
// forbid, which its learned self never did; with ATTACK=2 it does
// something new that no rule forbids.
const swarmLoop = `i=0; while [ $i -lt ${ROUNDS:-60} ]; do i=$((i+1)); cat /etc/passwd >/dev/null; echo x > /tmp/f; ls /tmp >/dev/null
if [ "$ATTACK" = 1 ] && [ $i -gt 20 ]; then read l < /etc/secret; read l < /etc/secret2; read l < /etc/hostname; echo $l > /tmp/g; fi
if [ "$ATTACK" = 2 ] && [ $i -gt 20 ]; then read l < /etc/hostname; echo $l > /tmp/g; echo $l >> /tmp/h; fi
sleep 0.05; done; echo done`

// swarmRuntimes registers a learn and an enforce runtime that share a
// policy, an events dir and a long-memory database of the test's own.
func swarmRuntimes(t *testing.T, prefix string) (learn, enforce, dir, db string) {
	t.Helper()
	tmp := t.TempDir()
	dir, db = filepath.Join(tmp, "events"), filepath.Join(tmp, "memory.db")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(tmp, "policy.yaml")
	if err := os.WriteFile(pol, []byte(swarmPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"--athena-events-dir=" + dir, "--athena-memory-db=" + db, "--athena-policy=" + pol}
	learn, enforce = "athena-it-"+prefix+"-learn", "athena-it-"+prefix+"-enforce"
	registerRuntime(t, learn, append(common, "--athena-mode=learn")...)
	registerRuntime(t, enforce, common...)
	return learn, enforce, dir, db
}

// swarmDecisions reads the swarm's records of container id.
func swarmDecisions(t *testing.T, dir, id string) []record.Decision {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, id+".jsonl"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a deleted container's record without decisions is not kept
	}
	if err != nil {
		t.Fatalf("decision record of %s: %v", id, err)
	}
	var out []record.Decision
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		d, ok, err := record.Parse(sc.Bytes())
		if err != nil {
			t.Fatalf("bad record line %q: %v", sc.Bytes(), err)
		}
		if ok {
			out = append(out, d)
		}
	}
	return out
}

// learnWorkload runs the loop three times in learn mode and checks that
// long memory holds one workload that learned from all three.
func learnWorkload(t *testing.T, learnRT, db string) {
	t.Helper()
	for range 3 {
		if r := runIn(t, learnRT, "sh", "-c", swarmLoop); r.code != 0 || !strings.Contains(r.stdout, "done") {
			t.Fatalf("learn run: %v", r)
		}
	}
	eventually(t, 30*time.Second, "the learn runs in long memory", func() bool {
		for _, w := range listWorkloads(t, db) {
			if w.Runs == 3 {
				return true
			}
		}
		return false
	})
}

// TestSwarmLearnsThenActsWithAQuorum: the sense of self learns a
// workload over three runs (long memory merges them), enforces in the
// next run, and together with the rule engine's refusals (a quorum of
// two) denies the shell any new process: the attack stops. The benign
// run of the same workload gets no harmful action. Every decision is
// recorded with its votes and explained by swarm explain.
func TestSwarmLearnsThenActsWithAQuorum(t *testing.T) {
	requireIntegration(t)
	learnRT, enforceRT, dir, db := swarmRuntimes(t, "swarm")
	learnWorkload(t, learnRT, db)

	// The benign run: same workload, enforced, unharmed.
	r, id := runRecorded(t, enforceRT, busybox, nil, "sh", "-c", swarmLoop)
	if r.code != 0 || !strings.Contains(r.stdout, "done") {
		t.Fatalf("benign run under the enforcing swarm: %v", r)
	}
	for _, d := range swarmDecisions(t, dir, id) {
		if d.Action == "deny" || d.Action == "kill" {
			t.Errorf("benign run got a harmful action: %+v", d)
		}
	}

	// The attack: the rules refuse the reads, the sense of self sees the
	// shell behave as never before; together they deny it new processes.
	r, id = runRecorded(t, enforceRT, busybox, []string{"-e", "ATTACK=1"}, "sh", "-c", swarmLoop)
	if r.code == 0 || strings.Contains(r.stdout, "done") || !strings.Contains(r.stderr, "can't fork") {
		t.Fatalf("attack run: want the shell stopped by a denied fork, got %v", r)
	}
	ds := swarmDecisions(t, dir, id)
	var carried *record.Decision
	for i := range ds {
		if ds[i].Carried && ds[i].Action == "deny" {
			carried = &ds[i]
			break
		}
	}
	if carried == nil {
		t.Fatalf("no carried deny among %d swarm decisions", len(ds))
	}
	voters := map[string]bool{}
	for _, v := range carried.Votes {
		voters[v.Agent] = true
	}
	if !voters["rules"] || !voters["selfmodel"] || carried.PID != 1 || carried.Quorum == "" {
		t.Fatalf("carried deny: pid %d, quorum %q, votes %+v", carried.PID, carried.Quorum, carried.Votes)
	}
	t.Logf("carried: %s %s pid %d: %s; votes %+v", carried.ID, carried.Action, carried.PID, carried.Reason, carried.Votes)

	// swarm explain shows the votes, the evidence and the rule.
	bin := athenaBinary(t)
	ex := runCmd(t, "", bin, "--athena-events-dir="+dir, "swarm", "explain", carried.ID)
	if ex.code != 0 || !strings.Contains(ex.stdout, "no-secret") || !strings.Contains(ex.stdout, "selfmodel") {
		t.Fatalf("swarm explain %s: %v", carried.ID, ex)
	}
}

// TestSwarmTolerize: a workload that does something new gets the sense
// of self's decisions; once an operator tolerizes it, the new behaviour is
// part of the model (no relearning) and the decisions stop.
func TestSwarmTolerize(t *testing.T) {
	requireIntegration(t)
	learnRT, enforceRT, dir, db := swarmRuntimes(t, "tolerize")
	learnWorkload(t, learnRT, db)
	name := uniqueName("athena-tolerize")
	startDetached(t, enforceRT, name, "-e", "ATTACK=2", "-e", "ROUNDS=500", "--", "sh", "-c", swarmLoop)
	id := inspect(t, name, "{{.Id}}")
	aboutInit := func(after time.Time) int {
		n := 0
		for _, d := range swarmDecisions(t, dir, id) {
			if d.Agent == "selfmodel" && d.PID == 1 && d.Time.After(after) {
				n++
			}
		}
		return n
	}
	eventually(t, 30*time.Second, "the sense of self's decisions about the shell", func() bool { return aboutInit(time.Time{}) > 0 })
	// Let rounds of the new behaviour happen, so that every new window of
	// it has been seen (and kept for tolerize). With 3 s, one CI run in
	// five drew decisions after the tolerize, most likely a window of the
	// new behaviour not met yet (the interleaving of the shell's calls
	// varies); the loop runs longer so that the check still covers it.
	time.Sleep(6 * time.Second)
	bin := athenaBinary(t)
	r := runCmd(t, "", bin, "--athena-events-dir="+dir, "swarm", "tolerize", id, "1")
	if r.code != 0 || !strings.Contains(r.stdout, "windows added") || strings.Contains(r.stdout, ": 0 windows") {
		t.Fatalf("swarm tolerize: %v", r)
	}
	t.Log(strings.TrimSpace(r.stdout))
	// Records lag the calls and are folded over a second: count from a
	// little after the tolerize.
	tolerized := time.Now().Add(2 * time.Second)
	time.Sleep(7 * time.Second)
	if n := aboutInit(tolerized); n > 0 {
		t.Errorf("%d sense-of-self decisions about the tolerized shell", n)
	}
	for _, bad := range [][]string{{id, "notapid"}, {id, "0"}, {"no-such-container", "1"}} {
		if r := runCmd(t, "", bin, append([]string{"--athena-events-dir=" + dir, "swarm", "tolerize"}, bad...)...); r.code == 0 {
			t.Errorf("tolerize %v succeeded: %v", bad, r)
		}
	}
	eventually(t, 90*time.Second, "the loop to finish", func() bool {
		return strings.Contains(docker(t, "logs", name).stdout, "done")
	})
}

// TestSwarmStatusShowsAgents: status reports the agents, the call ring
// and the model, and the metrics export them.
func TestSwarmStatusShowsAgents(t *testing.T) {
	requireIntegration(t)
	name := uniqueName("athena-swarm-status")
	startDetached(t, "athena", name, "sh", "-c", "while true; do ls / >/dev/null; sleep 0.1; done")
	id := inspect(t, name, "{{.Id}}")
	bin := athenaBinary(t)
	var st sentry.Status
	eventually(t, 20*time.Second, "the swarm's status with drained calls", func() bool {
		r := runCmd(t, "", bin, "swarm", "status", "--json", id)
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil || st.Swarm == nil {
			return false
		}
		return len(st.Swarm.Rings) > 0 && st.Swarm.Rings[0].Drained > 100
	})
	agents := map[string]string{}
	for _, a := range st.Swarm.Agents {
		agents[a.Name] = a.State + "/" + a.Policy
	}
	if agents["selfmodel"] != "running/fail-open" || agents["rate"] != "running/fail-open" {
		t.Errorf("agents %v: want selfmodel and rate running, fail-open while the model learns", agents)
	}
	if len(st.Swarm.Models) != 1 || st.Swarm.Models[0].Mode != "learn" || st.Swarm.Models[0].Windows == 0 || st.Swarm.Tasks == 0 {
		t.Errorf("models %+v, tasks %d", st.Swarm.Models, st.Swarm.Tasks)
	}
	m := runCmd(t, "", bin, "swarm", "metrics", id)
	if m.code != 0 || !strings.Contains(m.stdout, `athena_swarm_agent_up{container="`+id+`",agent="selfmodel"} 1`) {
		t.Errorf("swarm metrics: %v", m)
	}
}
