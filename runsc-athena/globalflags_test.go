package main

import "testing"

func TestParseGlobalFlags(t *testing.T) {
	cases := []struct {
		args        []string
		wantVersion bool
		wantErr     bool
	}{
		{[]string{"--version"}, true, false},
		{[]string{"-version"}, true, false},
		{[]string{"--root=/x", "--debug", "--version"}, true, false},
		{[]string{"--root", "/x", "--version"}, true, false},
		{[]string{"exec", "c", "echo", "--version"}, false, false},
		{[]string{"--root", "/x", "list"}, false, false},
		{[]string{"--log-fd=3", "boot"}, false, false}, // a flag of runsc's cli package
		{[]string{"--no-such-flag", "list"}, false, true},
		{[]string{"--platform"}, false, true}, // missing value
	}
	for _, c := range cases {
		v, _, err := parseGlobalFlags(c.args)
		if v != c.wantVersion || (err != nil) != c.wantErr {
			t.Errorf("parseGlobalFlags(%q) = %v, %v; want %v, err %v", c.args, v, err, c.wantVersion, c.wantErr)
		}
	}
}

func TestLogTarget(t *testing.T) {
	cases := []struct {
		args         []string
		path, format string
	}{
		// The order containerd's shim uses, behind runtimeArgs from daemon.json.
		{[]string{"--bad=1", "--root", "/r", "--log", "/b/log.json", "--log-format", "json", "create", "--log", "/no"}, "/b/log.json", "json"},
		{[]string{"--log=/l", "--debug", "--log-format=text", "run"}, "/l", "text"},
		{[]string{"--bad", "list"}, "", "text"},
	}
	for _, c := range cases {
		p, f := logTarget(c.args)
		if p != c.path || f != c.format {
			t.Errorf("logTarget(%q) = %q, %q; want %q, %q", c.args, p, f, c.path, c.format)
		}
	}
}
