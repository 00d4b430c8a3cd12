package results

import (
	"slices"
	"testing"
)

func TestSplitList(t *testing.T) {
	for in, want := range map[string][]string{
		"":                 nil,
		"runc":             {"runc"},
		" runc , athena,,": {"runc", "athena"},
		"a=b, c=d":         {"a=b", "c=d"},
	} {
		if got := SplitList(in); !slices.Equal(got, want) {
			t.Errorf("SplitList(%q) = %q, want %q", in, got, want)
		}
	}
}
