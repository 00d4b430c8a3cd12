package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPruneRecordsKeepsTheNewest(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	// Names no container on the machine has (pruneRecords keeps the
	// records of containers that exist).
	names := []string{"prune-test-a", "prune-test-b", "prune-test-c", "prune-test-d"}
	for i, name := range names {
		p := filepath.Join(dir, name+".jsonl")
		if err := os.WriteFile(p, []byte("{}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		mod := now.Add(time.Duration(i) * time.Minute) // a oldest, d newest
		os.Chtimes(p, mod, mod)
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), nil, 0o600) // not a record
	pruneRecords(dir, 2)
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if len(left) != 3 || left[0] != "notes.txt" || left[1] != names[2]+".jsonl" || left[2] != names[3]+".jsonl" {
		t.Errorf("left %v, want notes.txt and the records of %s and %s", left, names[2], names[3])
	}
}
