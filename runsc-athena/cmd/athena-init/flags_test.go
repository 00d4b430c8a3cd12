package main

import (
	"errors"
	"flag"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/restart"
)

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want config
	}{
		{"command only", []string{"--", "/bin/true"}, config{argv: []string{"/bin/true"}}},
		{"no --", []string{"sh", "-c", "exit 1"}, config{argv: []string{"sh", "-c", "exit 1"}}},
		{"flags after -- are the command's", []string{"--", "/bin/x", "--restart=always"}, config{argv: []string{"/bin/x", "--restart=always"}}},
		{"all flags", []string{"--restart=on-failure", "--backoff=10ms..50ms", "--intensity=3/10s", "--", "/bin/x", "a"},
			config{main: restart.Policy{Mode: restart.OnFailure, BackoffFirst: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond, MaxRestarts: 3, Window: 10 * time.Second},
				argv: []string{"/bin/x", "a"}}},
		{"single dash, separate value", []string{"-restart", "always", "-intensity", "1/1s", "--", "x"},
			config{main: restart.Policy{Mode: restart.Always, MaxRestarts: 1, Window: time.Second}, argv: []string{"x"}}},
		{"services", []string{`--service=worker:always:["/bin/worker","-x"]`, "--service", `b-2::["/b", "c:d", ""]`, "--", "x"},
			config{services: []service{
				{name: "worker", mode: restart.Always, argv: []string{"/bin/worker", "-x"}},
				{name: "b-2", mode: restart.OnFailure, argv: []string{"/b", "c:d", ""}},
			}, argv: []string{"x"}}},
		{"service restart no", []string{`--service=w:no:["w"]`, "--", "x"},
			config{services: []service{{name: "w", mode: restart.No, argv: []string{"w"}}}, argv: []string{"x"}}},
	} {
		got, err := parseArgs(tc.args)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%s: got %+v\nwant %+v", tc.name, *got, tc.want)
		}
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"nothing", nil, "no command to run"},
		{"only --", []string{"--"}, "no command to run"},
		{"only flags", []string{"--restart=always"}, "no command to run"},
		{"empty command", []string{"--", ""}, "empty command name"},
		{"unknown flag", []string{"--bogus", "--", "x"}, "flag provided but not defined: -bogus"},
		{"bad restart", []string{"--restart=sometimes", "--", "x"}, `invalid value "sometimes" for flag -restart: bad restart mode "sometimes" (want no, on-failure or always)`},
		{"missing value", []string{"--restart"}, "flag needs an argument: -restart"},
		{"bad backoff", []string{"--backoff=10s..1s", "--", "x"}, `bad backoff "10s..1s": maximum delay 1s is below the first delay 10s`},
		{"bad intensity", []string{"--intensity=5", "--", "x"}, `bad intensity "5": want RESTARTS/WINDOW such as 5/60s`},
		{"service syntax", []string{"--service=worker", "--", "x"}, `want NAME:RESTART:JSON-ARGV, as in worker:always:["/bin/worker","-x"]`},
		{"service main", []string{`--service=main:always:["/x"]`, "--", "x"}, `service name "main" is reserved for the container's command`},
		{"service name", []string{`--service=Worker:always:["/x"]`, "--", "x"}, `bad service name "Worker" (want 1 to 32 of a-z, 0-9, _ and -)`},
		{"service name empty", []string{`--service=:always:["/x"]`, "--", "x"}, `bad service name ""`},
		{"service mode", []string{`--service=w:never:["/x"]`, "--", "x"}, `service w: bad restart mode "never"`},
		{"service json", []string{`--service=w:always:/bin/w -x`, "--", "x"}, `service w: the command must be a JSON array of strings, as in ["/bin/worker","-x"]`},
		{"service json numbers", []string{`--service=w:always:["/w", 1]`, "--", "x"}, `service w: the command must be a JSON array of strings`},
		{"service empty", []string{`--service=w:always:[]`, "--", "x"}, "service w: empty command"},
		{"service empty path", []string{`--service=w:always:[""]`, "--", "x"}, "service w: empty command"},
		{"service twice", []string{`--service=w::["/a"]`, `--service=w::["/b"]`, "--", "x"}, `service "w" given twice`},
	} {
		_, err := parseArgs(tc.args)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want %q", tc.name, err, tc.want)
		}
	}
	for _, h := range []string{"-h", "--help", "-help"} {
		if _, err := parseArgs([]string{h}); !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s: err = %v", h, err)
		}
	}
}

// TestInitArgs: athena-init accepts exactly what policy.Heal.InitArgs
// writes, and reads back the section's restart policy and services.
func TestInitArgs(t *testing.T) {
	for _, src := range []string{
		"heal: {restart: on-failure}\n",
		"heal: {restart: always, backoff: 10ms..50ms, intensity: 3/90s}\n",
		"heal: {restart: always, backoff: 1h, intensity: 10000/24h}\n",
		"heal: {restart: always, backoff: 1ms..1ms, intensity: 1/1s}\n",
		"heal:\n  services:\n    - {name: w, command: [/bin/w]}\n",
		"heal:\n  restart: on-failure\n  services:\n" +
			"    - {name: worker, command: [/bin/worker, -x], restart: always}\n" +
			"    - {name: a_b-9, command: [/bin/sh, -c, 'a && b < \"c\" > d; echo $X:y', '', '[', ':'], restart: no}\n" +
			"    - {name: abcdefghijklmnopqrstuvwxyz012345, command: [\"/bin/\\u00e9t\\u00e9\", \"\\t\\n\"]}\n",
		"heal:\n  services:\n" + manyServices(64),
	} {
		pol, err := policy.Parse("x.yaml", []byte("version: 1\ndefault: allow\n"+src))
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		h := pol.Heal
		args := append(h.InitArgs(), "--", "/bin/main", "--restart=no")
		cfg, err := parseArgs(args)
		if err != nil {
			t.Errorf("%q: athena-init refuses %q: %v", src, args, err)
			continue
		}
		if want := h.RestartPolicy().WithDefaults(); cfg.main != want {
			t.Errorf("%q: main policy %+v, want %+v", src, cfg.main, want)
		}
		if !reflect.DeepEqual(cfg.argv, []string{"/bin/main", "--restart=no"}) {
			t.Errorf("%q: argv %q", src, cfg.argv)
		}
		if len(cfg.services) != len(h.Services) {
			t.Fatalf("%q: %d services, want %d", src, len(cfg.services), len(h.Services))
		}
		for i, s := range h.Services {
			got := cfg.services[i]
			if got.name != s.Name || got.mode != s.Restart || !reflect.DeepEqual(got.argv, s.Command) {
				t.Errorf("%q: service %d = %+v, want %+v", src, i, got, s)
			}
		}
	}
}

func manyServices(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("    - {name: s" + strings.Repeat("x", i%20) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ", command: [/bin/s]}\n")
	}
	return b.String()
}
