package policy

import (
	"errors"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/athenaos/athena/swarm/restart"
)

// healFull sets every key of the heal section, between the cpu section
// and the rules, as Marshal writes them.
const healFull = `version: 1
mode: enforce
default: allow
cpu:
  weight: 2048
heal:
  restart: on-failure
  backoff: 100ms..10s
  intensity: 5/1m
  services:
    - name: worker
      command: [/bin/worker, -x]
      restart: always
    - name: cron_2
      command: [/usr/sbin/crond, -f, "30", "", a b]
  checkpoint:
    every: 30s
    keep: 3
  on_intrusion: rollback
rules:
  - action: kill
    syscalls: [ptrace]
`

var healFullWant = Heal{
	Restart:   restart.OnFailure,
	Backoff:   restart.Backoff{First: 100 * time.Millisecond, Max: 10 * time.Second},
	Intensity: restart.Intensity{Max: 5, Window: time.Minute},
	Services: []HealService{
		{Name: "worker", Command: []string{"/bin/worker", "-x"}, Restart: restart.Always, Line: 11},
		{Name: "cron_2", Command: []string{"/usr/sbin/crond", "-f", "30", "", "a b"}, Restart: restart.OnFailure, Line: 14},
	},
	Checkpoint:  HealCheckpoint{Every: 30 * time.Second, Keep: 3},
	OnIntrusion: IntrusionRollback,
}

func TestHealParse(t *testing.T) {
	const head = "version: 1\ndefault: allow\n"
	svc := func(name string, mode restart.Mode, line int, argv ...string) HealService {
		return HealService{Name: name, Command: argv, Restart: mode, Line: line}
	}
	for _, tc := range []struct {
		name, src string
		want      Heal
	}{
		{"absent", "", Heal{}},
		{"empty", "heal: {}\n", Heal{}},
		{"restart no", "heal: {restart: no}\n", Heal{}},
		{"restart on-failure", "heal: {restart: on-failure}\n", Heal{Restart: restart.OnFailure}},
		{"restart always", "heal:\n  restart: always\n", Heal{Restart: restart.Always}},
		{"backoff", "heal: {restart: always, backoff: 10ms..50ms}\n",
			Heal{Restart: restart.Always, Backoff: restart.Backoff{First: 10 * time.Millisecond, Max: 50 * time.Millisecond}}},
		{"backoff constant", "heal: {restart: always, backoff: 1s}\n",
			Heal{Restart: restart.Always, Backoff: restart.Backoff{First: time.Second, Max: time.Second}}},
		{"backoff limits", "heal: {restart: always, backoff: 1ms..1h}\n",
			Heal{Restart: restart.Always, Backoff: restart.Backoff{First: restart.MinBackoff, Max: restart.MaxBackoff}}},
		{"intensity", "heal: {restart: on-failure, intensity: 3/10s}\n",
			Heal{Restart: restart.OnFailure, Intensity: restart.Intensity{Max: 3, Window: 10 * time.Second}}},
		{"intensity limits", "heal: {restart: on-failure, intensity: 10000/24h}\n",
			Heal{Restart: restart.OnFailure, Intensity: restart.Intensity{Max: 10000, Window: 24 * time.Hour}}},
		{"intensity 60s", "heal: {restart: on-failure, intensity: 5/60s}\n",
			Heal{Restart: restart.OnFailure, Intensity: restart.Intensity{Max: 5, Window: time.Minute}}},
		{"service default restart", "heal:\n  services:\n    - name: w\n      command: [/bin/w]\n",
			Heal{Services: []HealService{svc("w", restart.OnFailure, 5, "/bin/w")}}},
		{"service restart no", "heal:\n  services:\n    - {name: w, command: [/bin/w], restart: no}\n",
			Heal{Services: []HealService{svc("w", restart.No, 5, "/bin/w")}}},
		{"service block command", "heal:\n  services:\n    - name: a-b_9\n      command:\n        - /bin/sh\n        - -c\n        - echo hi; exit 1\n",
			Heal{Services: []HealService{svc("a-b_9", restart.OnFailure, 5, "/bin/sh", "-c", "echo hi; exit 1")}}},
		{"service backoff without restart", "heal:\n  backoff: 1s..2s\n  services: [{name: w, command: [/w]}]\n",
			Heal{Backoff: restart.Backoff{First: time.Second, Max: 2 * time.Second}, Services: []HealService{svc("w", restart.OnFailure, 5, "/w")}}},
		{"service name 32", "heal:\n  services: [{name: abcdefghijklmnopqrstuvwxyz012345, command: [/w]}]\n",
			Heal{Services: []HealService{svc("abcdefghijklmnopqrstuvwxyz012345", restart.OnFailure, 4, "/w")}}},
		{"services empty", "heal: {services: []}\n", Heal{}},
		{"checkpoint", "heal:\n  checkpoint: {every: 30s}\n", Heal{Checkpoint: HealCheckpoint{Every: 30 * time.Second}}},
		{"checkpoint keep", "heal:\n  checkpoint: {every: 1m, keep: 100}\n", Heal{Checkpoint: HealCheckpoint{Every: time.Minute, Keep: 100}}},
		{"checkpoint min", "heal:\n  checkpoint: {every: 1s, keep: 1}\n", Heal{Checkpoint: HealCheckpoint{Every: time.Second, Keep: 1}}},
		{"checkpoint max", "heal:\n  checkpoint: {every: 24h}\n", Heal{Checkpoint: HealCheckpoint{Every: 24 * time.Hour}}},
		{"checkpoint off 0", "heal:\n  checkpoint: {every: 0}\n", Heal{}},
		{"checkpoint off 0s", "heal:\n  checkpoint: {every: 0s}\n", Heal{}},
		{"checkpoint empty", "heal:\n  checkpoint: {}\n", Heal{}},
		{"on_intrusion kill", "heal: {on_intrusion: kill}\n", Heal{}},
		{"on_intrusion rollback", "heal:\n  checkpoint: {every: 10s}\n  on_intrusion: rollback\n",
			Heal{Checkpoint: HealCheckpoint{Every: 10 * time.Second}, OnIntrusion: IntrusionRollback}},
		{"quoted", "heal: {restart: \"always\", backoff: \"1s..2s\", intensity: \"2/5s\"}\n",
			Heal{Restart: restart.Always, Backoff: restart.Backoff{First: time.Second, Max: 2 * time.Second}, Intensity: restart.Intensity{Max: 2, Window: 5 * time.Second}}},
	} {
		p, err := Parse("x.yaml", []byte(head+tc.src))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !reflect.DeepEqual(p.Heal, tc.want) {
			t.Errorf("%s: heal = %+v\nwant %+v", tc.name, p.Heal, tc.want)
		}
		if p.Heal.IsZero() != tc.want.IsZero() {
			t.Errorf("%s: IsZero = %v", tc.name, p.Heal.IsZero())
		}
		out, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse("x2.yaml", out)
		if err != nil {
			t.Errorf("%s: reparse: %v\n%s", tc.name, err, out)
			continue
		}
		if !p.Equal(q) || !reflect.DeepEqual(p.Heal.clone(), q.Heal.clone()) {
			t.Errorf("%s: round trip differs:\n%s", tc.name, out)
		}
		if has := strings.Contains(string(out), "heal:"); has == p.Heal.IsZero() {
			t.Errorf("%s: marshalled heal section present = %v:\n%s", tc.name, has, out)
		}
	}
}

func TestHealMarshal(t *testing.T) {
	p, err := Parse("f.yaml", []byte(healFull))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Heal, healFullWant) {
		t.Errorf("heal = %+v\nwant %+v", p.Heal, healFullWant)
	}
	if p.Lines.Heal != 7 || p.Lines.CPU != 5 {
		t.Errorf("heal at line %d, cpu at line %d", p.Lines.Heal, p.Lines.CPU)
	}
	out, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != healFull {
		t.Errorf("marshal:\n%s\nwant:\n%s", out, healFull)
	}
	if marshalHeal(&Heal{}) != nil {
		t.Error("the zero section marshals to a node")
	}
	for _, tc := range []struct {
		h    Heal
		want string
	}{
		{Heal{Restart: restart.Always}, "heal:\n  restart: always\n"},
		{Heal{Restart: restart.Always, Intensity: restart.Intensity{Max: 2, Window: 90 * time.Second}}, "heal:\n  restart: always\n  intensity: 2/1m30s\n"},
		{Heal{Restart: restart.OnFailure, Backoff: restart.Backoff{First: time.Second, Max: time.Hour}}, "heal:\n  restart: on-failure\n  backoff: 1s..1h\n"},
		{Heal{Services: []HealService{{Name: "w", Command: []string{"/w", "true", "null", "~", "1", "#x", "a: b"}, Restart: restart.No}}},
			"heal:\n  services:\n    - name: w\n      command: [/w, \"true\", \"null\", \"~\", \"1\", '#x', 'a: b']\n      restart: no\n"},
		{Heal{Checkpoint: HealCheckpoint{Every: time.Hour}}, "heal:\n  checkpoint:\n    every: 1h\n"},
		{Heal{Checkpoint: HealCheckpoint{Every: time.Minute, Keep: 7}, OnIntrusion: IntrusionRollback}, "heal:\n  checkpoint:\n    every: 1m\n    keep: 7\n  on_intrusion: rollback\n"},
	} {
		p := &Policy{Version: Version, Default: Allow, Heal: tc.h}
		out, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(string(out), "default: allow\n"+tc.want) {
			t.Errorf("%+v: marshal:\n%s\nwant it to end with:\n%s", tc.h, out, tc.want)
		}
		q, err := Parse("x.yaml", out)
		if err != nil || !reflect.DeepEqual(q.Heal.clone(), p.Heal.clone()) {
			t.Errorf("%+v: reparse: %v, %+v", tc.h, err, q)
		}
	}
}

// TestHealRoundTrip extends the round trips of policy_test.go to policies
// with every section.
func TestHealRoundTrip(t *testing.T) {
	heal := "heal:\n  restart: always\n  services:\n    - {name: w, command: [/bin/w]}\n"
	for name, src := range map[string]string{
		"heal full":   healFull,
		"cpu full":    strings.Replace(cpuFull, "rules:\n", heal+"rules:\n", 1),
		"memory full": memoryFull + heal,
		"swarm full":  swarmFull + heal,
		"rules full":  strings.Replace(full, "rules:\n", heal+"rules:\n", 1),
	} {
		p, err := Parse(name, []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if p.Heal.IsZero() {
			t.Fatalf("%s: no heal section", name)
		}
		out, err := Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse(name+"2", out)
		if err != nil {
			t.Fatalf("%s: reparse: %v\n%s", name, err, out)
		}
		if !p.Equal(q) {
			t.Errorf("%s: round trip differs:\n%s", name, out)
		}
		s := string(out)
		if i, j := strings.Index(s, "\nheal:"), strings.Index(s, "\nrules:"); j >= 0 && i > j {
			t.Errorf("%s: heal after rules:\n%s", name, out)
		}
		if i, j := strings.Index(s, "\ncpu:"), strings.Index(s, "\nheal:"); i >= 0 && i > j {
			t.Errorf("%s: heal before cpu:\n%s", name, out)
		}
	}
}

func TestHealEqual(t *testing.T) {
	parse := func(src string) *Policy {
		p, err := Parse("x.yaml", []byte("version: 1\ndefault: allow\n"+src))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := parse("")
	for _, src := range []string{
		"heal: {restart: on-failure}\n",
		"heal: {restart: always, backoff: 100ms..10s}\n", // set to the default is not unset
		"heal: {restart: always, intensity: 5/60s}\n",
		"heal: {services: [{name: w, command: [/w]}]}\n",
		"heal: {checkpoint: {every: 30s}}\n",
		"heal: {checkpoint: {every: 30s, keep: 3}}\n",
		"heal: {checkpoint: {every: 30s}, on_intrusion: rollback}\n",
	} {
		if p := parse(src); p.Equal(base) || !p.Equal(parse(src)) {
			t.Errorf("%q: Equal wrong", src)
		}
	}
	for _, pair := range [][2]string{
		{"heal: {}\n", ""},
		{"heal: {restart: always, intensity: 5/60s}\n", "heal: {restart: always, intensity: 5/1m}\n"},
		{"heal: {services: [{name: w, command: [/w], restart: on-failure}]}\n", "heal:\n  services:\n    - name: w\n      command: [/w]\n"},
		{"heal: {checkpoint: {every: 0}, on_intrusion: kill, services: []}\n", ""},
	} {
		if !parse(pair[0]).Equal(parse(pair[1])) {
			t.Errorf("%q and %q differ", pair[0], pair[1])
		}
	}
	if parse("heal: {services: [{name: w, command: [/w, a]}]}\n").Equal(parse("heal: {services: [{name: w, command: [/w, b]}]}\n")) {
		t.Error("different commands are equal")
	}
	if parse("heal: {services: [{name: a, command: [/w]}, {name: b, command: [/w]}]}\n").Equal(parse("heal: {services: [{name: b, command: [/w]}, {name: a, command: [/w]}]}\n")) {
		t.Error("the services' order is ignored")
	}
}

func TestHealErrors(t *testing.T) {
	const head = "version: 1\ndefault: allow\n"
	for _, tc := range []struct{ name, src, want string }{
		{"not a mapping", "heal: on-failure\n", `x.yaml:3: heal must be a mapping`},
		{"null", "heal:\n", `x.yaml:3: heal must be a mapping`},
		{"unknown key", "heal:\n  restarts: always\n", `x.yaml:4: heal: unknown key "restarts" (want one of restart, backoff, intensity, services, checkpoint, on_intrusion)`},
		{"dup key", "heal:\n  restart: always\n  restart: no\n", `x.yaml:5: heal: duplicate key "restart" (first at line 4)`},
		{"alias", "heal:\n  restart: &r always\n  on_intrusion: *r\n", `x.yaml:5: YAML aliases are not supported`},

		{"bad restart", "heal:\n  restart: sometimes\n", `x.yaml:4: heal.restart: unknown "sometimes" (want no, on-failure or always)`},
		{"restart unless-stopped", "heal: {restart: unless-stopped}\n", `x.yaml:3: heal.restart: unknown "unless-stopped"`},
		{"restart bool", "heal: {restart: true}\n", `heal.restart: unknown "true"`},
		{"restart list", "heal:\n  restart: [always]\n", `x.yaml:4: heal.restart must be a single value`},

		{"backoff reversed", "heal:\n  restart: always\n  backoff: 10s..1s\n", `x.yaml:5: heal.backoff: bad backoff "10s..1s": maximum delay 1s is below the first delay 10s`},
		{"backoff syntax", "heal: {restart: always, backoff: 1s-2s}\n", `x.yaml:3: heal.backoff: bad backoff "1s-2s": want FIRST..MAX, two durations such as 100ms..10s`},
		{"backoff no unit", "heal: {restart: always, backoff: 100..1000}\n", `heal.backoff: bad backoff "100..1000": want FIRST..MAX`},
		{"backoff zero", "heal: {restart: always, backoff: 0s..1s}\n", `heal.backoff: bad backoff "0s..1s": first delay 0s not in [1ms, 1h]`},
		{"backoff long", "heal: {restart: always, backoff: 1s..2h}\n", `maximum delay 2h not in [1ms, 1h]`},
		{"backoff unused", "heal:\n  backoff: 1s..2s\n", `x.yaml:4: heal: backoff 1s..2s is never used: restart is no and there are no services; remove one of them`},
		{"backoff unused with no", "heal:\n  restart: no\n  backoff: 1s..2s\n", `x.yaml:5: heal: backoff 1s..2s is never used`},

		{"intensity syntax", "heal:\n  restart: always\n  intensity: 5\n", `x.yaml:5: heal.intensity: bad intensity "5": want RESTARTS/WINDOW such as 5/60s`},
		{"intensity zero", "heal: {restart: always, intensity: 0/60s}\n", `heal.intensity: bad intensity "0/60s": restarts 0 not in [1, 10000]`},
		{"intensity window", "heal: {restart: always, intensity: 5/60}\n", `heal.intensity: bad intensity "5/60": window "60" is not a duration such as 60s or 5m`},
		{"intensity short", "heal: {restart: always, intensity: 5/100ms}\n", `window 100ms not in [1s, 24h]`},
		{"intensity unused", "heal:\n  intensity: 5/60s\n", `x.yaml:4: heal: intensity 5/1m is never used: restart is no and there are no services; remove one of them`},

		{"services mapping", "heal:\n  services: {name: w}\n", `x.yaml:4: heal.services must be a list of {name, command, restart}`},
		{"service scalar", "heal:\n  services:\n    - worker\n", `x.yaml:5: heal.services must be a mapping`},
		{"service unknown key", "heal:\n  services:\n    - name: w\n      cmd: [/w]\n", `x.yaml:6: heal.services: unknown key "cmd" (want one of name, command, restart)`},
		{"service no name", "heal:\n  services:\n    - command: [/w]\n", `x.yaml:5: heal.services: missing name`},
		{"service no command", "heal:\n  services:\n    - name: w\n", `x.yaml:5: heal.services: w: missing command`},
		{"service main", "heal:\n  services:\n    - name: main\n      command: [/w]\n", `x.yaml:5: heal.services.name: "main" is reserved for the container's main process`},
		{"service bad name", "heal:\n  services:\n    - {name: Worker, command: [/w]}\n", `x.yaml:5: heal.services.name: bad name "Worker" (want 1 to 32 of a-z, 0-9, _ and -)`},
		{"service empty name", "heal:\n  services:\n    - {name: \"\", command: [/w]}\n", `heal.services.name: bad name ""`},
		{"service name colon", "heal:\n  services:\n    - {name: \"a:b\", command: [/w]}\n", `heal.services.name: bad name "a:b"`},
		{"service name long", "heal:\n  services:\n    - {name: abcdefghijklmnopqrstuvwxyz0123456, command: [/w]}\n", `bad name "abcdefghijklmnopqrstuvwxyz0123456"`},
		{"service name list", "heal:\n  services:\n    - {name: [w], command: [/w]}\n", `x.yaml:5: heal.services.name must be a single value`},
		{"service dup", "heal:\n  services:\n    - name: w\n      command: [/a]\n    - name: w\n      command: [/b]\n", `x.yaml:7: heal.services: service "w" named twice (first at line 5)`},
		{"command empty", "heal:\n  services:\n    - name: w\n      command: []\n", `x.yaml:6: heal.services.command: empty command`},
		{"command relative", "heal:\n  services:\n    - name: w\n      command:\n        - worker\n", `x.yaml:7: heal.services.command: "worker" is not an absolute path (athena init does not search PATH for services)`},
		{"command empty path", "heal:\n  services:\n    - {name: w, command: [\"\"]}\n", `heal.services.command: "" is not an absolute path`},
		{"command string", "heal:\n  services:\n    - {name: w, command: /bin/w -x}\n", `x.yaml:5: heal.services.command must be a list, as in [a, b]`},
		{"command nested", "heal:\n  services:\n    - {name: w, command: [/w, [a]]}\n", `heal.services.command: each item must be a single value`},
		{"service restart", "heal:\n  services:\n    - name: w\n      command: [/w]\n      restart: never\n", `x.yaml:7: heal.services.restart: unknown "never" (want no, on-failure or always)`},
		{"too many services", "heal:\n  services:\n" + strings.Repeat("    - {name: w, command: [/w]}\n", 65), `x.yaml:69: heal.services: more than 64 services`},

		{"checkpoint scalar", "heal:\n  checkpoint: 30s\n", `x.yaml:4: heal.checkpoint must be a mapping`},
		{"checkpoint unknown", "heal:\n  checkpoint:\n    period: 30s\n", `x.yaml:5: heal.checkpoint: unknown key "period" (want one of every, keep)`},
		{"every short", "heal:\n  checkpoint:\n    every: 500ms\n", `x.yaml:5: heal.checkpoint.every: 500ms not in [1s, 24h] (0: off)`},
		{"every long", "heal: {checkpoint: {every: 25h}}\n", `heal.checkpoint.every: 25h not in [1s, 24h]`},
		{"every negative", "heal: {checkpoint: {every: -1s}}\n", `heal.checkpoint.every: -1s not in [1s, 24h]`},
		{"every no unit", "heal: {checkpoint: {every: 30}}\n", `heal.checkpoint.every: want a duration such as 30s or 5m (0: off), got "30"`},
		{"every off word", "heal: {checkpoint: {every: off}}\n", `heal.checkpoint.every: want a duration such as 30s or 5m (0: off), got "off"`},
		{"keep zero", "heal:\n  checkpoint:\n    every: 30s\n    keep: 0\n", `x.yaml:6: heal.checkpoint.keep: 0 not in [1, 100]`},
		{"keep high", "heal: {checkpoint: {every: 30s, keep: 101}}\n", `heal.checkpoint.keep: 101 not in [1, 100]`},
		{"keep word", "heal: {checkpoint: {every: 30s, keep: all}}\n", `heal.checkpoint.keep: want a non-negative integer, got "all"`},
		{"keep without every", "heal:\n  checkpoint:\n    keep: 5\n", `x.yaml:5: heal.checkpoint: keep 5 without every: checkpoints are off; give every or remove keep`},
		{"keep with every 0", "heal:\n  checkpoint:\n    every: 0\n    keep: 5\n", `x.yaml:6: heal.checkpoint: keep 5 without every`},

		{"on_intrusion bad", "heal:\n  on_intrusion: restore\n", `x.yaml:4: heal.on_intrusion: unknown "restore" (want kill or rollback)`},
		{"rollback without checkpoints", "heal:\n  restart: always\n  on_intrusion: rollback\n", `x.yaml:5: heal: on_intrusion rollback needs checkpoint.every (without checkpoints there is nothing to roll back to)`},
		{"rollback with every 0", "heal:\n  checkpoint: {every: 0s}\n  on_intrusion: rollback\n", `x.yaml:5: heal: on_intrusion rollback needs checkpoint.every`},
	} {
		_, err := Parse("x.yaml", []byte(head+tc.src))
		var perr *Error
		if err == nil || !errors.Is(err, ErrInvalid) || !errors.As(err, &perr) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want %q", tc.name, err, tc.want)
		}
	}
	// The top level knows the key.
	if _, err := Parse("x.yaml", []byte(head+"healer: {}\n")); err == nil ||
		!strings.Contains(err.Error(), `x.yaml:3: policy: unknown key "healer" (want one of version, mode, default, swarm, network, memory, cpu, heal, rules)`) {
		t.Errorf("healer: err = %v", err)
	}
}

func TestHealIsZero(t *testing.T) {
	var h Heal
	if !h.IsZero() || h.NeedsInit() {
		t.Error("zero Heal is not IsZero, or needs init")
	}
	for _, h := range []Heal{
		{Restart: restart.OnFailure}, {Restart: restart.Always},
		{Backoff: restart.Backoff{First: time.Second, Max: time.Second}},
		{Intensity: restart.Intensity{Max: 1, Window: time.Second}},
		{Services: []HealService{{Name: "w", Command: []string{"/w"}}}},
		{Checkpoint: HealCheckpoint{Every: time.Second}}, {Checkpoint: HealCheckpoint{Keep: 3}},
		{OnIntrusion: IntrusionRollback},
	} {
		if h.IsZero() {
			t.Errorf("%+v: IsZero", h)
		}
	}
	// The copy shares nothing with the original.
	h = Heal{Services: []HealService{{Name: "w", Command: []string{"/w", "x"}, Line: 9}}}
	c := h.clone()
	c.Services[0].Command[1] = "y"
	if h.Services[0].Command[1] != "x" {
		t.Error("clone shares the command")
	}
	if c.Services[0].Line != 0 {
		t.Error("clone keeps positions")
	}
	if p := Default(); !p.Heal.IsZero() {
		t.Errorf("the default policy has a heal section: %+v", p.Heal)
	}
	if (HealCheckpoint{}).Kept() != 3 || (HealCheckpoint{Keep: 7}).Kept() != 7 {
		t.Error("Kept")
	}
	if IntrusionKill.String() != "kill" || IntrusionRollback.String() != "rollback" || HealIntrusion(5).String() != "intrusion(5)" {
		t.Error("HealIntrusion.String")
	}
}

func TestHealNeedsInit(t *testing.T) {
	for _, tc := range []struct {
		h    Heal
		want bool
	}{
		{Heal{}, false},
		{Heal{Checkpoint: HealCheckpoint{Every: time.Second}, OnIntrusion: IntrusionRollback}, false},
		{Heal{Restart: restart.OnFailure}, true},
		{Heal{Restart: restart.Always}, true},
		{Heal{Services: []HealService{{Name: "w", Command: []string{"/w"}, Restart: restart.No}}}, true},
	} {
		if got := tc.h.NeedsInit(); got != tc.want {
			t.Errorf("%+v: NeedsInit = %v", tc.h, got)
		}
	}
}

func TestHealInitArgs(t *testing.T) {
	for _, tc := range []struct {
		h    Heal
		want []string
	}{
		{Heal{}, []string{"--restart=no", "--backoff=100ms..10s", "--intensity=5/1m"}},
		{Heal{Restart: restart.OnFailure, Backoff: restart.Backoff{First: 10 * time.Millisecond, Max: 50 * time.Millisecond},
			Intensity: restart.Intensity{Max: 3, Window: 90 * time.Second}},
			[]string{"--restart=on-failure", "--backoff=10ms..50ms", "--intensity=3/1m30s"}},
		{healFullWant, []string{"--restart=on-failure", "--backoff=100ms..10s", "--intensity=5/1m",
			`--service=worker:always:["/bin/worker","-x"]`,
			`--service=cron_2:on-failure:["/usr/sbin/crond","-f","30","","a b"]`}},
		{Heal{Services: []HealService{{Name: "w", Command: []string{"/bin/sh", "-c", `a && b < "c" > d`}, Restart: restart.No}}},
			[]string{"--restart=no", "--backoff=100ms..10s", "--intensity=5/1m", `--service=w:no:["/bin/sh","-c","a && b < \"c\" > d"]`}},
	} {
		if got := tc.h.InitArgs(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v: InitArgs =\n%q\nwant\n%q", tc.h, got, tc.want)
		}
	}
	p := healFullWant.RestartPolicy()
	if p != (restart.Policy{Mode: restart.OnFailure, BackoffFirst: 100 * time.Millisecond, BackoffMax: 10 * time.Second, MaxRestarts: 5, Window: time.Minute}) {
		t.Errorf("RestartPolicy = %+v", p)
	}
	if (Heal{}).RestartPolicy() != (restart.Policy{}) {
		t.Error("the zero section's policy is not restart's zero Policy")
	}
}

// healDocExample finds the example of docs/policy.md's heal section.
var healDocExample = regexp.MustCompile("(?s)\n## The heal section\n.*?```yaml\n(.*?)```\n")

// TestHealDocExample parses the example the documentation shows.
func TestHealDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/policy.md")
	if err != nil {
		t.Fatal(err)
	}
	m := healDocExample.FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/policy.md: no yaml example in the heal section")
	}
	p, err := Parse("policy.md", m[1])
	if err != nil {
		t.Fatalf("%v\n%s", err, m[1])
	}
	want := Heal{
		Restart:   restart.OnFailure,
		Backoff:   restart.Backoff{First: 100 * time.Millisecond, Max: 10 * time.Second},
		Intensity: restart.Intensity{Max: 5, Window: time.Minute},
		Services: []HealService{
			{Name: "worker", Command: []string{"/bin/worker", "-x"}, Restart: restart.Always},
		},
		Checkpoint:  HealCheckpoint{Every: 30 * time.Second, Keep: 3},
		OnIntrusion: IntrusionRollback,
	}
	if got := p.Heal.clone(); !reflect.DeepEqual(got, want.clone()) {
		t.Errorf("heal = %+v, want %+v", got, want)
	}
	if !strings.Contains(string(doc), "| `heal` | no |") {
		t.Error("docs/policy.md: the top-level table does not list heal")
	}
}

func FuzzHeal(f *testing.F) {
	f.Add([]byte(healFull))
	f.Add([]byte("version: 1\ndefault: allow\nheal: {restart: always, backoff: 1ms..1h, intensity: 1/1s}\n"))
	f.Add([]byte("version: 1\ndefault: allow\nheal: {services: [{name: a, command: [/a, '']}], checkpoint: {every: 0}}\n"))
	f.Fuzz(checkRoundTrip)
}
