package syscalls

import (
	"fmt"
	"strings"
)

// Class is a syscall class, as named by "class:" in a policy.
type Class uint8

// The classes. Every x86-64 syscall belongs to exactly one (classes_test.go
// checks it). The guiding question is "what does the call act on?":
const (
	ClassOther      Class = iota // obsolete or unimplemented entry points (getpmsg, tuxcall, ...)
	ClassFile                    // filesystem objects: by path, or file metadata/content through an fd
	ClassFD                      // generic descriptor I/O, polling and descriptor tables
	ClassNet                     // sockets
	ClassProcess                 // process/thread life, identity, limits, scheduling, futexes
	ClassMemory                  // the caller's address space
	ClassIPC                     // System V and POSIX message/semaphore/shared memory IPC
	ClassSignal                  // signals
	ClassTime                    // clocks, timers and sleeps (reading and waiting, not setting)
	ClassPrivileged              // needs a capability or touches state shared with the host kernel
	ClassSystem                  // system-wide information (uname, sysinfo, getrandom, ...)
	numClasses
)

var classNames = [numClasses]string{
	ClassOther: "other", ClassFile: "file", ClassFD: "fd", ClassNet: "net", ClassProcess: "process",
	ClassMemory: "memory", ClassIPC: "ipc", ClassSignal: "signal", ClassTime: "time",
	ClassPrivileged: "privileged", ClassSystem: "system",
}

func (c Class) String() string {
	if c < numClasses {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", uint8(c))
}

// ParseClass returns the class with the given name.
func ParseClass(name string) (Class, bool) {
	for i, n := range classNames {
		if n == name {
			return Class(i), true
		}
	}
	return 0, false
}

// classMembers is the readable source of the class table; init turns it into
// the classOf array. Syscalls not listed are ClassOther.
var classMembers = map[Class]string{
	ClassFile: `open stat lstat access truncate ftruncate getdents getdents64 getcwd
		chdir fchdir rename mkdir rmdir creat link unlink symlink readlink chmod fchmod
		chown fchown lchown umask utime utimes mknod statfs fstatfs fstat flock fsync
		fdatasync sync_file_range syncfs sync setxattr lsetxattr fsetxattr getxattr
		lgetxattr fgetxattr listxattr llistxattr flistxattr removexattr lremovexattr
		fremovexattr readahead fadvise64 fallocate openat mkdirat mknodat fchownat
		futimesat newfstatat unlinkat renameat linkat symlinkat readlinkat fchmodat
		faccessat utimensat renameat2 statx openat2 faccessat2 fchmodat2 inotify_init
		inotify_init1 inotify_add_watch inotify_rm_watch fanotify_mark copy_file_range
		cachestat setxattrat getxattrat listxattrat removexattrat chroot`,
	ClassFD: `read write close poll lseek ioctl pread64 pwrite64 readv writev pipe
		select dup dup2 fcntl sendfile pselect6 ppoll epoll_create epoll_create1
		epoll_ctl epoll_wait epoll_pwait epoll_pwait2 splice tee vmsplice eventfd
		eventfd2 pipe2 dup3 preadv pwritev preadv2 pwritev2 close_range io_setup
		io_destroy io_getevents io_submit io_cancel io_pgetevents io_uring_setup
		io_uring_enter io_uring_register`,
	ClassNet: `socket connect accept accept4 sendto recvfrom sendmsg recvmsg sendmmsg
		recvmmsg shutdown bind listen getsockname getpeername socketpair setsockopt
		getsockopt`,
	ClassProcess: `clone clone3 fork vfork execve execveat exit exit_group wait4 waitid
		getpid getppid gettid getuid geteuid getgid getegid setuid setgid setreuid
		setregid setresuid getresuid setresgid getresgid setfsuid setfsgid getgroups
		setgroups capget capset setpgid getpgid getpgrp setsid getsid getrlimit
		setrlimit prlimit64 getrusage getpriority setpriority sched_setparam
		sched_getparam sched_setscheduler sched_getscheduler sched_get_priority_max
		sched_get_priority_min sched_rr_get_interval sched_yield sched_setaffinity
		sched_getaffinity sched_setattr sched_getattr prctl arch_prctl personality
		set_tid_address set_robust_list get_robust_list futex futex_waitv futex_wake
		futex_wait futex_requeue set_thread_area get_thread_area ioprio_set ioprio_get
		rseq seccomp landlock_create_ruleset landlock_add_rule landlock_restrict_self
		ptrace process_vm_readv process_vm_writev pidfd_open getcpu restart_syscall
		modify_ldt`,
	ClassMemory: `mmap mprotect munmap brk mremap msync mincore madvise mlock munlock
		mlockall munlockall mlock2 remap_file_pages memfd_create pkey_mprotect
		pkey_alloc pkey_free membarrier map_shadow_stack mseal`,
	ClassIPC: `shmget shmat shmctl shmdt semget semop semctl semtimedop msgget msgsnd
		msgrcv msgctl mq_open mq_unlink mq_timedsend mq_timedreceive mq_notify
		mq_getsetattr`,
	ClassSignal: `rt_sigaction rt_sigprocmask rt_sigreturn rt_sigpending rt_sigtimedwait
		rt_sigqueueinfo rt_sigsuspend rt_tgsigqueueinfo sigaltstack kill tkill tgkill
		pause signalfd signalfd4 pidfd_send_signal`,
	ClassTime: `nanosleep getitimer setitimer alarm gettimeofday time times
		timer_create timer_settime timer_gettime timer_getoverrun timer_delete
		clock_gettime clock_getres clock_nanosleep timerfd_create timerfd_settime
		timerfd_gettime`,
	ClassPrivileged: `mount umount2 pivot_root swapon swapoff reboot sethostname
		setdomainname iopl ioperm create_module init_module finit_module delete_module
		get_kernel_syms query_module quotactl quotactl_fd nfsservctl kexec_load
		kexec_file_load acct settimeofday clock_settime adjtimex clock_adjtime vhangup
		_sysctl syslog lookup_dcookie open_by_handle_at name_to_handle_at
		perf_event_open bpf setns unshare fanotify_init userfaultfd open_tree
		move_mount fsopen fsconfig fsmount fspick mount_setattr open_tree_attr
		statmount listmount uselib add_key request_key keyctl kcmp pidfd_getfd
		process_madvise process_mrelease mbind set_mempolicy get_mempolicy
		set_mempolicy_home_node migrate_pages move_pages memfd_secret uretprobe
		lsm_set_self_attr`,
	ClassSystem: `uname sysinfo sysfs ustat getrandom lsm_get_self_attr lsm_list_modules`,
}

// classOf[n] is the class of syscall n.
var classOf [MaxSyscall + 1]Class

func init() {
	for c, list := range classMembers {
		for _, name := range strings.Fields(list) {
			n, ok := Number(name)
			if !ok {
				panic(fmt.Sprintf("syscalls: class %s lists unknown syscall %q", c, name))
			}
			if classOf[n] != ClassOther {
				panic(fmt.Sprintf("syscalls: %q is in classes %s and %s", name, classOf[n], c))
			}
			classOf[n] = c
		}
	}
}

// ClassOf returns the class of syscall sysno (ClassOther if unknown).
func ClassOf(sysno uintptr) Class {
	if sysno > MaxSyscall {
		return ClassOther
	}
	return classOf[sysno]
}

// ClassSyscalls returns the names of the syscalls in class c, by number.
func ClassSyscalls(c Class) []string {
	var out []string
	for n, name := range names {
		if name != "" && classOf[n] == c {
			out = append(out, name)
		}
	}
	return out
}
