// Package mountinfo holds what reading /proc/PID/mountinfo needs in more
// than one program (the runtime, the benchmarks, the OCI validation
// runner).
//
// Imports: the standard library only.
package mountinfo

import (
	"strconv"
	"strings"
)

// Unescape undoes the kernel's octal escapes in a mountinfo field (\040
// for a space, \054 for a comma, \134 for a backslash, ...); anything else
// is kept as it is.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
