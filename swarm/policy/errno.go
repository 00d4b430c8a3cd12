package policy

import "sort"

// errnoNames maps errno numbers back to one name each: the alphabetically
// first, except where the usual name sorts later.
var errnoNames = func() map[uint16]string {
	prefer := map[string]bool{"EOPNOTSUPP": true}
	m := make(map[uint16]string, len(errnoTable))
	names := make([]string, 0, len(errnoTable))
	for n := range errnoTable {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := errnoTable[n]
		if old, ok := m[v]; !ok || (prefer[n] && !prefer[old]) {
			m[v] = n
		}
	}
	return m
}()

// ErrnoName returns the name of a Linux x86-64 errno number (1 -> "EPERM").
// Of aliases it returns the usual one: EAGAIN (not EWOULDBLOCK), EDEADLK,
// EOPNOTSUPP (not ENOTSUP).
func ErrnoName(n uint16) (string, bool) {
	s, ok := errnoNames[n]
	return s, ok
}
