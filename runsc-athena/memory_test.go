package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/athenaos/athena/swarm/memory"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/selfmodel"
	"github.com/athenaos/athena/syscalls"
)

func wlSpec(root string, annotations map[string]string, args ...string) *specs.Spec {
	return &specs.Spec{Root: &specs.Root{Path: root}, Process: &specs.Process{Args: args}, Annotations: annotations}
}

func TestWorkloadAnnotation(t *testing.T) {
	mi := filepath.Join(t.TempDir(), "mountinfo") // absent: no mounts
	a, err := identifyWorkload(wlSpec("rootfs", map[string]string{workloadAnnotation: "shop/web@v2"}, "httpd", "-f"), t.TempDir(), mi)
	if err != nil {
		t.Fatal(err)
	}
	b, err := identifyWorkload(wlSpec("/other", map[string]string{workloadAnnotation: "shop/web@v2"}, "httpd", "-p", "81"), t.TempDir(), mi)
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != b.ID || !isWorkloadID(a.ID) || a.Image != "name:shop/web@v2" {
		t.Errorf("a named workload is its name, whatever the image and command: %+v, %+v", a, b)
	}
	if a.Label != "shop/web@v2 httpd -f" {
		t.Errorf("label %q", a.Label)
	}
	for _, bad := range []string{"", strings.Repeat("x", 129), "a b", "a;b", "é", "a\nb"} {
		if _, err := identifyWorkload(wlSpec("r", map[string]string{workloadAnnotation: bad}), "/", mi); err == nil || !strings.Contains(err.Error(), workloadAnnotation) {
			t.Errorf("annotation %q: error %v", bad, err)
		}
	}
	if _, err := identifyWorkload(wlSpec("r", map[string]string{workloadAnnotation: strings.Repeat("x", 128)}), "/", mi); err != nil {
		t.Errorf("128 characters: %v", err)
	}
}

// fakeDocker lays out what dockerd leaves for a running container of a
// two-layer image, the way this machine's Docker 20.10 does (overlay2):
// the lower directories are l/SHORT symlinks to ../DIR/diff, the
// container's DIR-init layer first, and each image layer's chain ID
// directory in the layer database holds its overlay2 DIR in cache-id.
// It returns the rootfs and the mountinfo file.
type fakeDocker struct {
	root, layerdb string
}

func newFakeDocker(t *testing.T) *fakeDocker {
	d := &fakeDocker{root: filepath.Join(t.TempDir(), "docker")}
	d.layerdb = filepath.Join(d.root, "image", "overlay2", "layerdb", "sha256")
	os.MkdirAll(filepath.Join(d.root, "overlay2", "l"), 0o755)
	return d
}

func (d *fakeDocker) layer(t *testing.T, short, dir, chain string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(d.root, "overlay2", dir, "diff"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(d.root, "overlay2", "l", short)
	if err := os.Symlink("../"+dir+"/diff", link); err != nil {
		t.Fatal(err)
	}
	if chain != "" {
		os.MkdirAll(filepath.Join(d.layerdb, chain), 0o755)
		os.WriteFile(filepath.Join(d.layerdb, chain, "cache-id"), []byte(dir), 0o644)
	}
	return link
}

// container makes a container's merged rootfs and a mountinfo that
// mounts it as an overlay of lowers.
func (d *fakeDocker) container(t *testing.T, name string, lowers ...string) (rootfs, mountinfo string) {
	t.Helper()
	rootfs = filepath.Join(d.root, "overlay2", name, "merged dir") // a space, escaped in mountinfo
	os.MkdirAll(rootfs, 0o755)
	mountinfo = filepath.Join(t.TempDir(), "mountinfo")
	esc := strings.ReplaceAll(rootfs, " ", `\040`)
	lines := fmt.Sprintf("22 1 0:21 / /proc rw,nosuid - proc proc rw\n"+
		"46 42 0:39 / %s rw,relatime shared:2 - overlay overlay rw,lowerdir=%s,upperdir=%s/diff,workdir=%s/work\n",
		esc, strings.Join(lowers, ":"), filepath.Dir(rootfs), filepath.Dir(rootfs))
	os.WriteFile(mountinfo, []byte(lines), 0o644)
	return rootfs, mountinfo
}

var (
	chainTop  = strings.Repeat("ab", 32)
	chainBase = strings.Repeat("cd", 32)
)

func TestWorkloadDockerImage(t *testing.T) {
	d := newFakeDocker(t)
	top := d.layer(t, "TOPTOPTOP", "7f1e", chainTop)
	base := d.layer(t, "BASEBASE", "03aa", chainBase)
	init1 := d.layer(t, "INIT1", "c1-init", "")
	init2 := d.layer(t, "INIT2", "c2-init", "")
	root1, mi1 := d.container(t, "c1", init1, top, base)
	root2, mi2 := d.container(t, "c2", init2, top, base)

	w1, err := identifyWorkload(wlSpec(root1, nil, "python3", "/srv/app.py"), "/bundle", mi1)
	if err != nil {
		t.Fatal(err)
	}
	if w1.Image != "sha256:"+chainTop {
		t.Fatalf("image %q, want the top layer's chain ID", w1.Image)
	}
	if w1.Label != "sha256:abababababab python3 /srv/app.py" {
		t.Errorf("label %q", w1.Label)
	}
	// Another container of the same image and command: the same workload.
	w2, _ := identifyWorkload(wlSpec(root2, nil, "python3", "/srv/app.py"), "/bundle", mi2)
	if w2.ID != w1.ID {
		t.Errorf("two containers of one image and command: %s and %s", w1.ID, w2.ID)
	}
	// The same image running another command: another workload.
	w3, _ := identifyWorkload(wlSpec(root2, nil, "python3", "/srv/other.py"), "/bundle", mi2)
	if w3.ID == w1.ID || w3.Image != w1.Image {
		t.Errorf("another command: %+v vs %+v", w3, w1)
	}
	// Arguments are joined unambiguously.
	w4, _ := identifyWorkload(wlSpec(root2, nil, "python3 /srv/app.py"), "/bundle", mi2)
	if w4.ID == w1.ID {
		t.Error(`args ["python3 /srv/app.py"] and ["python3", "/srv/app.py"] are one workload`)
	}

	// A rootfs given relative to the bundle.
	rel, _ := filepath.Rel(filepath.Dir(root1), root1)
	w5, _ := identifyWorkload(wlSpec(rel, nil, "python3", "/srv/app.py"), filepath.Dir(root1), mi1)
	if w5.ID != w1.ID {
		t.Errorf("relative rootfs: %+v", w5)
	}
}

func TestWorkloadOverlayFallbacks(t *testing.T) {
	d := newFakeDocker(t)
	top := d.layer(t, "TOP", "7f1e", "") // not in the layer database
	init1 := d.layer(t, "INIT1", "c1-init", "")
	init2 := d.layer(t, "INIT2", "c2-init", "")
	root1, mi1 := d.container(t, "c1", init1, top)
	root2, mi2 := d.container(t, "c2", init2, top)
	w1, _ := identifyWorkload(wlSpec(root1, nil, "sh"), "/", mi1)
	w2, _ := identifyWorkload(wlSpec(root2, nil, "sh"), "/", mi2)
	if !strings.HasPrefix(w1.Image, "overlay:") || w1.ID != w2.ID {
		t.Errorf("unknown layers: want a hash of the lower directories without the init layer, got %+v and %+v", w1, w2)
	}
	if !strings.HasPrefix(w1.Label, "overlay:") || len(strings.Fields(w1.Label)[0]) != len("overlay:")+12 {
		t.Errorf("label %q", w1.Label)
	}

	// Not an overlay: the resolved rootfs path.
	plain := t.TempDir()
	link := filepath.Join(t.TempDir(), "rootfs")
	os.Symlink(plain, link)
	w3, _ := identifyWorkload(wlSpec(link, nil, "sh"), "/", mi1)
	if w3.Image != "path:"+plain {
		t.Errorf("plain rootfs: %+v", w3)
	}
}

func TestOverlayLowerDirs(t *testing.T) {
	for _, tc := range []struct {
		opts string
		want []string
	}{
		{"rw,lowerdir=/a:/b,upperdir=/u,workdir=/w", []string{"/a", "/b"}},
		{`rw,lowerdir=/a\:x:/b\054c,upperdir=/u`, []string{"/a:x", "/b,c"}},
		{"rw,lowerdir=/a::/data,upperdir=/u", []string{"/a", "/data"}},
		{"rw,lowerdir+=/a,lowerdir+=/b,datadir+=/d", []string{"/a", "/b"}},
		{"rw,upperdir=/u", nil},
	} {
		got := overlayLowerDirs(tc.opts)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: got %q, want %q", tc.opts, got, tc.want)
		}
	}
	mi := []byte("1 0 0:1 / /a\\040b rw - ext4 /dev/x rw\n2 0 0:2 / /a\\040b rw shared:1 - overlay overlay rw,lowerdir=/l\n")
	if fstype, opts, ok := findMount(mi, "/a b"); !ok || fstype != "overlay" || opts != "rw,lowerdir=/l" {
		t.Errorf("findMount: %q %q %v, want the last mount on the point", fstype, opts, ok)
	}
}

func TestLabelIsCut(t *testing.T) {
	l := label("sha256:abababababab", strings.Repeat("é", 100))
	if len(l) > maxLabelLen || !strings.HasSuffix(l, "…") || !strings.HasPrefix(l, "sha256:abababababab éé") {
		t.Errorf("label %q (%d bytes)", l, len(l))
	}
	if l := label("sha256:abababababab", "sh -c \nset -e\n\techo  hi\n"); l != "sha256:abababababab sh -c set -e echo hi" {
		t.Errorf("a script's label is not one line: %q", l)
	}
}

// trained returns a model trained on calls.
func trained(t *testing.T, m *selfmodel.Model, calls ...uint16) *selfmodel.Model {
	t.Helper()
	if m == nil {
		var err error
		if m, err = selfmodel.NewModel(selfmodel.DefaultK); err != nil {
			t.Fatal(err)
		}
	}
	m.Train(calls)
	return m
}

func encodeModel(t *testing.T, m *selfmodel.Model) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fakeRun lays out the link of one run of a container: its record (a
// start line, then learn-mode decisions of syscalls) and its model file.
type fakeRun struct {
	lc linkConfig
}

func newFakeRun(t *testing.T, db, wl string, calls ...string) *fakeRun {
	t.Helper()
	dir := t.TempDir()
	r := &fakeRun{lc: linkConfig{Workload: wl, WorkloadLabel: "busybox sh", MemoryDB: db}}
	r.lc.Events = filepath.Join(dir, "c.jsonl")
	r.lc.Model = filepath.Join(dir, "c.bin")
	os.WriteFile(r.lc.Model, nil, 0o600)
	var rec []byte
	if len(calls) > 0 {
		rec = append(rec, `{"type":"start","time":"2025-01-01T00:00:00Z","container":"c","mode":"learn","policy":"p","policy_digest":"d"}`+"\n"...)
	}
	for _, c := range calls {
		n, ok := syscalls.Number(c)
		if !ok {
			t.Fatalf("syscall %s", c)
		}
		line, _ := json.Marshal(syscalls.Decision{Type: "decision", Syscall: c, Sysno: uint32(n), Action: "allow", Intended: "allow", Mode: "learn"})
		rec = append(append(rec, line...), '\n')
	}
	os.WriteFile(r.lc.Events, rec, 0o600)
	return r
}

// recall does what create does: the stored model into the model file.
func (r *fakeRun) recall(t *testing.T) *selfmodel.Model {
	t.Helper()
	base, err := recallModel(r.lc.MemoryDB, r.lc.Workload, r.lc.Model, time.Second)
	if err != nil {
		t.Fatalf("recall: %v", err)
	}
	r.lc.ModelBase = base
	data, _ := os.ReadFile(r.lc.Model)
	if len(data) == 0 {
		return nil
	}
	var m selfmodel.Model
	if err := m.UnmarshalBinary(data); err != nil {
		t.Fatalf("recalled model: %v", err)
	}
	return &m
}

func (r *fakeRun) remember(t *testing.T) []string {
	t.Helper()
	var warnings []string
	warn := func(f string, args ...any) { warnings = append(warnings, fmt.Sprintf(f, args...)) }
	if err := remember("c", r.lc, 5*time.Second, warn); err != nil {
		t.Fatalf("remember: %v", err)
	}
	return warnings
}

func stored(t *testing.T, db, wl string) (memory.Record, workloadData, *selfmodel.Model) {
	t.Helper()
	s, err := memory.Open(db, memory.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, d, err := storedWorkload(s, wl)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Model) == 0 {
		return r, d, nil
	}
	var m selfmodel.Model
	if err := m.UnmarshalBinary(d.Model); err != nil {
		t.Fatal(err)
	}
	return r, d, &m
}

const testWL = "wl-0123456789abcdef"

func TestRememberMergesRuns(t *testing.T) {
	db := filepath.Join(t.TempDir(), "memory.db")

	// Run 1: nothing stored yet; the sandbox learns A.
	r1 := newFakeRun(t, db, testWL, "read", "write")
	if m := r1.recall(t); m != nil {
		t.Fatal("a model recalled from an empty store")
	}
	a := trained(t, nil, 0, 1, 2, 3, 0, 1, 2, 3)
	os.WriteFile(r1.lc.Model, encodeModel(t, a), 0o600)
	if w := r1.remember(t); len(w) != 0 {
		t.Errorf("warnings: %q", w)
	}
	rec, d, m := stored(t, db, testWL)
	if rec.Runs != 1 || rec.Source != "c" || d.Label != "busybox sh" || m == nil || m.Pairs() != a.Pairs() || m.Windows() != a.Windows() {
		t.Fatalf("after run 1: %+v, model %v", rec, m)
	}

	// Run 2 starts from the stored model, learns B on top of it.
	r2 := newFakeRun(t, db, testWL, "read", "mkdirat")
	given := r2.recall(t)
	if given == nil || given.Pairs() != a.Pairs() || r2.lc.ModelBase != a.Windows() {
		t.Fatalf("recalled %v (base %d), want run 1's model", given, r2.lc.ModelBase)
	}
	before := given.Windows()
	trained(t, given, 5, 6, 7, 5, 6, 7)
	added := given.Windows() - before
	os.WriteFile(r2.lc.Model, encodeModel(t, given), 0o600)
	r2.remember(t)

	rec, d, m = stored(t, db, testWL)
	union := trained(t, trained(t, nil, 0, 1, 2, 3, 0, 1, 2, 3), 5, 6, 7, 5, 6, 7)
	if rec.Runs != 2 || m.Pairs() != union.Pairs() {
		t.Errorf("after run 2: runs %d, pairs %d, want 2 and %d (the union)", rec.Runs, m.Pairs(), union.Pairs())
	}
	if m.Windows() != a.Windows()+added {
		t.Errorf("windows %d, want %d + %d: the windows of the model run 2 was given count once", m.Windows(), a.Windows(), added)
	}
	// Both runs' learned syscalls are in the stored policy.
	p, err := policy.Parse("stored", []byte(d.Policy))
	if err != nil {
		t.Fatal(err)
	}
	for _, sys := range []string{"read", "write", "mkdirat"} {
		if !allows(p, sys) {
			t.Errorf("stored policy does not allow %s:\n%s", sys, d.Policy)
		}
	}
}

func allows(p *policy.Policy, sys string) bool {
	for _, r := range p.Rules {
		if r.Action == policy.Allow && len(r.Args) == 0 {
			for _, s := range r.Syscalls {
				if s == sys {
					return true
				}
			}
		}
	}
	return false
}

func TestRememberSkipsACorruptModelFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "memory.db")
	r1 := newFakeRun(t, db, testWL, "read")
	a := trained(t, nil, 0, 1, 2, 3)
	os.WriteFile(r1.lc.Model, encodeModel(t, a), 0o600)
	r1.remember(t)

	// Run 2 is killed while the sandbox rewrites its model: the file is
	// cut, or holds a bad checksum.
	for i, corrupt := range [][]byte{encodeModel(t, trained(t, nil, 9, 8, 7))[:20], []byte("ASLF\x01garbage-garbage-garbage-garbage")} {
		r := newFakeRun(t, db, testWL, "getpid")
		os.WriteFile(r.lc.Model, corrupt, 0o600)
		warnings := r.remember(t)
		if len(warnings) != 1 || !strings.Contains(warnings[0], "does not decode") {
			t.Errorf("corrupt model %d: warnings %q", i, warnings)
		}
		rec, d, m := stored(t, db, testWL)
		if rec.Runs != 2+i || m.Pairs() != a.Pairs() || m.Windows() != a.Windows() {
			t.Errorf("corrupt model %d: runs %d, model %d pairs/%d windows: want the run counted and the model kept", i, rec.Runs, m.Pairs(), m.Windows())
		}
		if p, _ := policy.Parse("stored", []byte(d.Policy)); p == nil || !allows(p, "getpid") {
			t.Errorf("corrupt model %d: the record's learning was not remembered", i)
		}
	}
}

func TestRememberSkipsARunThatNeverStarted(t *testing.T) {
	db := filepath.Join(t.TempDir(), "memory.db")
	r := newFakeRun(t, db, testWL) // no start line, empty model
	r.remember(t)
	if _, err := os.Stat(db); err == nil {
		s, _ := memory.Open(db, memory.Options{ReadOnly: true})
		defer s.Close()
		if _, err := s.Get(workloadKind, testWL); !errors.Is(err, memory.ErrNotFound) {
			t.Errorf("a run that never started was remembered: %v", err)
		}
	}
}

func TestRememberLearnsOnlyThisRunsPartOfTheRecord(t *testing.T) {
	db := filepath.Join(t.TempDir(), "memory.db")
	r := newFakeRun(t, db, testWL, "mkdirat") // an earlier container of the same ID
	old, _ := os.ReadFile(r.lc.Events)
	r.lc.RecordOffset = int64(len(old))
	f, _ := os.OpenFile(r.lc.Events, os.O_APPEND|os.O_WRONLY, 0)
	n, _ := syscalls.Number("getpid")
	line, _ := json.Marshal(syscalls.Decision{Type: "decision", Syscall: "getpid", Sysno: uint32(n), Action: "allow", Mode: "learn"})
	fmt.Fprintf(f, "{\"type\":\"start\",\"mode\":\"learn\"}\n%s\n", line)
	f.Close()
	r.remember(t)
	_, d, _ := stored(t, db, testWL)
	p, _ := policy.Parse("stored", []byte(d.Policy))
	if p == nil || !allows(p, "getpid") || allows(p, "mkdirat") {
		t.Errorf("learned from before the run's offset:\n%s", d.Policy)
	}
}

// Several deletes of one workload at once: each waits for the file lock,
// none is lost.
func TestRememberConcurrently(t *testing.T) {
	db := filepath.Join(t.TempDir(), "memory.db")
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		r := newFakeRun(t, db, testWL, "read")
		os.WriteFile(r.lc.Model, encodeModel(t, trained(t, nil, 1, uint16(10+i), 2)), 0o600)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- remember(fmt.Sprint("c", i), r.lc, 10*time.Second, func(f string, a ...any) { errs <- fmt.Errorf(f, a...) })
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	rec, _, m := stored(t, db, testWL)
	want := trained(t, nil)
	for i := range n {
		want.Merge(trained(t, nil, 1, uint16(10+i), 2))
	}
	if rec.Runs != n || m.Pairs() != want.Pairs() || m.Windows() != want.Windows() {
		t.Errorf("runs %d pairs %d windows %d, want %d, %d, %d", rec.Runs, m.Pairs(), m.Windows(), n, want.Pairs(), want.Windows())
	}
}

func TestRecallWhileTheStoreIsBusy(t *testing.T) {
	db := filepath.Join(t.TempDir(), "memory.db")
	s, err := memory.Open(db, memory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	model := filepath.Join(t.TempDir(), "m.bin")
	os.WriteFile(model, nil, 0o600)
	start := time.Now()
	_, err = recallModel(db, testWL, model, 100*time.Millisecond)
	if !errors.Is(err, memory.ErrLocked) || !strings.Contains(err.Error(), "busy") {
		t.Errorf("recall from a busy store: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("recall waited %v", d)
	}
	if data, _ := os.ReadFile(model); len(data) != 0 {
		t.Error("the model file was written")
	}
	// And remember reports it (rememberRun makes it a warning).
	r := newFakeRun(t, db, testWL, "read")
	if err := remember("c", r.lc, 100*time.Millisecond, func(string, ...any) {}); !errors.Is(err, memory.ErrLocked) {
		t.Errorf("remember into a busy store: %v", err)
	}
}

func TestRunModelRebase(t *testing.T) {
	stored := trained(t, nil, 0, 1, 2, 3)
	run := stored.Clone()
	trained(t, run, 4, 5)
	got, err := runModel(encodeModel(t, run), stored.Windows())
	if err != nil {
		t.Fatal(err)
	}
	if got.Windows() != run.Windows()-stored.Windows() || got.Pairs() != run.Pairs() {
		t.Errorf("rebased: %d windows %d pairs, want %d and %d", got.Windows(), got.Pairs(), run.Windows()-stored.Windows(), run.Pairs())
	}
	// A model smaller than the base did not start from it: kept whole.
	got, _ = runModel(encodeModel(t, stored), stored.Windows()+100)
	if got.Windows() != stored.Windows() {
		t.Errorf("windows %d", got.Windows())
	}
}

func TestBundleRoundTrip(t *testing.T) {
	m := trained(t, nil, 0, 1, 2, 3)
	pr := syscalls.NewProfile()
	pr.Observe(0, &[6]uint64{})
	p, _ := pr.Policy(policy.Errno("EPERM"))
	text, _ := policy.Marshal(p)
	updated := time.Date(2025, 11, 26, 4, 0, 0, 0, time.UTC)
	r := memory.Record{Kind: workloadKind, Key: testWL, Runs: 3, Updated: updated}
	d := workloadData{Label: "sha256:abababababab sh", Policy: string(text), Model: encodeModel(t, m)}
	data := encodeBundle(r, d)

	var raw map[string]any
	json.Unmarshal(data, &raw)
	for _, k := range []string{"format", "workload", "label", "runs", "updated", "policy", "model"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("bundle has no %q: %s", k, data)
		}
	}
	b, got, warnings, err := parseBundle(data, "")
	if err != nil || len(warnings) != 0 {
		t.Fatalf("parse: %v %q", err, warnings)
	}
	if b.Workload != testWL || b.Runs != 3 || !b.Updated.Equal(updated) || got.Label != d.Label || got.Policy != d.Policy || string(got.Model) != string(d.Model) {
		t.Errorf("round trip: %+v %+v", b, got)
	}
	b, _, _, err = parseBundle(data, "wl-ffffffffffffffff")
	if err != nil || b.Workload != "wl-ffffffffffffffff" {
		t.Errorf("--workload: %v %s", err, b.Workload)
	}
	// A bundle without a model or policy (nothing learned yet) is valid.
	empty := encodeBundle(r, workloadData{Label: "x"})
	if _, got, _, err := parseBundle(empty, ""); err != nil || got.Model != nil || got.Policy != "" {
		t.Errorf("empty bundle: %v", err)
	}
}

func TestImportErrors(t *testing.T) {
	good := profileBundle{Format: bundleFormat, Workload: testWL, Runs: 1}
	model := base64.StdEncoding.EncodeToString(encodeModel(t, trained(t, nil, 1, 2)))
	badCRC, _ := base64.StdEncoding.DecodeString(model)
	badCRC[len(badCRC)-1] ^= 1
	for _, tc := range []struct {
		name  string
		edit  func(b *profileBundle)
		raw   string
		over  string
		want  string
		warns bool
	}{
		{name: "not JSON", raw: "version: 1\n", want: "not a profile bundle"},
		{name: "two documents", raw: `{"format":"athena-profile/1","workload":"` + testWL + `"} {}`, want: "data after"},
		{name: "unknown field", raw: `{"format":"athena-profile/1","workload":"` + testWL + `","modle":""}`, want: `unknown field "modle"`},
		{name: "format", edit: func(b *profileBundle) { b.Format = "athena-profile/9" }, want: `bundle format "athena-profile/9"`},
		{name: "workload", edit: func(b *profileBundle) { b.Workload = "c0ffee" }, want: `workload "c0ffee"`},
		{name: "override", over: "WL-0123", want: `workload "WL-0123"`},
		{name: "runs", edit: func(b *profileBundle) { b.Runs = -1 }, want: "negative"},
		{name: "policy parse", edit: func(b *profileBundle) { b.Policy = "version: 1\ndefault: maybe\n" }, want: "the bundle's policy"},
		{name: "policy compile", edit: func(b *profileBundle) {
			b.Policy = "version: 1\ndefault: allow\nrules:\n  - syscalls: [read]\n    action: allow\n"
		}, warns: true},
		{name: "model base64", edit: func(b *profileBundle) { b.Model = "!!!" }, want: "not base64"},
		{name: "model crc", edit: func(b *profileBundle) { b.Model = base64.StdEncoding.EncodeToString(badCRC) }, want: "checksum"},
		{name: "good", edit: func(b *profileBundle) { b.Model = model }},
	} {
		data := []byte(tc.raw)
		if tc.raw == "" {
			b := good
			if tc.edit != nil {
				tc.edit(&b)
			}
			data, _ = json.Marshal(b)
		}
		_, _, warnings, err := parseBundle(data, tc.over)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		case tc.warns != (len(warnings) > 0):
			t.Errorf("%s: warnings %q", tc.name, warnings)
		}
	}
}

// The CLI end to end on a temporary database: import, list, export, rm.
func TestProfileCommands(t *testing.T) {
	old := *memoryDBFlag
	*memoryDBFlag = filepath.Join(t.TempDir(), "memory.db")
	defer func() { *memoryDBFlag = old }()

	if err := swarmProfileRm([]string{testWL}); err == nil || !strings.Contains(err.Error(), "no workload") {
		t.Errorf("rm on no database: %v", err)
	}
	if err := swarmProfileExportAny([]string{testWL}); err == nil || !strings.Contains(err.Error(), "no workload") {
		t.Errorf("export on no database: %v", err)
	}
	r := memory.Record{Kind: workloadKind, Key: testWL, Runs: 2, Updated: time.Now()}
	file := filepath.Join(t.TempDir(), "b.json")
	os.WriteFile(file, encodeBundle(r, workloadData{Label: "l", Model: encodeModel(t, trained(t, nil, 1, 2, 3))}), 0o600)
	if err := swarmProfileImport([]string{file, "--workload", "wl-1111111111111111"}); err != nil {
		t.Fatal(err)
	}
	s, _ := openMemory(true)
	ws, err := listWorkloads(s)
	s.Close()
	if err != nil || len(ws) != 1 || ws[0].Workload != "wl-1111111111111111" || ws[0].Runs != 2 || !ws[0].Model || ws[0].Label != "l" {
		t.Fatalf("list: %v %+v", err, ws)
	}
	var out strings.Builder
	printWorkloads(&out, ws)
	lines := strings.Split(out.String(), "\n")
	if strings.Join(strings.Fields(lines[0]), " ") != "WORKLOAD RUNS WINDOWS PAIRS STABLE POLICY UPDATED LABEL" ||
		!strings.HasPrefix(strings.Join(strings.Fields(lines[1]), " "), "wl-1111111111111111 2 3 3 no no ") {
		t.Errorf("table:\n%s", out.String())
	}
	exported := filepath.Join(t.TempDir(), "e.json")
	if err := swarmProfileExportAny([]string{"wl-1111111111111111", "-o", exported}); err != nil {
		t.Fatal(err)
	}
	if _, d, _, err := parseBundle(mustRead(t, exported), ""); err != nil || d.Label != "l" {
		t.Errorf("exported bundle: %v", err)
	}
	if err := swarmProfileExportAny([]string{"--deny", "kill", "wl-1111111111111111"}); err == nil {
		t.Error("--deny on a workload accepted")
	}
	if err := swarmProfileRm([]string{"wl-1111111111111111"}); err != nil {
		t.Fatal(err)
	}
	if err := swarmProfileRm([]string{"wl-1111111111111111"}); err == nil || !strings.Contains(err.Error(), "no workload") {
		t.Errorf("rm twice: %v", err)
	}
	// A busy database is said so.
	defer func(d time.Duration) { cliTimeout = d }(cliTimeout)
	cliTimeout = 100 * time.Millisecond
	hold, err := memory.Open(*memoryDBFlag, memory.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	if err := swarmProfileImport([]string{file}); err == nil || !strings.Contains(err.Error(), "busy") {
		t.Errorf("import into a busy database: %v", err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
