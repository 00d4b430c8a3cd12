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
//     sends to a running sandbox ("swarm policy set").
//
// The host side makes the files at create, owned by the user the sandbox
// process runs as; the sandbox opens them in "boot", before gVisor seals
// it, and holds them until it exits.
const (
	defaultEventsDir = "/var/lib/athena/events"
	statusDir        = "/run/athena/status"
	controlDir       = "/run/athena/control"
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
	eventsDirFlag = flag.String("athena-events-dir", defaultEventsDir, "AthenaOS: directory of the containers' decision records (ID.jsonl)")
	eventsMaxFlag = flag.Int64("athena-events-max-bytes", sentry.DefaultEventsMaxBytes, "AthenaOS: size bound of one container's decision record; records past it are counted as lost")
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
	for _, dir := range []string{filepath.Dir(files.Events), statusDir, controlDir, linkDir} {
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
	os.Remove(files.Control) // a stale FIFO of an earlier container of that ID
	if err := unix.Mkfifo(files.Control, 0o600); err != nil {
		return fmt.Errorf("preparing the control channel %s: %w", files.Control, err)
	}
	for _, f := range []string{files.Events, files.Status, files.Control} {
		if err := os.Lchown(f, uid, gid); err != nil {
			return fmt.Errorf("preparing the decision link: %w", err)
		}
	}
	if err := atomicfile.WriteJSON(linkConfigPath(id), linkConfig{LinkFiles: files, EventsMaxBytes: *eventsMaxFlag}); err != nil {
		return fmt.Errorf("preparing the decision link: %w", err)
	}
	return nil
}

// removeLink removes a deleted container's status file and control FIFO,
// and its decision record if it holds nothing but start and policy lines:
// records of decisions are kept for audit (docs/policy.md, "Decisions").
func removeLink(id string) {
	files := linkFiles(id)
	os.Remove(linkConfigPath(id))
	os.Remove(files.Status)
	os.Remove(files.Control)
	os.Remove(controlLock(id))
	if !recordHasDecisions(files.Events) {
		os.Remove(files.Events)
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
