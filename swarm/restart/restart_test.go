package restart

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestMode(t *testing.T) {
	for _, m := range []Mode{No, OnFailure, Always} {
		got, err := ParseMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v", m.String(), got, err)
		}
	}
	if No.String() != "no" || OnFailure.String() != "on-failure" || Always.String() != "always" {
		t.Errorf("names: %s %s %s", No, OnFailure, Always)
	}
	if s := Mode(9).String(); s != "mode(9)" {
		t.Errorf("Mode(9) = %q", s)
	}
	for _, s := range []string{"", "yes", "On-Failure", "on_failure", "unless-stopped", " no"} {
		_, err := ParseMode(s)
		if !errors.Is(err, ErrBadMode) || !strings.Contains(err.Error(), "want no, on-failure or always") {
			t.Errorf("ParseMode(%q): err = %v", s, err)
		}
	}
	if _, err := ParseMode("sometimes"); err == nil || err.Error() != `bad restart mode "sometimes" (want no, on-failure or always)` {
		t.Errorf("err = %v", err)
	}
}

func TestParseBackoff(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Backoff
		text string // String(); "" when equal to in
	}{
		{"100ms..10s", Backoff{100 * time.Millisecond, 10 * time.Second}, ""},
		{"10ms..50ms", Backoff{10 * time.Millisecond, 50 * time.Millisecond}, ""},
		{"1s..1s", Backoff{time.Second, time.Second}, ""},
		{"1s", Backoff{time.Second, time.Second}, "1s..1s"},
		{"1ms..1h", Backoff{MinBackoff, MaxBackoff}, ""},
		{" 1s .. 2m ", Backoff{time.Second, 2 * time.Minute}, "1s..2m"},
		{"500ms..1m30s", Backoff{500 * time.Millisecond, 90 * time.Second}, ""},
		{"1s..60s", Backoff{time.Second, time.Minute}, "1s..1m"},
	} {
		b, err := ParseBackoff(tc.in)
		if err != nil || b != tc.want {
			t.Errorf("ParseBackoff(%q) = %v, %v; want %v", tc.in, b, err, tc.want)
			continue
		}
		want := tc.text
		if want == "" {
			want = tc.in
		}
		if b.String() != want {
			t.Errorf("%q: String() = %q, want %q", tc.in, b.String(), want)
		}
		if c, err := ParseBackoff(b.String()); err != nil || c != b {
			t.Errorf("%q: round trip %v, %v", tc.in, c, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", `bad backoff "": want FIRST..MAX, two durations such as 100ms..10s`},
		{"fast", `bad backoff "fast": want FIRST..MAX`},
		{"100..10s", `bad backoff "100..10s": want FIRST..MAX`},
		{"100ms..", `bad backoff "100ms..": want FIRST..MAX`},
		{"100ms-10s", `bad backoff "100ms-10s": want FIRST..MAX`},
		{"10s..1s", `bad backoff "10s..1s": maximum delay 1s is below the first delay 10s`},
		{"0s..1s", `bad backoff "0s..1s": first delay 0s not in [1ms, 1h]`},
		{"-1s..1s", `bad backoff "-1s..1s": first delay -1s not in [1ms, 1h]`},
		{"1us..1s", `first delay 1µs not in [1ms, 1h]`},
		{"1s..2h", `bad backoff "1s..2h": maximum delay 2h not in [1ms, 1h]`},
		{"1s..2s..3s", `bad backoff "1s..2s..3s": want FIRST..MAX`},
	} {
		_, err := ParseBackoff(tc.in)
		if !errors.Is(err, ErrBadBackoff) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseBackoff(%q): err = %v; want %q", tc.in, err, tc.want)
		}
	}
}

func TestParseIntensity(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Intensity
		text string
	}{
		{"5/60s", Intensity{5, time.Minute}, "5/1m"},
		{"1/1s", Intensity{MinMaxRestarts, MinWindow}, ""},
		{"10000/24h", Intensity{MaxMaxRestarts, MaxWindow}, ""},
		{"3/10s", Intensity{3, 10 * time.Second}, ""},
		{" 3 / 1m30s ", Intensity{3, 90 * time.Second}, "3/1m30s"},
	} {
		in, err := ParseIntensity(tc.in)
		if err != nil || in != tc.want {
			t.Errorf("ParseIntensity(%q) = %v, %v; want %v", tc.in, in, err, tc.want)
			continue
		}
		want := tc.text
		if want == "" {
			want = tc.in
		}
		if in.String() != want {
			t.Errorf("%q: String() = %q, want %q", tc.in, in.String(), want)
		}
		if c, err := ParseIntensity(in.String()); err != nil || c != in {
			t.Errorf("%q: round trip %v, %v", tc.in, c, err)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"", `bad intensity "": want RESTARTS/WINDOW such as 5/60s`},
		{"5", `bad intensity "5": want RESTARTS/WINDOW such as 5/60s`},
		{"five/60s", `bad intensity "five/60s": restarts "five" is not an integer`},
		{"5/60", `bad intensity "5/60": window "60" is not a duration such as 60s or 5m`},
		{"5/", `window "" is not a duration`},
		{"0/60s", `bad intensity "0/60s": restarts 0 not in [1, 10000]`},
		{"-1/60s", `restarts -1 not in [1, 10000]`},
		{"10001/60s", `restarts 10001 not in [1, 10000]`},
		{"5/500ms", `bad intensity "5/500ms": window 500ms not in [1s, 24h]`},
		{"5/25h", `window 25h not in [1s, 24h]`},
		{"5/60s/2", `window "60s/2" is not a duration`},
	} {
		_, err := ParseIntensity(tc.in)
		if !errors.Is(err, ErrBadIntensity) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseIntensity(%q): err = %v; want %q", tc.in, err, tc.want)
		}
	}
}

func TestPolicyDefaults(t *testing.T) {
	p := Policy{}.WithDefaults()
	want := Policy{Mode: No, BackoffFirst: 100 * time.Millisecond, BackoffMax: 10 * time.Second, MaxRestarts: 5, Window: 60 * time.Second}
	if p != want {
		t.Errorf("defaults = %+v, want %+v", p, want)
	}
	if err := (Policy{}).Validate(); err != nil {
		t.Errorf("zero policy: %v", err)
	}
	// A first delay above the default maximum raises the maximum with it.
	if p := (Policy{BackoffFirst: 20 * time.Second}).WithDefaults(); p.BackoffMax != 20*time.Second {
		t.Errorf("max = %s", p.BackoffMax)
	}
	set := Policy{Mode: Always, BackoffFirst: time.Millisecond, BackoffMax: 2 * time.Millisecond, MaxRestarts: 1, Window: time.Second}
	if set.WithDefaults() != set {
		t.Errorf("set fields changed: %+v", set.WithDefaults())
	}
	if set.Backoff() != (Backoff{time.Millisecond, 2 * time.Millisecond}) || set.Intensity() != (Intensity{1, time.Second}) {
		t.Errorf("Backoff/Intensity: %v %v", set.Backoff(), set.Intensity())
	}
	for _, tc := range []struct {
		p    Policy
		want error
	}{
		{Policy{Mode: 3}, ErrBadMode},
		{Policy{BackoffFirst: time.Second, BackoffMax: time.Millisecond}, ErrBadBackoff},
		{Policy{BackoffMax: 2 * time.Hour}, ErrBadBackoff},
		{Policy{MaxRestarts: -1}, ErrBadIntensity},
		{Policy{Window: time.Millisecond}, ErrBadIntensity},
	} {
		if err := tc.p.Validate(); !errors.Is(err, tc.want) {
			t.Errorf("%+v: err = %v, want %v", tc.p, err, tc.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Minute: "1m", time.Hour: "1h", 90 * time.Second: "1m30s", 100 * time.Millisecond: "100ms",
		2*time.Hour + time.Minute: "2h1m", 61 * time.Minute: "1h1m", 0: "0s", 10 * time.Second: "10s",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(FormatDuration(d)); err != nil || back != d {
			t.Errorf("%v does not read back: %v, %v", d, back, err)
		}
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		exited    bool
		code, sig int
		want      string
	}{
		{true, 0, 0, "exit status 0"},
		{true, 1, 0, "exit status 1"},
		{true, 255, 0, "exit status 255"},
		{false, 0, 11, "killed by SIGSEGV"},
		{false, 0, 9, "killed by SIGKILL"},
		{false, 0, 1, "killed by SIGHUP"},
		{false, 0, 31, "killed by SIGSYS"},
		{false, 0, 34, "killed by signal 34"},
		{false, 0, 0, "killed by signal 0"},
	} {
		if got := Describe(tc.exited, tc.code, tc.sig); got != tc.want {
			t.Errorf("Describe(%v, %d, %d) = %q, want %q", tc.exited, tc.code, tc.sig, got, tc.want)
		}
	}
}
