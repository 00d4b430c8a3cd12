package restart

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Mode says which exits of a process are followed by a restart.
type Mode uint8

const (
	// No never restarts the process (the default).
	No Mode = iota
	// OnFailure restarts the process when it exits with a non-zero
	// status or is killed by a signal; an exit with status 0 ends it.
	OnFailure
	// Always restarts the process whatever its exit status.
	Always
)

var modeNames = [...]string{No: "no", OnFailure: "on-failure", Always: "always"}

// String returns the mode as written in flags and policies: "no",
// "on-failure" or "always".
func (m Mode) String() string {
	if int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("mode(%d)", uint8(m))
}

// ErrBadMode is matched (errors.Is) by ParseMode's errors.
var ErrBadMode = errors.New("bad restart mode")

// ParseMode parses "no", "on-failure" or "always".
func ParseMode(s string) (Mode, error) {
	for i, n := range modeNames {
		if n == s {
			return Mode(i), nil
		}
	}
	return No, fmt.Errorf("%w %q (want no, on-failure or always)", ErrBadMode, s)
}

// Defaults of a Policy's zero fields.
const (
	DefaultBackoffFirst = 100 * time.Millisecond
	DefaultBackoffMax   = 10 * time.Second
	DefaultMaxRestarts  = 5
	DefaultWindow       = 60 * time.Second
)

// The ranges Validate, ParseBackoff and ParseIntensity accept.
const (
	MinBackoff     = time.Millisecond
	MaxBackoff     = time.Hour
	MinMaxRestarts = 1
	MaxMaxRestarts = 10000
	MinWindow      = time.Second
	MaxWindow      = 24 * time.Hour
)

// Policy is how one supervised process is restarted. A zero duration or
// count means its default (DefaultBackoffFirst, ...); WithDefaults fills
// them in.
type Policy struct {
	Mode Mode
	// BackoffFirst is the delay before the first restart; each further
	// restart waits twice the previous delay, at most BackoffMax.
	BackoffFirst, BackoffMax time.Duration
	// MaxRestarts is the intensity: more than MaxRestarts restarts within
	// Window and the process is given up.
	MaxRestarts int
	Window      time.Duration
}

// WithDefaults returns p with each zero field set to its default.
func (p Policy) WithDefaults() Policy {
	if p.BackoffFirst == 0 {
		p.BackoffFirst = DefaultBackoffFirst
	}
	if p.BackoffMax == 0 {
		p.BackoffMax = max(DefaultBackoffMax, p.BackoffFirst)
	}
	if p.MaxRestarts == 0 {
		p.MaxRestarts = DefaultMaxRestarts
	}
	if p.Window == 0 {
		p.Window = DefaultWindow
	}
	return p
}

// Backoff returns the policy's backoff (zero fields are not filled in).
func (p Policy) Backoff() Backoff { return Backoff{First: p.BackoffFirst, Max: p.BackoffMax} }

// Intensity returns the policy's intensity (zero fields are not filled in).
func (p Policy) Intensity() Intensity { return Intensity{Max: p.MaxRestarts, Window: p.Window} }

// Validate checks p after WithDefaults: its mode is known and its backoff
// and intensity are in range.
func (p Policy) Validate() error {
	p = p.WithDefaults()
	if int(p.Mode) >= len(modeNames) {
		return fmt.Errorf("%w: %s", ErrBadMode, p.Mode)
	}
	if err := p.Backoff().Validate(); err != nil {
		return err
	}
	return p.Intensity().Validate()
}

// Backoff is a restart delay range: the first restart waits First, each
// further one twice as long, at most Max. Written "FIRST..MAX"
// ("100ms..10s").
type Backoff struct {
	First, Max time.Duration
}

// ErrBadBackoff is matched (errors.Is) by ParseBackoff's and
// Backoff.Validate's errors.
var ErrBadBackoff = errors.New("bad backoff")

// ParseBackoff parses "FIRST..MAX" such as "100ms..10s", two Go durations
// with MinBackoff <= FIRST <= MAX <= MaxBackoff, or a single duration
// ("1s"), a constant delay.
func ParseBackoff(s string) (Backoff, error) {
	first, last, ok := strings.Cut(s, "..")
	if !ok {
		last = first
	}
	var b Backoff
	var err error
	if b.First, err = time.ParseDuration(strings.TrimSpace(first)); err != nil {
		return Backoff{}, fmt.Errorf("%w %q: want FIRST..MAX, two durations such as 100ms..10s", ErrBadBackoff, s)
	}
	if b.Max, err = time.ParseDuration(strings.TrimSpace(last)); err != nil {
		return Backoff{}, fmt.Errorf("%w %q: want FIRST..MAX, two durations such as 100ms..10s", ErrBadBackoff, s)
	}
	if err := b.Validate(); err != nil {
		return Backoff{}, fmt.Errorf("%w %q: %s", ErrBadBackoff, s, strings.TrimPrefix(err.Error(), ErrBadBackoff.Error()+": "))
	}
	return b, nil
}

// Validate checks that MinBackoff <= First <= Max <= MaxBackoff.
func (b Backoff) Validate() error {
	switch {
	case b.First < MinBackoff || b.First > MaxBackoff:
		return fmt.Errorf("%w: first delay %s not in [%s, %s]", ErrBadBackoff, FormatDuration(b.First), FormatDuration(MinBackoff), FormatDuration(MaxBackoff))
	case b.Max < MinBackoff || b.Max > MaxBackoff:
		return fmt.Errorf("%w: maximum delay %s not in [%s, %s]", ErrBadBackoff, FormatDuration(b.Max), FormatDuration(MinBackoff), FormatDuration(MaxBackoff))
	case b.Max < b.First:
		return fmt.Errorf("%w: maximum delay %s is below the first delay %s", ErrBadBackoff, FormatDuration(b.Max), FormatDuration(b.First))
	}
	return nil
}

// String returns "FIRST..MAX", which ParseBackoff reads back.
func (b Backoff) String() string { return FormatDuration(b.First) + ".." + FormatDuration(b.Max) }

// Intensity is the most restarts allowed within a window: more and the
// process is given up. Written "RESTARTS/WINDOW" ("5/60s").
type Intensity struct {
	Max    int
	Window time.Duration
}

// ErrBadIntensity is matched (errors.Is) by ParseIntensity's and
// Intensity.Validate's errors.
var ErrBadIntensity = errors.New("bad intensity")

// ParseIntensity parses "RESTARTS/WINDOW" such as "5/60s": an integer in
// MinMaxRestarts..MaxMaxRestarts and a Go duration in MinWindow..MaxWindow.
func ParseIntensity(s string) (Intensity, error) {
	n, w, ok := strings.Cut(s, "/")
	if !ok {
		return Intensity{}, fmt.Errorf("%w %q: want RESTARTS/WINDOW such as 5/60s", ErrBadIntensity, s)
	}
	var in Intensity
	var err error
	if in.Max, err = strconv.Atoi(strings.TrimSpace(n)); err != nil {
		return Intensity{}, fmt.Errorf("%w %q: restarts %q is not an integer (want RESTARTS/WINDOW such as 5/60s)", ErrBadIntensity, s, n)
	}
	if in.Window, err = time.ParseDuration(strings.TrimSpace(w)); err != nil {
		return Intensity{}, fmt.Errorf("%w %q: window %q is not a duration such as 60s or 5m", ErrBadIntensity, s, w)
	}
	if err := in.Validate(); err != nil {
		return Intensity{}, fmt.Errorf("%w %q: %s", ErrBadIntensity, s, strings.TrimPrefix(err.Error(), ErrBadIntensity.Error()+": "))
	}
	return in, nil
}

// Validate checks the ranges of Max and Window.
func (in Intensity) Validate() error {
	switch {
	case in.Max < MinMaxRestarts || in.Max > MaxMaxRestarts:
		return fmt.Errorf("%w: restarts %d not in [%d, %d]", ErrBadIntensity, in.Max, MinMaxRestarts, MaxMaxRestarts)
	case in.Window < MinWindow || in.Window > MaxWindow:
		return fmt.Errorf("%w: window %s not in [%s, %s]", ErrBadIntensity, FormatDuration(in.Window), FormatDuration(MinWindow), FormatDuration(MaxWindow))
	}
	return nil
}

// String returns "RESTARTS/WINDOW", which ParseIntensity reads back.
func (in Intensity) String() string { return strconv.Itoa(in.Max) + "/" + FormatDuration(in.Window) }

// FormatDuration is time.Duration.String without zero tails: "1m", not
// "1m0s"; "2h", not "2h0m0s". time.ParseDuration reads it back.
func FormatDuration(d time.Duration) string {
	s := d.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}
