package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listedWorkload is a row of "swarm profile list --json".
type listedWorkload struct {
	Workload string
	Label    string
	Runs     int
	Policy   bool
	Model    bool
	Windows  uint64
	Pairs    int
	Stable   bool
	Error    string
}

func listWorkloads(t *testing.T, db string) map[string]listedWorkload {
	t.Helper()
	r := runCmd(t, "", athenaBinary(t), "--athena-memory-db="+db, "swarm", "profile", "list", "--json")
	if r.code != 0 {
		t.Fatalf("swarm profile list: %v", r)
	}
	var ws []listedWorkload
	if err := json.Unmarshal([]byte(r.stdout), &ws); err != nil {
		t.Fatalf("swarm profile list --json: %v: %s", err, r.stdout)
	}
	out := map[string]listedWorkload{}
	for _, w := range ws {
		out[w.Label] = w
	}
	return out
}

// imageChainID computes the chain ID of an image's top layer from its
// diff IDs (the OCI image spec's rule), to check the workload identity
// against what Docker says rather than against our own reading of it.
func imageChainID(t *testing.T, image string) string {
	t.Helper()
	var layers []string
	if err := json.Unmarshal([]byte(mustDocker(t, "image", "inspect", "-f", "{{json .RootFS.Layers}}", image)), &layers); err != nil || len(layers) == 0 {
		t.Fatalf("layers of %s: %v", image, err)
	}
	chain := layers[0]
	for _, diff := range layers[1:] {
		sum := sha256.Sum256([]byte(chain + " " + diff))
		chain = "sha256:" + hex.EncodeToString(sum[:])
	}
	return chain
}

// TestLongMemory: runs of the same image and command are one workload
// in long memory, whatever their container IDs; another command is
// another workload; a workload exports, is forgotten and imports back.
func TestLongMemory(t *testing.T) {
	requireIntegration(t)
	const rt = "athena-it-memory"
	db := filepath.Join(t.TempDir(), "memory.db")
	registerRuntime(t, rt, "--athena-memory-db="+db, "--athena-mode=learn", "--athena-events-dir="+t.TempDir())
	bin := athenaBinary(t)

	for _, cmd := range [][]string{{"echo", "one"}, {"echo", "one"}, {"echo", "two"}} {
		if r, _ := runRecorded(t, rt, busybox, nil, cmd...); r.code != 0 {
			t.Fatalf("%v: %v", cmd, r)
		}
	}
	chain := imageChainID(t, busybox)
	one, two := chain[:len("sha256:")+12]+" echo one", chain[:len("sha256:")+12]+" echo two"
	var ws map[string]listedWorkload
	// docker run --rm returns before the runtime's delete, which
	// remembers the run.
	eventually(t, 30*time.Second, "both workloads in swarm profile list", func() bool {
		ws = listWorkloads(t, db)
		return ws[one].Runs == 2 && ws[two].Runs == 1
	})
	if len(ws) != 2 || ws[one].Workload == ws[two].Workload {
		t.Fatalf("workloads: %+v", ws)
	}
	for _, w := range ws {
		if w.Error != "" || !w.Policy {
			t.Errorf("workload %s: error %q, learned policy %v (learn-mode runs)", w.Workload, w.Error, w.Policy)
		}
		// The model comes from the sandbox; say what it left.
		t.Logf("%s %q: runs %d, model %v (%d windows, %d pairs, stable %v)", w.Workload, w.Label, w.Runs, w.Model, w.Windows, w.Pairs, w.Stable)
	}
	table := runCmd(t, "", bin, "--athena-memory-db="+db, "swarm", "profile", "list")
	if table.code != 0 || !strings.HasPrefix(table.stdout, "WORKLOAD") || !strings.Contains(table.stdout, ws[one].Workload) {
		t.Errorf("swarm profile list: %v", table)
	}

	// Export, forget, import: the same memory comes back.
	wl := ws[one].Workload
	bundle := filepath.Join(t.TempDir(), "bundle.json")
	if r := runCmd(t, "", bin, "--athena-memory-db="+db, "swarm", "profile", "export", wl, "-o", bundle); r.code != 0 {
		t.Fatalf("export: %v", r)
	}
	data, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		Format, Workload, Label, Policy, Model string
		Runs                                   int
	}
	if err := json.Unmarshal(data, &b); err != nil || b.Format != "athena-profile/1" || b.Workload != wl || b.Runs != 2 || b.Label != one || b.Policy == "" {
		t.Fatalf("bundle: %v: %s", err, data)
	}
	if r := runCmd(t, "", bin, "--athena-memory-db="+db, "swarm", "profile", "rm", wl); r.code != 0 {
		t.Fatalf("rm: %v", r)
	}
	if _, ok := listWorkloads(t, db)[one]; ok {
		t.Error("rm left the workload in the list")
	}
	for _, args := range [][]string{{"rm", wl}, {"export", wl}} {
		if r := runCmd(t, "", bin, append([]string{"--athena-memory-db=" + db, "swarm", "profile"}, args...)...); r.code == 0 || !strings.Contains(r.stderr, "no workload") {
			t.Errorf("%s of a forgotten workload: %v", args[0], r)
		}
	}
	if r := runCmd(t, "", bin, "--athena-memory-db="+db, "swarm", "profile", "import", bundle); r.code != 0 {
		t.Fatalf("import: %v", r)
	}
	if got := listWorkloads(t, db)[one]; got.Workload != wl || got.Runs != 2 || got.Model != ws[one].Model || got.Pairs != ws[one].Pairs {
		t.Errorf("imported %+v, exported %+v", got, ws[one])
	}

	// A bad bundle is refused with a clear error, and changes nothing.
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(strings.Replace(string(data), `"policy": "`, `"policy": "bogus: [`, 1)), 0o600)
	if r := runCmd(t, "", bin, "--athena-memory-db="+db, "swarm", "profile", "import", bad); r.code == 0 || !strings.Contains(r.stderr, "policy") {
		t.Errorf("import of a bad policy: %v", r)
	}

	// The next run of the workload goes on from the imported memory.
	if r, _ := runRecorded(t, rt, busybox, nil, "echo", "one"); r.code != 0 {
		t.Fatalf("third run: %v", r)
	}
	eventually(t, 30*time.Second, "the third run in swarm profile list", func() bool {
		return listWorkloads(t, db)[one].Runs == 3
	})
}
