package syscalls

// ArgSpec names one syscall argument that policy predicates may test.
type ArgSpec struct {
	Name  string
	Index uint8 // register position, 0..5
	// Mask selects the bits that carry the argument: 0xffffffff for C int
	// and unsigned int arguments (the upper half of the register is
	// undefined), 0xf for socket's type (SOCK_TYPE_MASK: SOCK_NONBLOCK and
	// SOCK_CLOEXEC are not part of the type), all ones otherwise. Both the
	// register and the policy's values are masked before a test.
	Mask uint64
}

const (
	m32  = 0xffffffff
	m64  = ^uint64(0)
	mSTy = 0xf // SOCK_TYPE_MASK
)

func a(name string, idx uint8, mask uint64) ArgSpec {
	return ArgSpec{Name: name, Index: idx, Mask: mask}
}

// argSpecs lists, per syscall name, the arguments that predicates support,
// with their x86-64 register positions (man 2 syscall, and the kernel's
// SYSCALL_DEFINE argument order). clone3 has none: its flags live in a
// struct clone_args in user memory, which the fast path does not read.
// Syscalls not listed accept no predicates.
var argSpecs = map[string][]ArgSpec{
	"clone":              {a("flags", 0, m64)}, // x86-64 order: flags, stack, parent_tid, child_tid, tls
	"unshare":            {a("flags", 0, m32)},
	"setns":              {a("fd", 0, m32), a("nstype", 1, m32)},
	"socket":             {a("family", 0, m32), a("type", 1, mSTy), a("protocol", 2, m32)},
	"socketpair":         {a("family", 0, m32), a("type", 1, mSTy), a("protocol", 2, m32)},
	"ioctl":              {a("fd", 0, m32), a("request", 1, m32)},
	"fcntl":              {a("fd", 0, m32), a("cmd", 1, m32)},
	"prctl":              {a("option", 0, m32), a("arg2", 1, m64)},
	"arch_prctl":         {a("code", 0, m32)},
	"personality":        {a("persona", 0, m32)},
	"mmap":               {a("prot", 2, m32), a("flags", 3, m32)},
	"mprotect":           {a("prot", 2, m32)},
	"pkey_mprotect":      {a("prot", 2, m32)},
	"madvise":            {a("advice", 2, m32)},
	"mremap":             {a("flags", 3, m32)},
	"memfd_create":       {a("flags", 1, m32)},
	"open":               {a("flags", 1, m32), a("mode", 2, m32)},
	"openat":             {a("dirfd", 0, m32), a("flags", 2, m32), a("mode", 3, m32)},
	"creat":              {a("mode", 1, m32)},
	"chmod":              {a("mode", 1, m32)},
	"fchmod":             {a("fd", 0, m32), a("mode", 1, m32)},
	"fchmodat":           {a("dirfd", 0, m32), a("mode", 2, m32)},
	"mknod":              {a("mode", 1, m32)},
	"mknodat":            {a("dirfd", 0, m32), a("mode", 2, m32)},
	"kill":               {a("pid", 0, m32), a("sig", 1, m32)},
	"tkill":              {a("tid", 0, m32), a("sig", 1, m32)},
	"tgkill":             {a("tgid", 0, m32), a("tid", 1, m32), a("sig", 2, m32)},
	"rt_sigaction":       {a("sig", 0, m32)},
	"setsockopt":         {a("fd", 0, m32), a("level", 1, m32), a("optname", 2, m32)},
	"getsockopt":         {a("fd", 0, m32), a("level", 1, m32), a("optname", 2, m32)},
	"accept4":            {a("flags", 3, m32)},
	"ptrace":             {a("request", 0, m64), a("pid", 1, m32)},
	"bpf":                {a("cmd", 0, m32)},
	"seccomp":            {a("operation", 0, m32), a("flags", 1, m32)},
	"setuid":             {a("uid", 0, m32)},
	"setgid":             {a("gid", 0, m32)},
	"execveat":           {a("dirfd", 0, m32), a("flags", 4, m32)},
	"umount2":            {a("flags", 1, m32)},
	"mount":              {a("flags", 3, m64)},
	"dup3":               {a("flags", 2, m32)},
	"pipe2":              {a("flags", 1, m32)},
	"eventfd2":           {a("flags", 1, m32)},
	"sched_setscheduler": {a("policy", 1, m32)},
	"clock_settime":      {a("clockid", 0, m32)},
}

// Args returns the arguments that predicates may test on the named syscall.
func Args(name string) []ArgSpec { return argSpecs[name] }

// arg finds a named argument of a syscall.
func arg(sys, name string) (ArgSpec, bool) {
	for _, s := range argSpecs[sys] {
		if s.Name == name {
			return s, true
		}
	}
	return ArgSpec{}, false
}
