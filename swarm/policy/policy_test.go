package policy

import (
	"errors"
	"strings"
	"testing"
)

const full = `version: 1
mode: observe
default: errno(EPERM)
rules:
  - name: no user namespaces
    action: errno(EPERM)
    syscalls: [clone, unshare]
    args:
      flags: {any_of: [CLONE_NEWUSER], none_of: ["CLONE_VM|CLONE_THREAD"]}
  - action: kill
    class: privileged
  - action: errno(EACCES)
    paths: ["/etc/shadow", "/root/**", "/home/*/.ssh/**"]
    ops: [read, write]
  - action: kill-thread
    exec: ["/usr/bin/*", "/bin/**"]
  - action: log
    net:
      - {op: connect, to: ["10.0.0.0/8:443", "127.0.0.1:*", "[::1]:80-90", "unix:/run/x.sock", "*:53", "*"], protocol: tcp}
  - action: allow
    syscalls: [personality]
    args:
      persona: {in: [0, "0xffffffff", -1, PER_LINUX32]}
`

func TestParseRoundTrip(t *testing.T) {
	for name, src := range map[string]string{"full": full, "default": string(defaultYAML)} {
		p, err := Parse(name, []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
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
	}
}

func TestParseFull(t *testing.T) {
	p, err := Parse("f.yaml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != ModeObserve || p.Default != Errno("EPERM") || len(p.Rules) != 6 {
		t.Fatalf("got mode %v default %v rules %d", p.Mode, p.Default, len(p.Rules))
	}
	r := p.Rules[0]
	if r.Pos.Line != 5 || r.Args[0].Line != 9 || r.Args[0].Tests[1].Op != NoneOf {
		t.Errorf("rule 0 = %+v", r)
	}
	if got := r.Args[0].Tests[1].Resolve(); got[0] != 0x100|0x10000 {
		t.Errorf("CLONE_VM|CLONE_THREAD = %#x", got[0])
	}
	if p.Rules[2].Kind() != KindPath || p.Rules[3].Kind() != KindExec || p.Rules[4].Kind() != KindNet {
		t.Error("wrong kinds")
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"empty", "", "x.yaml:0: empty policy"},
		{"syntax", "version: 1\ndefault: [allow\n", "did not find expected"},
		{"no version", "default: allow\n", "x.yaml:1: missing \"version: 1\""},
		{"bad version", "version: 2\ndefault: allow\n", "x.yaml:1: unsupported version \"2\""},
		{"no default", "version: 1\n", "missing \"default:\""},
		{"unknown key", "version: 1\ndefault: allow\nfoo: 1\n", "x.yaml:3: policy: unknown key \"foo\""},
		{"dup key", "version: 1\ndefault: allow\ndefault: kill\n", "x.yaml:3: policy: duplicate key \"default\" (first at line 2)"},
		{"bad mode", "version: 1\nmode: strict\ndefault: allow\n", "x.yaml:2: unknown mode \"strict\""},
		{"bad action", "version: 1\ndefault: deny\n", "x.yaml:2: default: unknown action \"deny\""},
		{"errno no name", "version: 1\ndefault: errno\n", "x.yaml:2: default: errno needs an errno name"},
		{"errno empty", "version: 1\ndefault: errno()\n", "errno needs an errno name"},
		{"errno bad", "version: 1\ndefault: errno(EWHAT)\n", "unknown errno name \"EWHAT\""},
		{"rule no action", "version: 1\ndefault: allow\nrules:\n  - syscalls: [read]\n", "x.yaml:4: rule has no action"},
		{"rule unknown key", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    syscall: [read]\n", "x.yaml:5: rule: unknown key \"syscall\""},
		{"empty rule", "version: 1\ndefault: allow\nrules:\n  - action: allow\n", "x.yaml:4: empty rule"},
		{"empty syscalls", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    syscalls: []\n", "x.yaml:4: empty rule: syscalls: [] matches nothing"},
		{"bad class", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    class: disk\n", "x.yaml:5: unknown class \"disk\""},
		{"bad op", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    paths: [/a]\n    ops: [read, scribble]\n", "x.yaml:6: ops: unknown \"scribble\""},
		{"ops without paths", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    syscalls: [read]\n    ops: [read]\n", "ops need paths"},
		{"mixed kinds", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    syscalls: [read]\n    exec: [/bin/sh]\n", "x.yaml:4: a rule matches by one of"},
		{"relative glob", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    paths: [etc/x]\n", "x.yaml:5: paths: \"etc/x\": a path glob must be absolute"},
		{"bad starstar", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    exec: [/a/b**]\n", "** must be a whole component"},
		{"bad const", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    syscalls: [clone]\n    args:\n      flags: {any_of: [CLONE_NEWFOO]}\n", "x.yaml:7: args.flags.any_of: \"CLONE_NEWFOO\" is not a known constant name"},
		{"bad arg op", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    syscalls: [clone]\n    args:\n      flags: {has: [1]}\n", "x.yaml:7: args.flags: unknown key \"has\""},
		{"args no syscalls", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    paths: [/x]\n    args:\n      flags: {in: [1]}\n", "x.yaml:4: args need syscalls"},
		{"bad net op", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    net:\n      - {op: listen, to: [\"*\"]}\n", "x.yaml:6: net.op: unknown \"listen\""},
		{"bad endpoint", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    net:\n      - {op: connect, to: [\"10.0.0.1/8:443\"]}\n", "host bits set"},
		{"bad port", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    net:\n      - {op: bind, to: [\"[::1]:90-80\"]}\n", "bad port"},
		{"v6 no brackets", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    net:\n      - {op: bind, to: [\"::1:80\"]}\n", "brackets"},
		{"contradiction", "version: 1\ndefault: allow\nrules:\n  - action: allow\n    syscalls: [read, write]\n  - action: kill\n    syscalls: [write, read]\n",
			"x.yaml:6: rule contradicts the rule at line 4: same match, action allow there, kill here"},
		{"duplicate", "version: 1\ndefault: allow\nrules:\n  - action: kill\n    syscalls: [clone]\n    args:\n      flags: {any_of: [CLONE_NEWUSER]}\n  - action: kill\n    syscalls: [clone]\n    args:\n      flags: {any_of: [\"0x10000000\"]}\n",
			"x.yaml:8: rule is unreachable: the rule at line 4 has the same match"},
		{"alias", "version: 1\ndefault: &a allow\nmode: *a\n", "aliases are not supported"},
		{"two docs", "version: 1\ndefault: allow\n---\nversion: 1\n", "more than one YAML document"},
	} {
		_, err := Parse("x.yaml", []byte(tc.src))
		var perr *Error
		if err == nil || !errors.Is(err, ErrInvalid) || !errors.As(err, &perr) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want %q", tc.name, err, tc.want)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		g, p string
		want bool
	}{
		{"/etc/shadow", "/etc/shadow", true},
		{"/etc/*", "/etc/passwd", true},
		{"/etc/*", "/etc/ssl/certs", false},
		{"/root/**", "/root", true},
		{"/root/**", "/root/a/b/c", true},
		{"/home/*/.ssh/**", "/home/u/.ssh/id_rsa", true},
		{"/home/*/.ssh/**", "/home/u/x/.ssh/id_rsa", false},
		{"/**/*.so", "/usr/lib/libc.so", true},
		{"/**", "/", true},
		{"/usr/bin/*", "/usr/bin/../../etc/x", false},
	} {
		if got := MatchGlob(tc.g, tc.p); got != tc.want {
			t.Errorf("MatchGlob(%q, %q) = %v", tc.g, tc.p, got)
		}
	}
}

func TestDefault(t *testing.T) {
	p := Default()
	if p.Mode != ModeEnforce || p.Default != Errno("EPERM") {
		t.Fatalf("default policy: mode %v default %v", p.Mode, p.Default)
	}
}

// checkRoundTrip is the fuzz body of FuzzParse and of the sections' fuzz
// tests (FuzzNetwork keeps its own, with a check more): a policy either fails
// with ErrInvalid, or marshals to text that parses back to an equal policy.
func checkRoundTrip(t *testing.T, data []byte) {
	p, err := Parse("fuzz", data)
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			t.Fatalf("error does not match ErrInvalid: %v", err)
		}
		return
	}
	out, err := Marshal(p)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	q, err := Parse("fuzz2", out)
	if err != nil {
		t.Fatalf("reparse: %v\n%s", err, out)
	}
	if !p.Equal(q) {
		t.Fatalf("round trip differs:\n%s", out)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add(defaultYAML)
	f.Add([]byte(swarmFull))
	f.Add([]byte("version: 1\ndefault: allow\nswarm: {selfmodel: {kill_at: 0, delay_factor: 1.25}, quorum: {voters: [rate]}}\n"))
	f.Add([]byte("version: 1\ndefault: allow\n"))
	f.Add([]byte("version: 1\ndefault: errno(EPERM)\nrules:\n  - action: allow\n    net:\n      - {op: connect, to: [\"[::1]:80-90\"]}\n"))
	f.Fuzz(checkRoundTrip)
}
