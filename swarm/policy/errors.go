package policy

import (
	"errors"
	"fmt"
)

// ErrInvalid is matched (errors.Is) by every error that reports a bad policy,
// whether found by Parse or later by the compiler in package syscalls.
var ErrInvalid = errors.New("invalid policy")

// Error is a policy error at a place in the policy file. Its text is
// "FILE:LINE: message", the form editors and CI logs link to.
type Error struct {
	File string
	Line int // 1-based; 0 when the place is unknown (e.g. empty input)
	Msg  string
}

// Errorf returns an *Error at file:line.
func Errorf(file string, line int, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalid) true for every *Error.
func (e *Error) Unwrap() error { return ErrInvalid }
