package main

import (
	"encoding/json"
	"testing"
)

func TestKeptStateAnswer(t *testing.T) {
	running := &keeperState{Container: "c", KeeperPID: 10, SandboxPID: 20, State: "running"}
	recovering := &keeperState{Container: "c", KeeperPID: 10, SandboxPID: 20, State: "recovering"}
	for _, tc := range []struct {
		name string
		k    *keeperState
		out  string
		ok   bool
		want string
	}{
		{"running stays", running, `{"id":"c","status":"running","pid":20}`, true, "running"},
		{"created before start stays", running, `{"id":"c","status":"created","pid":20}`, true, "created"},
		{"created during a recovery", recovering, `{"id":"c","status":"created","pid":21}`, true, "running"},
		{"dead sandbox", running, `{"id":"c","status":"stopped","pid":20}`, true, "running"},
		{"paused stays", running, `{"id":"c","status":"paused","pid":20}`, true, "paused"},
		{"no state", recovering, `container "c" does not exist`, false, "running"},
	} {
		out, ok := keptStateAnswer("c", tc.k, []byte(tc.out), tc.ok)
		if !ok {
			t.Errorf("%s: no answer", tc.name)
			continue
		}
		var st struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		if err := json.Unmarshal(out, &st); err != nil || st.ID != "c" || st.Status != tc.want {
			t.Errorf("%s: got %s (%v), want status %q", tc.name, out, err, tc.want)
		}
	}
}

func TestKeptFix(t *testing.T) {
	x := newSandboxExits()
	x.watch(100, "kept")
	x.keep("kept")
	x.record(100, 3)
	if got := x.fix(t.Context(), "kept", 0); got != 3 {
		t.Errorf("a kept container's status is its keeper's: got %d, want 3", got)
	}
	x.forget("kept")
	if x.isKept("kept") {
		t.Error("forget keeps the mark")
	}
}
