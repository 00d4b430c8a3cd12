package record

import (
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	d := Decision{ID: MakeID("3f2a9c1b0d4e5f60", 17), Time: time.Unix(1, 2).UTC(), Container: "3f2a9c1b0d4e5f60", PID: 5, TID: 6,
		Agent: "selfmodel", Asked: "kill", Action: "kill", Carried: true, Mode: "enforce", Score: 0.75, Reason: "r",
		Votes: []Vote{{Agent: "rules", Action: "deny", Score: 1, Reason: "rule"}}}
	line := Append(nil, &d)
	got, ok, err := Parse(line)
	if err != nil || !ok {
		t.Fatalf("Parse(%s) = %v, %v", line, ok, err)
	}
	if got.ID != "3f2a9c1b0d4e-17" || got.Votes[0].Agent != "rules" || !got.Time.Equal(d.Time) || got.Type != Type {
		t.Fatalf("round trip: %+v", got)
	}
	if _, ok, err := Parse([]byte(`{"type":"start"}`)); ok || err != nil {
		t.Fatalf("another type: ok=%v err=%v", ok, err)
	}
	if _, _, err := Parse([]byte(`{`)); err == nil {
		t.Fatal("garbage parsed")
	}
}

func TestSplitID(t *testing.T) {
	for id, want := range map[string]string{"3f2a9c1b0d4e-17": "3f2a9c1b0d4e", "my-ctr-3": "my-ctr", "x-": "", "-3": "", "abc": "", "a-b": ""} {
		got, ok := SplitID(id)
		if got != want || ok != (want != "") {
			t.Errorf("SplitID(%q) = %q, %v; want %q", id, got, ok, want)
		}
	}
}
