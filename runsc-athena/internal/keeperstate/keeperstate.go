package keeperstate

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Dir holds the keepers' files: ID.json (Status), ID.log, ID.stop and
// ID.sandbox.pid.
const Dir = "/run/athena/keeper"

// Status is a keeper's state file.
type Status struct {
	Container    string    `json:"container"`
	KeeperPID    int       `json:"keeper_pid"`
	SandboxPID   int       `json:"sandbox_pid"`
	GoferPID     int       `json:"gofer_pid"`
	State        string    `json:"state"` // running, recovering, failed, exited
	Updated      time.Time `json:"updated"`
	EverySeconds float64   `json:"every_seconds"`
	Keep         int       `json:"keep"`
	// Checkpoints counts those taken; CheckpointErrors those that failed.
	Checkpoints         uint64     `json:"checkpoints"`
	CheckpointErrors    uint64     `json:"checkpoint_errors"`
	LastCheckpointSeq   int        `json:"last_checkpoint_seq,omitempty"`
	LastCheckpoint      *time.Time `json:"last_checkpoint,omitempty"`
	LastCheckpointMilli int64      `json:"last_checkpoint_ms,omitempty"`
	LastCheckpointBytes int64      `json:"last_checkpoint_bytes,omitempty"`
	LastCheckpointError string     `json:"last_checkpoint_error,omitempty"`
	// Recoveries counts sandboxes restored; the last one's cause, time,
	// duration and source checkpoint follow.
	Recoveries         uint64     `json:"recoveries"`
	LastRecovery       *time.Time `json:"last_recovery,omitempty"`
	LastRecoveryCause  string     `json:"last_recovery_cause,omitempty"`
	LastRecoveryMilli  int64      `json:"last_recovery_ms,omitempty"`
	LastRecoveryFrom   int        `json:"last_recovery_from,omitempty"`
	Failure            string     `json:"failure,omitempty"`
	SkippedCorruptions uint64     `json:"skipped_corrupt_checkpoints,omitempty"`
}

// Path returns where container id's keeper keeps the file with suffix
// (".json", ".log", ".stop", ".sandbox.pid").
func Path(id, suffix string) string { return filepath.Join(Dir, filepath.Base(id)+suffix) }

// Read reads container id's keeper state (os.ErrNotExist if it has no
// keeper).
func Read(id string) (*Status, error) {
	path := Path(id, ".json")
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st Status
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &st, nil
}
