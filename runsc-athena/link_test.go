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
	for i, name := range []string{"a", "b", "c", "d"} {
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
	if len(left) != 3 || left[0] != "c.jsonl" || left[1] != "d.jsonl" || left[2] != "notes.txt" {
		t.Errorf("left %v, want c.jsonl d.jsonl notes.txt", left)
	}
}
