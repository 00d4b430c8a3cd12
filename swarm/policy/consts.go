package policy

import (
	"sort"
	"strconv"
	"strings"
)

// neg returns the 64-bit two's complement of -v, the register value of a
// negative constant such as AT_FDCWD.
func neg(v uint64) uint64 { return -v }

// extraConsts are names the kernel headers define outside what x/sys/unix
// exports: personality(2) values (include/uapi/linux/personality.h) and
// AT_FDCWD.
var extraConsts = map[string]uint64{
	"PER_LINUX":          0x0000,
	"PER_LINUX_32BIT":    0x0000 | 0x0800000,
	"PER_LINUX32":        0x0008,
	"UNAME26":            0x0020000,
	"ADDR_NO_RANDOMIZE":  0x0040000,
	"FDPIC_FUNCPTRS":     0x0080000,
	"MMAP_PAGE_ZERO":     0x0100000,
	"ADDR_COMPAT_LAYOUT": 0x0200000,
	"READ_IMPLIES_EXEC":  0x0400000,
	"ADDR_LIMIT_32BIT":   0x0800000,
	"SHORT_INODE":        0x1000000,
	"WHOLE_SECONDS":      0x2000000,
	"STICKY_TIMEOUTS":    0x4000000,
	"ADDR_LIMIT_3GB":     0x8000000,
	"AT_FDCWD":           neg(100),
}

// ErrnoNumber returns the Linux x86-64 number of an errno name such as
// "EPERM".
func ErrnoNumber(name string) (uint16, bool) {
	n, ok := errnoTable[name]
	return n, ok
}

// ConstValue returns the value of a flag or constant name (CLONE_NEWUSER,
// AF_PACKET, TIOCSTI, ...) on Linux x86-64.
func ConstValue(name string) (uint64, bool) {
	if v, ok := constTable[name]; ok {
		return v, true
	}
	v, ok := extraConsts[name]
	return v, ok
}

// ConstName returns a constant name with the given prefix (e.g. "AF_") whose
// value is v, choosing the alphabetically first if several alias. It is
// used to write learned profiles with names instead of numbers.
func ConstName(prefix string, v uint64) (string, bool) {
	var names []string
	for _, t := range []map[string]uint64{constTable, extraConsts} {
		for n, x := range t {
			if x == v && strings.HasPrefix(n, prefix) {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return "", false
	}
	sort.Strings(names)
	if alias, ok := preferredName[names[0]]; ok {
		return alias, true
	}
	return names[0], true
}

// preferredName replaces aliases that sort first but read worse.
var preferredName = map[string]string{"AF_FILE": "AF_UNIX", "AF_LOCAL": "AF_UNIX", "AF_ROUTE": "AF_NETLINK"}

// ParseValue resolves one value token of an argument predicate: a constant
// name, several joined by "|" (OR-ed together), or a number in Go syntax
// (decimal, 0x hex, 0o/0 octal, 0b binary, optionally negative).
func ParseValue(tok string) (uint64, error) {
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return 0, errEmptyValue
	}
	if strings.Contains(tok, "|") {
		var v uint64
		for _, part := range strings.Split(tok, "|") {
			x, err := ParseValue(part)
			if err != nil {
				return 0, err
			}
			v |= x
		}
		return v, nil
	}
	if c := tok[0]; c == '-' || (c >= '0' && c <= '9') {
		if u, err := strconv.ParseUint(tok, 0, 64); err == nil {
			return u, nil
		}
		i, err := strconv.ParseInt(tok, 0, 64)
		if err != nil {
			return 0, &valueError{tok: tok, msg: "is not a number"}
		}
		return uint64(i), nil
	}
	if v, ok := ConstValue(tok); ok {
		return v, nil
	}
	return 0, &valueError{tok: tok, msg: "is not a known constant name"}
}

var errEmptyValue = &valueError{msg: "empty value"}

type valueError struct{ tok, msg string }

func (e *valueError) Error() string {
	if e.tok == "" {
		return e.msg
	}
	return strconv.Quote(e.tok) + " " + e.msg
}
