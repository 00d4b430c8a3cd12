package syscalls

// numbers maps names to numbers; built once from names.
var numbers = func() map[string]uintptr {
	m := make(map[string]uintptr, len(names))
	for n, name := range names {
		if name != "" {
			m[name] = uintptr(n)
		}
	}
	return m
}()

// Name returns the name of x86-64 syscall sysno, or "" if unassigned.
func Name(sysno uintptr) string {
	if sysno > MaxSyscall {
		return ""
	}
	return names[sysno]
}

// Number returns the x86-64 number of a syscall name.
func Number(name string) (uintptr, bool) {
	n, ok := numbers[name]
	return n, ok
}
