package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/athenaos/athena/internal/atomicfile"
	"github.com/athenaos/athena/sentry"
)

// The link between a sandbox and the host side (docs/architecture.md):
//
//   - the decision record, EVENTS_DIR/ID.jsonl: JSON lines the sandbox
//     appends (durable: it outlives the sandbox and the container);
//   - the status file, /run/athena/status/ID.json: the sandbox's counters,
//     rewritten in place;
//   - the control FIFO, /run/athena/control/ID.fifo: policies the host
//     sends to a running sandbox ("swarm policy set");
//   - the model file, /run/athena/model/ID.bin: the sense-of-self model,
//     which the host fills from long memory at create and reads back at
//     delete (docs/memory.md), and the sandbox rewrites in place.
//
// The host side makes the files at create, owned by the user the sandbox
// process runs as; the sandbox opens them in "boot", before gVisor seals
// it, and holds them until it exits.
const (
	defaultEventsDir = "/var/lib/athena/events"
	statusDir        = "/run/athena/status"
	controlDir       = "/run/athena/control"
	modelDir         = "/run/athena/model"
	// linkDir holds each container's link description (linkConfig),
	// written at create: the sandbox reads it in boot, because runsc does
	// not pass AthenaOS's own flags on to the sandbox process, and the
	// swarm commands read it to find a container's files.
	linkDir = "/run/athena/link"
)

// linkConfig describes a container's link.
type linkConfig struct {
	sentry.LinkFiles
	EventsMaxBytes int64
	// Sandbox is, for a container started in another container's
	// sandbox (a pod's), that container's ID: the files are the
	// sandbox's, shared by its containers. Empty for a sandbox's root
	// container.
	Sandbox string `json:",omitempty"`
	// CPU is the container's OCI CPU resources (cpu.shares, quota and
	// period), for the scheduler agent.
	CPU sentry.OCIResources `json:",omitempty"`
	// RunscRoot is runsc's --root the container was created under, for
	// the host-side faults of swarm inject (which find the sandbox and
	// gofer processes in runsc's state).
	RunscRoot string `json:",omitempty"`

	// Long memory (docs/memory.md), set at create for a sandbox's root
	// container: the workload it runs (stable across runs: not the
	// container ID) and its label, the database its memory comes from
	// and goes back to, the windows of the stored model written to the
	// model file (so the delete counts only this run's windows), and the
	// record's size at create (so the delete learns only from this run).
	Workload      string `json:",omitempty"`
	WorkloadLabel string `json:",omitempty"`
	MemoryDB      string `json:",omitempty"`
	ModelBase     uint64 `json:",omitempty"`
	RecordOffset  int64  `json:",omitempty"`
}

// sandboxOf returns the ID of the sandbox (its root container) that
// container id runs in: id itself unless it joined another's.
func sandboxOf(id string) string {
	if c, err := storedLink(id); err == nil && c.Sandbox != "" {
		return c.Sandbox
	}
	return id
}

func linkConfigPath(id string) string {
	return filepath.Join(linkDir, filepath.Base(id)+".json")
}

// storedLink reads the link description of container id.
func storedLink(id string) (linkConfig, error) {
	var c linkConfig
	data, err := os.ReadFile(linkConfigPath(id))
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("%s: %w", linkConfigPath(id), err)
	}
	return c, nil
}

var (
	eventsDirFlag  = flag.String("athena-events-dir", defaultEventsDir, "AthenaOS: directory of the containers' decision records (ID.jsonl)")
	eventsMaxFlag  = flag.Int64("athena-events-max-bytes", sentry.DefaultEventsMaxBytes, "AthenaOS: size bound of one container's decision record; records past it are counted as lost")
	eventsKeepFlag = flag.Int("athena-events-keep", 1000, "AthenaOS: how many decision records of deleted containers to keep (the newest); 0 keeps none")
)

// linkFiles returns the link's files of container id: as created, while
// the container exists; as the flags say, for a new or deleted one.
func linkFiles(id string) sentry.LinkFiles {
	if c, err := storedLink(id); err == nil {
		return c.LinkFiles
	}
	return newLinkFiles(id)
}

// newLinkFiles returns where the link's files of a new container go.
func newLinkFiles(id string) sentry.LinkFiles {
	base := filepath.Base(id)
	return sentry.LinkFiles{
		Events:  filepath.Join(*eventsDirFlag, base+".jsonl"),
		Status:  filepath.Join(statusDir, base+".json"),
		Control: filepath.Join(controlDir, base+".fifo"),
		Model:   filepath.Join(modelDir, base+".bin"),
	}
}

// controlLock is the lock file writers of a control FIFO hold.
func controlLock(id string) string {
	return filepath.Join(controlDir, filepath.Base(id)+".lock")
}

// sandboxOwner returns the host user and group the sandbox process runs
// as: the host IDs that container root maps to in a user namespace, root
// otherwise.
func sandboxOwner(spec *specs.Spec) (uid, gid int) {
	if spec.Linux == nil {
		return 0, 0
	}
	for _, m := range spec.Linux.UIDMappings {
		if m.ContainerID == 0 && m.Size > 0 {
			uid = int(m.HostID)
		}
	}
	for _, m := range spec.Linux.GIDMappings {
		if m.ContainerID == 0 && m.Size > 0 {
			gid = int(m.HostID)
		}
	}
	return uid, gid
}

// prepareLink makes the link's files for a container about to be created
// or restored. The record is appended to, never truncated: a restored
// container goes on with its predecessor's record.
func prepareLink(id string, spec *specs.Spec) error {
	files := newLinkFiles(id)
	uid, gid := sandboxOwner(spec)
	for _, dir := range []string{filepath.Dir(files.Events), statusDir, controlDir, modelDir, linkDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("preparing the decision link: %w", err)
		}
	}
	ev, err := os.OpenFile(files.Events, os.O_WRONLY|os.O_CREATE|os.O_APPEND|unix.O_NOFOLLOW, 0o640)
	if err != nil {
		return fmt.Errorf("preparing the decision record: %w", err)
	}
	ev.Close()
	st, err := os.OpenFile(files.Status, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return fmt.Errorf("preparing the status file: %w", err)
	}
	st.Close()
	mf, err := os.OpenFile(files.Model, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("preparing the model file: %w", err)
	}
	mf.Close()
	os.Remove(files.Control) // a stale FIFO of an earlier container of that ID
	if err := unix.Mkfifo(files.Control, 0o600); err != nil {
		return fmt.Errorf("preparing the control channel %s: %w", files.Control, err)
	}
	for _, f := range []string{files.Events, files.Status, files.Control, files.Model} {
		if err := os.Lchown(f, uid, gid); err != nil {
			return fmt.Errorf("preparing the decision link: %w", err)
		}
	}
	if err := atomicfile.WriteJSON(linkConfigPath(id), linkConfig{LinkFiles: files, EventsMaxBytes: *eventsMaxFlag, CPU: ociResources(spec), RunscRoot: globalFlagValue(os.Args[1:], "root")}); err != nil {
		return fmt.Errorf("preparing the decision link: %w", err)
	}
	return nil
}

// joinSandbox gives container id, created in the running sandbox of
// container sandbox, its link (the sandbox's) and its policy: the policy
// is sent to the sandbox, which uses it for the tasks of id from then on.
func joinSandbox(id, sandbox string, name string, text []byte, cpu sentry.OCIResources) error {
	root, err := storedLink(sandbox)
	if err != nil {
		return fmt.Errorf("sandbox %s has no AthenaOS link (was it created by runsc-athena?): %w", sandbox, err)
	}
	if root.Sandbox != "" {
		sandbox = root.Sandbox
	}
	if err := sendPolicy(sandbox, id, name, text, sentry.PolicyDigest(text), cpu); err != nil {
		return err
	}
	return atomicfile.WriteJSON(linkConfigPath(id), linkConfig{LinkFiles: root.LinkFiles, EventsMaxBytes: root.EventsMaxBytes, Sandbox: sandbox, CPU: cpu, RunscRoot: root.RunscRoot})
}

// removeLink removes a deleted container's status file and control FIFO,
// and its decision record if it holds nothing but start and policy lines:
// records of decisions are kept for audit (docs/policy.md, "Decisions").
func removeLink(id string) {
	if sandboxOf(id) != id {
		// A pod's container: the files are its sandbox's.
		os.Remove(linkConfigPath(id))
		return
	}
	files := linkFiles(id)
	os.Remove(linkConfigPath(id))
	os.Remove(files.Status)
	os.Remove(files.Control)
	if files.Model != "" {
		os.Remove(files.Model)
	}
	os.Remove(controlLock(id))
	if !recordHasDecisions(files.Events) {
		os.Remove(files.Events)
	}
	pruneRecords(filepath.Dir(files.Events), *eventsKeepFlag)
}

// pruneRecords removes the oldest records of deleted containers in dir
// beyond the newest keep, so that kept records do not fill the disk over
// months of containers. Records of existing containers are never removed.
func pruneRecords(dir string, keep int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type record struct {
		path string
		mod  time.Time
	}
	var old []record
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), ".jsonl")
		if !ok || !e.Type().IsRegular() {
			continue
		}
		if _, err := os.Stat(linkConfigPath(id)); err == nil {
			continue // the container exists
		}
		if info, err := e.Info(); err == nil {
			old = append(old, record{filepath.Join(dir, e.Name()), info.ModTime()})
		}
	}
	if len(old) <= keep {
		return
	}
	sort.Slice(old, func(i, j int) bool { return old[i].mod.After(old[j].mod) })
	for _, r := range old[max(keep, 0):] {
		os.Remove(r.path)
	}
}

// recordHasDecisions reports whether a record holds anything worth
// keeping (or cannot be read: then it is kept).
func recordHasDecisions(path string) bool {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	if err != nil {
		return true
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte(`{"type":"start"`)) && !bytes.HasPrefix(line, []byte(`{"type":"policy"`)) {
			return true
		}
	}
	return sc.Err() != nil
}

// ociResources returns what the sandbox needs of a container's OCI
// resources (zero fields: unset).
func ociResources(spec *specs.Spec) sentry.OCIResources {
	var c sentry.OCIResources
	if spec.Linux == nil || spec.Linux.Resources == nil {
		return c
	}
	if p := spec.Linux.Resources.Pids; p != nil && p.Limit > 0 {
		c.Pids = p.Limit
	}
	r := spec.Linux.Resources.CPU
	if r == nil {
		return c
	}
	if r.Shares != nil {
		c.Shares = *r.Shares
	}
	if r.Quota != nil {
		c.Quota = *r.Quota
	}
	if r.Period != nil {
		c.Period = *r.Period
	}
	return c
}
