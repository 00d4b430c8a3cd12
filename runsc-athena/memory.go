package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/athenaos/athena/internal/atomicfile"
	"github.com/athenaos/athena/internal/mountinfo"
	"github.com/athenaos/athena/swarm/memory"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/selfmodel"
	"github.com/athenaos/athena/syscalls"
)

// Long memory on the host (docs/memory.md): what runs of a workload
// learned — the sense-of-self model and, from learn-mode runs, the learned
// policy — is kept in an embedded database (swarm/memory), keyed by a
// stable identity of the workload, never by the container ID.
//
//   - create (recallWorkload): compute the workload, and write its stored
//     model into the container's model file, where the sandbox reads it
//     as its initial model;
//   - delete (rememberRun): merge the model the sandbox left in the model
//     file, and what the record's learn-mode decisions teach, into the
//     stored memory of the workload;
//   - "swarm profile list|export|import|rm" (memorycmd.go).
//
// Neither hook ever fails a create or a delete because of the database
// (busy, corrupt, unwritable): they warn and the container runs with an
// empty model, or the run is not remembered.

const (
	defaultMemoryDB = "/var/lib/athena/memory.db"
	// workloadKind is the memory kind of a workload's record; its Data
	// is a workloadData.
	workloadKind = "workload"
	// workloadAnnotation names a workload explicitly.
	workloadAnnotation = "dev.athena.workload"
	// recallTimeout bounds the wait for the database's lock at create,
	// which must stay fast; rememberTimeout at delete, where a few
	// deletes at once queue for it (each holds it for milliseconds).
	recallTimeout   = time.Second
	rememberTimeout = 5 * time.Second
	// maxLabelLen bounds a workload's label, in bytes.
	maxLabelLen = 120
	// storedFormat is the format of workloadData.
	storedFormat = "athena-workload/1"
)

var memoryDBFlag = flag.String("athena-memory-db", defaultMemoryDB, "AthenaOS: the long-memory database: what earlier runs of each workload learned (models, learned policies)")

// workload is the identity long memory is keyed by: the same for every
// run of the same image and command, whatever the container's ID.
type workload struct {
	// ID is "wl-" and the first 16 hex digits of the SHA-256 of Image,
	// "\x00" and the process arguments joined by "\x00"; for a workload
	// the user named (annotation dev.athena.workload), of Image alone.
	ID string
	// Image identifies the root filesystem: "sha256:CHAINID" (Docker's
	// content-addressed chain ID of the image's top layer),
	// "overlay:HEX" (a hash of the overlay's lower directories),
	// "path:/DIR" (a rootfs that is not an overlay), or "name:NAME" (the
	// user's name for the workload).
	Image string
	// Label is for people: the short image identity and the command.
	Label string
}

var (
	workloadNameRE = regexp.MustCompile(`^[A-Za-z0-9._:/@-]{1,128}$`)
	workloadIDRE   = regexp.MustCompile(`^wl-[0-9a-f]{16}$`)
)

// isWorkloadID reports whether s is a workload ID (as opposed to a
// container ID).
func isWorkloadID(s string) bool { return workloadIDRE.MatchString(s) }

// workloadOf returns the workload a container runs: the user's name for it
// (annotation dev.athena.workload), else the identity of its image (the
// rootfs's overlay layers, as Docker mounts them) and its command.
//
// Errors: only a malformed annotation; the other sources fall back to the
// next (see rootfsIdentity).
func workloadOf(spec *specs.Spec, bundle string) (workload, error) {
	return identifyWorkload(spec, bundle, "/proc/self/mountinfo")
}

func identifyWorkload(spec *specs.Spec, bundle, mountinfo string) (workload, error) {
	var args []string
	if spec.Process != nil {
		args = spec.Process.Args
	}
	command := strings.Join(args, " ")
	if name, ok := spec.Annotations[workloadAnnotation]; ok {
		if !workloadNameRE.MatchString(name) {
			return workload{}, fmt.Errorf("annotation %s=%q: want 1 to 128 characters of A-Z a-z 0-9 . _ : / @ -", workloadAnnotation, name)
		}
		image := "name:" + name
		return workload{ID: workloadHash(image), Image: image, Label: label(name, command)}, nil
	}
	root := ""
	if spec.Root != nil {
		root = spec.Root.Path
	}
	if !filepath.IsAbs(root) {
		root = filepath.Join(bundle, root)
	}
	image, short := rootfsIdentity(root, mountinfo)
	return workload{ID: workloadHash(image + "\x00" + strings.Join(args, "\x00")), Image: image, Label: label(short, command)}, nil
}

func workloadHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "wl-" + hex.EncodeToString(sum[:8])
}

// label joins an image's short identity and a command, on one line (runs
// of white space, newlines included, become one space) and cut to
// maxLabelLen bytes (at a character boundary).
func label(image, command string) string {
	l := strings.Join(strings.Fields(image+" "+command), " ")
	if len(l) <= maxLabelLen {
		return l
	}
	cut := maxLabelLen - len("…")
	for cut > 0 && !utf8.RuneStart(l[cut]) {
		cut--
	}
	return l[:cut] + "…"
}

// rootfsIdentity identifies a container's root filesystem, and returns a
// short form of it for labels:
//
//  1. an overlay mount whose lower directories are Docker overlay2 layers
//     (as mounted by dockerd: /var/lib/docker/overlay2/l/SHORT symlinks to
//     ../DIR/diff, topmost first, the container's own DIR-init layer
//     first of all): the chain ID of the image's top layer, found by the
//     layer's cache-id in Docker's layer database
//     (DOCKER_ROOT/image/overlay2/layerdb/sha256/CHAINID/cache-id). A
//     chain ID is content-addressed over all the layers below, so it is
//     the image's content, whatever its name or tag;
//  2. any other overlay: a hash of its lower directories (resolved, the
//     per-container -init layer left out);
//  3. otherwise the rootfs's resolved path.
func rootfsIdentity(root, mountinfo string) (image, short string) {
	if p, err := filepath.EvalSymlinks(root); err == nil {
		root = p
	}
	root = filepath.Clean(root)
	if data, err := os.ReadFile(mountinfo); err == nil {
		if fstype, opts, ok := findMount(data, root); ok && fstype == "overlay" {
			if lowers := overlayLowerDirs(opts); len(lowers) > 0 {
				if chain, err := dockerChainID(lowers); err == nil {
					return "sha256:" + chain, "sha256:" + chain[:12]
				}
				var dirs []string
				for _, l := range lowers {
					if _, dir, ok := overlay2Layer(l); ok && strings.HasSuffix(dir, "-init") {
						continue
					}
					if p, err := filepath.EvalSymlinks(l); err == nil {
						l = p
					}
					dirs = append(dirs, l)
				}
				sum := sha256.Sum256([]byte(strings.Join(dirs, "\x00")))
				h := hex.EncodeToString(sum[:])
				return "overlay:" + h, "overlay:" + h[:12]
			}
		}
	}
	return "path:" + root, root
}

// findMount returns the file system type and super options of the mount
// at mountpoint in a mountinfo file (the last one: it hides the others).
func findMount(mounts []byte, mountpoint string) (fstype, superOpts string, found bool) {
	for _, line := range strings.Split(string(mounts), "\n") {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 || mountinfo.Unescape(f[4]) != mountpoint {
			continue
		}
		fstype, superOpts, found = g[0], g[2], true
	}
	return fstype, superOpts, found
}

// overlayLowerDirs returns an overlay mount's lower directories, topmost
// first, from its super options: "lowerdir=A:B:C" (colons escaped as
// "\:" in a directory name; "::" before data-only layers) and
// "lowerdir+=A" options, each escaped as mountinfo escapes.
func overlayLowerDirs(superOpts string) []string {
	var out []string
	for _, o := range strings.Split(superOpts, ",") {
		if v, ok := strings.CutPrefix(o, "lowerdir+="); ok {
			out = append(out, mountinfo.Unescape(v))
			continue
		}
		v, ok := strings.CutPrefix(o, "lowerdir=")
		if !ok {
			continue
		}
		v = mountinfo.Unescape(v)
		var cur strings.Builder
		for i := 0; i < len(v); i++ {
			switch {
			case v[i] == '\\' && i+1 < len(v):
				i++
				cur.WriteByte(v[i])
			case v[i] == ':':
				if cur.Len() > 0 {
					out = append(out, cur.String())
				}
				cur.Reset()
			default:
				cur.WriteByte(v[i])
			}
		}
		if cur.Len() > 0 {
			out = append(out, cur.String())
		}
	}
	return out
}

// overlay2Layer maps a lower directory of a Docker overlay2 mount
// (DOCKER_ROOT/overlay2/l/SHORT, a symlink to ../DIR/diff, or
// DOCKER_ROOT/overlay2/DIR/diff itself) to Docker's root and the layer's
// directory name DIR.
func overlay2Layer(lower string) (dockerRoot, dir string, ok bool) {
	p := filepath.Clean(lower)
	if parent := filepath.Dir(p); filepath.Base(parent) == "l" {
		target, err := os.Readlink(p)
		if err != nil {
			return "", "", false
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(parent, target)
		}
		p = filepath.Clean(target)
	}
	if filepath.Base(p) != "diff" {
		return "", "", false
	}
	layer := filepath.Dir(p)
	overlay2 := filepath.Dir(layer)
	if filepath.Base(overlay2) != "overlay2" {
		return "", "", false
	}
	return filepath.Dir(overlay2), filepath.Base(layer), true
}

// dockerChainID returns the chain ID (hex) of the top image layer of a
// Docker overlay2 mount's lower directories (topmost first).
func dockerChainID(lowers []string) (string, error) {
	for _, l := range lowers {
		root, dir, ok := overlay2Layer(l)
		if !ok {
			return "", fmt.Errorf("%s is not a Docker overlay2 layer", l)
		}
		if strings.HasSuffix(dir, "-init") {
			continue // the container's own init layer, not the image's
		}
		layerdb := filepath.Join(root, "image", "overlay2", "layerdb", "sha256")
		entries, err := os.ReadDir(layerdb)
		if err != nil {
			return "", err
		}
		for _, e := range entries {
			id, err := os.ReadFile(filepath.Join(layerdb, e.Name(), "cache-id"))
			if err == nil && strings.TrimSpace(string(id)) == dir && len(e.Name()) == 64 {
				return e.Name(), nil
			}
		}
		return "", fmt.Errorf("layer %s is not in %s", dir, layerdb)
	}
	return "", errors.New("no image layer")
}

// workloadData is what the store keeps for a workload (the Data of its
// record; the record itself counts the runs and says when and by which
// container it was last updated).
type workloadData struct {
	Format string `json:"format"`
	Label  string `json:"label,omitempty"`
	// Policy is the learned policy (YAML) of the learn-mode runs, merged.
	Policy string `json:"policy,omitempty"`
	// Model is the sense-of-self model (selfmodel.Model's encoding).
	Model []byte `json:"model,omitempty"`
}

func (d *workloadData) encode() []byte {
	d.Format = storedFormat
	data, _ := json.Marshal(d) // plain strings and bytes: cannot fail
	return data
}

func decodeWorkloadData(data []byte) (workloadData, error) {
	var d workloadData
	if err := json.Unmarshal(data, &d); err != nil {
		return d, fmt.Errorf("stored workload does not decode: %w", err)
	}
	if d.Format != storedFormat {
		return d, fmt.Errorf("stored workload has format %q; this build reads %q", d.Format, storedFormat)
	}
	return d, nil
}

// storeError explains the errors of opening the store.
func storeError(path string, err error) error {
	if errors.Is(err, memory.ErrLocked) {
		return fmt.Errorf("the memory database %s is busy (another runsc-athena holds it: a container being created or deleted, or a swarm command): %w", path, err)
	}
	return err
}

// warnf reports a warning of the create or delete hooks: on stderr
// (logrus) and in runsc's --log file, where a container engine keeps what
// the runtime said.
func warnf(format string, args ...any) {
	msg := "runsc-athena: warning: " + fmt.Sprintf(format, args...)
	logrus.Warn(msg)
	logPath, logFormat := logTarget(os.Args[1:])
	if logPath == "" {
		return
	}
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	if logFormat == "json" {
		line, _ := json.Marshal(map[string]string{"level": "warning", "msg": msg, "time": time.Now().Format(time.RFC3339Nano)})
		fmt.Fprintf(f, "%s\n", line)
		return
	}
	fmt.Fprintf(f, "%s %s\n", time.Now().Format(time.RFC3339), msg)
}

// recallWorkload runs at create, for a sandbox's root container, after
// prepareLink: it records the container's workload in its link
// description and writes the workload's stored model into the model file.
// Only a malformed dev.athena.workload annotation fails the create; a
// database that is busy, unreadable or corrupt is a warning, and the
// container starts with an empty model.
func recallWorkload(id string, spec *specs.Spec, bundle string) {
	w, err := workloadOf(spec, bundle)
	if err != nil {
		os.Remove(policyPath(id))
		removeLink(id)
		reportEarlyError(os.Args[1:], err.Error())
	}
	lc, err := storedLink(id)
	if err != nil {
		warnf("%s: long memory: %v; the container runs with an empty model and will not be remembered", id, err)
		return
	}
	lc.Workload, lc.WorkloadLabel, lc.MemoryDB = w.ID, w.Label, *memoryDBFlag
	if st, err := os.Stat(lc.Events); err == nil {
		lc.RecordOffset = st.Size()
	}
	lc.ModelBase, err = recallModel(lc.MemoryDB, w.ID, lc.Model, recallTimeout)
	if err != nil {
		warnf("%s: long memory of workload %s (%s): %v; the container runs with an empty model", id, w.ID, w.Label, err)
	}
	if err := atomicfile.WriteJSON(linkConfigPath(id), lc); err != nil {
		warnf("%s: long memory: %v; this run will not be remembered", id, err)
	}
}

// recallModel writes the stored model of workload wl into modelFile and
// returns its training windows (0 when nothing is stored). The store is
// opened read-only (a shared lock: creates do not wait for each other),
// waiting up to timeout for a writer.
func recallModel(db, wl, modelFile string, timeout time.Duration) (uint64, error) {
	s, err := memory.Open(db, memory.Options{ReadOnly: true, Timeout: timeout})
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil // nothing remembered yet
	}
	if err != nil {
		return 0, storeError(db, err)
	}
	defer s.Close()
	r, err := s.Get(workloadKind, wl)
	if errors.Is(err, memory.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	d, err := decodeWorkloadData(r.Data)
	if err != nil || len(d.Model) == 0 {
		return 0, err
	}
	var m selfmodel.Model
	if err := m.UnmarshalBinary(d.Model); err != nil {
		return 0, fmt.Errorf("stored model: %w", err)
	}
	f, err := os.OpenFile(modelFile, os.O_WRONLY|os.O_TRUNC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return 0, fmt.Errorf("writing the model file: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(d.Model); err != nil {
		f.Truncate(0) // never leave the sandbox half a model
		return 0, fmt.Errorf("writing the model file: %w", err)
	}
	return m.Windows(), nil
}

// rememberRun runs at delete, before removeLink: it merges what the run of
// container id learned into the stored memory of its workload. It never
// fails the delete: problems are warnings. Containers without a workload
// (a pod's non-root containers, containers of other runtimes or from
// before long memory) are skipped.
func rememberRun(id string) {
	lc, err := storedLink(id)
	if err != nil || lc.Sandbox != "" || lc.Workload == "" {
		return
	}
	warn := func(format string, args ...any) {
		warnf("%s: long memory of workload %s: %s", id, lc.Workload, fmt.Sprintf(format, args...))
	}
	if err := remember(id, lc, rememberTimeout, warn); err != nil {
		warn("%v; this run is not remembered", err)
	}
}

// remember merges the run of container id (its link description lc) into
// its workload's stored record, in one read-modify-write transaction:
//
//   - runs: one more; label, updated time and source (id): this run's;
//   - model: the model file's (if it decodes) merged into the stored one
//     (selfmodel.Model.Merge: the union of the pairs; windows add up,
//     counting only the windows this run added to the model it was given
//     at create); it replaces a stored model of another window length;
//   - policy: if the record holds learn-mode decisions (from the offset of
//     create on), the policy they teach (as "swarm profile export" builds
//     it) merged with the stored one as a union (syscalls.ProfileFromPolicy).
//
// A model file that does not decode (the sandbox was killed while writing
// it) or a stored policy that is not a learned one (imported) is a warning,
// and the rest is remembered. A run that never started (no start line in
// the record, no model) is not counted.
func remember(id string, lc linkConfig, timeout time.Duration, warn func(string, ...any)) error {
	var run *selfmodel.Model
	data, err := os.ReadFile(lc.Model)
	switch {
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		warn("reading the model file: %v; this run's model is not remembered", err)
	case len(data) > 0:
		if run, err = runModel(data, lc.ModelBase); err != nil {
			warn("the model file %s does not decode (the sandbox was killed while writing it?): %v; this run's model is not remembered", lc.Model, err)
		}
	}
	learned := syscalls.NewProfile()
	st, err := learnFromRecord(learned, lc.Events, lc.RecordOffset)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		warn("reading the decision record: %v; what it learned is not remembered", err)
	}
	if st.starts == 0 && len(data) == 0 {
		return nil // the sandbox never ran
	}
	if run != nil && st.learning == 0 && st.refused+st.harmed > 0 {
		// An enforcing run's model learns while it is not stable; a run
		// whose calls were refused or whose tasks were denied or killed
		// may have been attacked, and what it learnt must not become
		// normal for the next run.
		warn("%d calls were refused and %d swarm decisions denied or killed in this run; its model is not merged (learn mode runs always are)", st.refused, st.harmed)
		run = nil
	}
	var learnedPolicy *policy.Policy
	if st.learning > 0 {
		if st.lost > 0 || st.cut > 0 {
			warn("%d records were lost and %d lines cut while learning; the learned policy may miss behaviour", st.lost, st.cut)
		}
		if learnedPolicy, err = learned.Policy(policy.Errno("EPERM")); err != nil {
			warn("building the learned policy: %v", err)
		}
	}
	s, err := memory.Open(lc.MemoryDB, memory.Options{Timeout: timeout})
	if err != nil {
		return storeError(lc.MemoryDB, err)
	}
	defer s.Close()
	return s.Update(workloadKind, lc.Workload, func(old *memory.Record) (*memory.Record, error) {
		var d workloadData
		runs := 0
		if old != nil {
			var err error
			if d, err = decodeWorkloadData(old.Data); err != nil {
				return nil, err // a newer format: leave it to a newer build
			}
			runs = old.Runs
		}
		d.Label = lc.WorkloadLabel
		if run != nil {
			d.Model = mergeModels(d.Model, run, warn)
		}
		if learnedPolicy != nil {
			d.Policy = mergePolicies(d.Policy, learnedPolicy, warn)
		}
		return &memory.Record{Data: d.encode(), Runs: runs + 1, Source: id}, nil
	})
}

// mergeModels returns the encoding of the stored model (encoded; empty if
// none) with run merged in.
func mergeModels(stored []byte, run *selfmodel.Model, warn func(string, ...any)) []byte {
	runData, _ := run.MarshalBinary()
	if len(stored) == 0 {
		return runData
	}
	var m selfmodel.Model
	if err := m.UnmarshalBinary(stored); err != nil {
		warn("the stored model does not decode (%v); this run's model replaces it", err)
		return runData
	}
	if _, err := m.Merge(run); err != nil {
		warn("%v; this run's model (K %d) replaces the stored one (K %d)", err, run.K(), m.K())
		return runData
	}
	out, _ := m.MarshalBinary()
	return out
}

// mergePolicies returns the stored learned policy (YAML; empty if none)
// extended by learned.
func mergePolicies(stored string, learned *policy.Policy, warn func(string, ...any)) string {
	deny := learned.Default
	prof := syscalls.NewProfile()
	if stored != "" {
		old, err := policy.Parse("stored policy", []byte(stored))
		if err == nil {
			deny = old.Default
			err = prof.ObservePolicy(old)
		}
		if err != nil {
			warn("the stored policy is kept as it is, without what this run learned: %v", err)
			return stored
		}
	}
	var merged *policy.Policy
	err := prof.ObservePolicy(learned)
	if err == nil {
		merged, err = prof.Policy(deny)
	}
	var text []byte
	if err == nil {
		text, err = policy.Marshal(merged)
	}
	if err != nil {
		warn("merging the learned policy: %v; the stored policy is kept", err)
		return stored
	}
	return string(text)
}

// runModel decodes the model a sandbox left in its model file and returns
// what this run contributed: the model less base, the training windows of
// the stored model the host gave it at create. The sandbox started from
// that model, so its windows include base; merging them whole would count
// base twice (and, with runs of one workload overlapping, once per run).
// The pairs need no such care: merging is a union.
func runModel(data []byte, base uint64) (*selfmodel.Model, error) {
	var m selfmodel.Model
	if err := m.UnmarshalBinary(data); err != nil {
		return nil, err
	}
	if base == 0 || m.Windows() < base {
		return &m, nil // the sandbox did not start from the stored model
	}
	var r selfmodel.Model
	if err := r.UnmarshalBinary(rebaseWindows(data, base)); err != nil {
		return &m, nil // a format this build does not know how to rebase
	}
	return &r, nil
}

// rebaseWindows takes base off the windows and last-change counters of an
// encoded model and fixes its checksum. It follows the version-1 layout
// documented in swarm/selfmodel/marshal.go (magic "ASLF", version, K,
// rows, windows uint64 at 8, lastChange uint64 at 16, ..., CRC-32C last)
// and leaves any other data as it is, for UnmarshalBinary to judge.
func rebaseWindows(data []byte, base uint64) []byte {
	const windowsOff, lastChangeOff, headerLen, crcLen = 8, 16, 24, 4
	if len(data) < headerLen+crcLen || string(data[:4]) != "ASLF" || data[4] != 1 {
		return data
	}
	out := append([]byte(nil), data...)
	w := binary.LittleEndian.Uint64(out[windowsOff:])
	lc := binary.LittleEndian.Uint64(out[lastChangeOff:])
	binary.LittleEndian.PutUint64(out[windowsOff:], w-min(base, w))
	binary.LittleEndian.PutUint64(out[lastChangeOff:], lc-min(base, lc))
	body := out[:len(out)-crcLen]
	binary.LittleEndian.PutUint32(out[len(body):], crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	return out
}

// recordLearning counts what a decision record held.
type recordLearning struct {
	starts    int // sandbox start lines
	decisions int // decision lines
	learning  int // decisions in learn mode
	// refused counts calls an enforcing policy refused; harmed swarm
	// decisions that denied or killed: a run with either may have been
	// attacked, and its model is not merged.
	refused, harmed int
	lost            int // records lost or dropped on the way
	cut             int // lines that are not JSON (cut by a full disk)
}

// learnFromRecord feeds the decisions of the record at path, from byte
// offset on, to prof ("swarm profile export" and rememberRun share it).
// An offset past the end (a record replaced since) reads it all.
func learnFromRecord(prof *syscalls.Profile, path string, offset int64) (recordLearning, error) {
	var st recordLearning
	f, err := os.Open(path)
	if err != nil {
		return st, err
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && offset > 0 && offset <= info.Size() {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			return st, err
		}
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !json.Valid(line) {
			st.cut++
			continue
		}
		var head struct {
			Type    string
			Records int
		}
		json.Unmarshal(line, &head)
		switch head.Type {
		case "start":
			st.starts++
			continue
		case "lost", "dropped":
			st.lost += head.Records
			continue
		case "decision":
		case "swarm":
			var sw struct{ Action string }
			if json.Unmarshal(line, &sw) == nil && (sw.Action == "deny" || sw.Action == "kill") {
				st.harmed++
			}
			continue
		default:
			continue
		}
		d, err := syscalls.ParseDecision(line)
		if err != nil {
			st.cut++
			continue
		}
		st.decisions++
		if d.Mode == "learn" {
			st.learning++
		}
		if d.Mode == "enforce" && d.Action != "allow" {
			st.refused++
		}
		prof.ObserveDecision(&d)
	}
	return st, sc.Err()
}
