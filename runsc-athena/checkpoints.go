package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/athenaos/athena/internal/atomicfile"
)

// Checkpoints of a kept container (docs/healer.md) live on the host in
// checkpointRoot/ID/ck-SEQ/: gVisor's image files plus manifestName, which
// names each file with its size and SHA-256. A checkpoint is written under
// a temporary name and renamed into place only once its manifest is
// complete, so a directory named ck-SEQ is either whole or recognisably
// broken (its manifest missing or disagreeing with the files).
const (
	checkpointRoot = "/var/lib/athena/checkpoints"
	manifestName   = "athena-manifest.json"
	checkpointPfx  = "ck-"
)

// checkpointManifest describes one checkpoint.
type checkpointManifest struct {
	Container string    `json:"container"`
	Seq       int       `json:"seq"`
	Taken     time.Time `json:"taken"`
	// Millis is how long gVisor's checkpoint took (the app was paused
	// for at most that long).
	Millis int64 `json:"millis"`
	// PolicyDigest is the digest of the policy in force when it was
	// taken: for the record only, since a restore always runs under the
	// host's current policy.
	PolicyDigest string           `json:"policy_digest,omitempty"`
	Files        []checkpointFile `json:"files"`
}

type checkpointFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// checkpointDir is where container id's checkpoints are kept.
func checkpointDir(id string) string {
	return filepath.Join(checkpointRoot, filepath.Base(id))
}

// checkpointInfo is one checkpoint found on disk.
type checkpointInfo struct {
	Seq  int
	Path string
}

// listCheckpoints returns the checkpoints in dir, newest first (temporary
// and foreign entries are skipped).
func listCheckpoints(dir string) ([]checkpointInfo, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []checkpointInfo
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), checkpointPfx)
		if !ok || !e.IsDir() {
			continue
		}
		seq, err := strconv.Atoi(rest)
		if err != nil {
			continue
		}
		out = append(out, checkpointInfo{Seq: seq, Path: filepath.Join(dir, e.Name())})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Seq > out[j].Seq })
	return out, nil
}

// sealCheckpoint writes the manifest of the checkpoint gVisor has just
// written in tmp and renames it to its final name (ck-SEQ in the same
// directory), so it is either complete or absent.
func sealCheckpoint(tmp string, m checkpointManifest) (string, error) {
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.Name() == manifestName || !e.Type().IsRegular() {
			continue
		}
		f, err := hashFile(filepath.Join(tmp, e.Name()))
		if err != nil {
			return "", err
		}
		f.Name = e.Name()
		m.Files = append(m.Files, f)
	}
	if len(m.Files) == 0 {
		return "", fmt.Errorf("checkpoint %s holds no files", tmp)
	}
	if err := atomicfile.WriteJSON(filepath.Join(tmp, manifestName), m); err != nil {
		return "", err
	}
	final := filepath.Join(filepath.Dir(tmp), fmt.Sprintf("%s%d", checkpointPfx, m.Seq))
	if err := os.Rename(tmp, final); err != nil {
		return "", err
	}
	return final, nil
}

// verifyCheckpoint checks that the checkpoint in dir is whole: its
// manifest parses, names the container, and every file it lists has the
// size and SHA-256 it records. It returns the manifest.
func verifyCheckpoint(dir, id string) (checkpointManifest, error) {
	var m checkpointManifest
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return m, fmt.Errorf("checkpoint %s: no manifest: %w", dir, err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("checkpoint %s: bad manifest: %w", dir, err)
	}
	if m.Container != id {
		return m, fmt.Errorf("checkpoint %s belongs to container %q, not %q", dir, m.Container, id)
	}
	if len(m.Files) == 0 {
		return m, fmt.Errorf("checkpoint %s: manifest lists no files", dir)
	}
	for _, want := range m.Files {
		if want.Name != filepath.Base(want.Name) {
			return m, fmt.Errorf("checkpoint %s: manifest names a file outside it: %q", dir, want.Name)
		}
		got, err := hashFile(filepath.Join(dir, want.Name))
		if err != nil {
			return m, fmt.Errorf("checkpoint %s: %w", dir, err)
		}
		if got.Size != want.Size || got.SHA256 != want.SHA256 {
			return m, fmt.Errorf("checkpoint %s: %s is corrupt (size %d, sha256 %.12s; manifest says %d, %.12s)", dir, want.Name, got.Size, got.SHA256, want.Size, want.SHA256)
		}
	}
	return m, nil
}

func hashFile(path string) (checkpointFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return checkpointFile{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return checkpointFile{}, fmt.Errorf("reading %s: %w", path, err)
	}
	return checkpointFile{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// pruneCheckpoints removes all but the newest keep checkpoints in dir
// (and checkpoint pinned, if not 0), and any temporary directory a crashed
// checkpoint left.
func pruneCheckpoints(dir string, keep, pinned int) {
	cks, err := listCheckpoints(dir)
	if err != nil {
		return
	}
	for i, c := range cks {
		if i >= keep && c.Seq != pinned {
			os.RemoveAll(c.Path)
		}
	}
	if entries, err := os.ReadDir(dir); err == nil {
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".tmp-") {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}
}
