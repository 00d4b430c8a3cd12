package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeSpec(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func readSpec(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPrepareSpec(t *testing.T) {
	const big = `{"ociVersion":"1.0.2","process":{"args":["sh"],"oomScoreAdj":-998},"linux":{"resources":{"memory":{"limit":9223372036854771712}}}`
	for _, tc := range []struct {
		name      string
		spec      string
		floor     *int
		wantFirst bool
		want      []string // substrings of the written spec
		unchanged bool
	}{
		{
			name:      "ctr container becomes its sandbox's first",
			spec:      big + `}`,
			wantFirst: true,
			want:      []string{`"io.kubernetes.cri.container-type":"sandbox"`, `9223372036854771712`, `"oomScoreAdj":-998`},
		},
		{
			name:      "CRI sandbox left alone",
			spec:      big + `,"annotations":{"io.kubernetes.cri.container-type":"sandbox"}}`,
			wantFirst: true,
			unchanged: true,
		},
		{
			name:      "CRI container left alone",
			spec:      big + `,"annotations":{"io.kubernetes.cri.container-type":"container","io.kubernetes.cri.sandbox-id":"p"}}`,
			wantFirst: false,
			unchanged: true,
		},
		{
			name:      "CRI-O container left alone",
			spec:      big + `,"annotations":{"io.kubernetes.cri-o.ContainerType":"container"}}`,
			wantFirst: false,
			unchanged: true,
		},
		{
			name:      "score below the floor raised",
			spec:      big + `,"annotations":{"io.kubernetes.cri.container-type":"sandbox"}}`,
			floor:     intp(0),
			wantFirst: true,
			want:      []string{`"oomScoreAdj":0`, `9223372036854771712`},
		},
		{
			name:      "score above the floor kept",
			spec:      big + `,"annotations":{"io.kubernetes.cri.container-type":"sandbox"}}`,
			floor:     intp(-1000),
			wantFirst: true,
			unchanged: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeSpec(t, tc.spec)
			first, err := prepareSpec(context.Background(), dir, tc.floor)
			if err != nil {
				t.Fatal(err)
			}
			if first != tc.wantFirst {
				t.Errorf("first = %v, want %v", first, tc.wantFirst)
			}
			got := readSpec(t, dir)
			if tc.unchanged && got != tc.spec {
				t.Errorf("spec rewritten:\n%s", got)
			}
			if !json.Valid([]byte(got)) {
				t.Fatalf("invalid JSON written: %s", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("written spec lacks %s:\n%s", w, got)
				}
			}
		})
	}
}

func TestPrepareSpecErrors(t *testing.T) {
	if _, err := prepareSpec(context.Background(), t.TempDir(), nil); err == nil {
		t.Error("no config.json: want an error")
	}
	if _, err := prepareSpec(context.Background(), writeSpec(t, "{"), nil); err == nil {
		t.Error("bad JSON: want an error")
	}
}

func intp(v int) *int { return &v }
