package main

import (
	"strings"
	"testing"
)

func TestParseTAPAndVerdict(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tap    string
		exitOK bool
		want   counts
	}{
		{
			name: "plain stream with skip and YAML quoting inner TAP",
			tap: "TAP version 13\nok 1 - a\n  ---\n  stdout: |\n    not ok 9 - quoted, not counted\n  ...\n" +
				"not ok 2 - b\nok 3 # SKIP not set\nnot ok 4 # TODO bind\n1..4\n",
			exitOK: true,
			want:   counts{Pass: 1, Fail: 1, Skip: 2},
		},
		{
			name:   "inner stream cut short: runtimetest died before its plan",
			tap:    "TAP version 13\nok 1 - a\nnot ok 2 - b\n",
			exitOK: true,
			want:   counts{Pass: 1, Fail: 2},
		},
		{
			name:   "two streams, second empty",
			tap:    "TAP version 13\nok 1\nok 2\n1..2\nTAP version 13\n1..0\n",
			exitOK: true,
			want:   counts{Pass: 2},
		},
		{
			name:   "_fail program: runtime rejected the config, nothing printed",
			tap:    "",
			exitOK: true,
			want:   counts{Pass: 1},
		},
		{
			name:   "program failed before any test point",
			tap:    "TAP version 13\n1..0\n",
			exitOK: false,
			want:   counts{Fail: 1},
		},
		{
			name:   "empty plan, clean exit",
			tap:    "TAP version 13\n  ---\n  error: x\n  ...\n1..0\n",
			exitOK: true,
			want:   counts{Skip: 1},
		},
		{
			name:   "points then non-zero exit",
			tap:    "TAP version 13\nok 1\n1..1\n",
			exitOK: false,
			want:   counts{Pass: 1, Fail: 1},
		},
		{
			name:   "bail out",
			tap:    "TAP version 13\nok 1\nBail out! broken\n1..1\n",
			exitOK: true,
			want:   counts{Pass: 1, Fail: 1},
		},
	} {
		s, err := parseTAP(strings.NewReader(tc.tap))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := verdict(s, tc.exitOK); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
