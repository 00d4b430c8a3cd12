package dockerrt

import "testing"

func TestListed(t *testing.T) {
	info := []byte(`{"runc":{"path":"runc"},"athena":{"path":"/usr/local/bin/runsc-athena"}}`)
	for _, tc := range []struct {
		names   []string
		present bool
		want    bool
	}{
		{[]string{"athena"}, true, true},
		{[]string{"athena", "x"}, true, false},
		{[]string{"x"}, false, true},
		{[]string{"athena", "x"}, false, false},
	} {
		if got := listed(info, tc.names, tc.present); got != tc.want {
			t.Errorf("listed(%v, %v) = %v", tc.names, tc.present, got)
		}
	}
	if listed([]byte("not json"), nil, false) {
		t.Errorf("unparsable info counted as listed")
	}
}
