// Package fs resolves the path arguments of a system call the way gVisor's
// VFS will resolve them for the calling task, so that path rules match the
// file a call really touches: a rule on /etc/shadow cannot be bypassed with
// /etc/../etc/./shadow, a symlink, a relative path from another cwd or a
// directory descriptor.
//
// The syscall gate (sentry/) calls Resolve on the calling task's goroutine,
// before the call runs, for the calls whose policy needs a path check
// (Known says which numbers it handles). Resolve returns what the call
// does (policy.OpSet, the same op per syscall as syscalls/compile.go's
// pathOpSyscalls, refined by the call's flags) and, per path argument, the
// resolved path with its last component as named plus, when the call
// follows a symlink there, where it leads. It is the slow path: it
// allocates the path strings and walks the VFS (taking its locks), but
// changes nothing and keeps no reference.
//
// ResolveSocketPath resolves an AF_UNIX socket path the same way, for net
// rules (the kernel looks socket paths up like files).
//
// decode (calls.go) is pure: from a syscall number and raw arguments it
// says which argument is the dirfd, the path and the flags, whether the
// last component is followed, and the ops. resolve.go does the walking.
//
// Imports: swarm (policy's OpSet) and gVisor (abi/linux, errors/linuxerr,
// fspath, hostarch, marshal, sentry/arch, sentry/kernel/auth, sentry/vfs;
// never sentry/kernel itself: the calling task comes in as the Task
// interface, which sentry/ implements for *kernel.Task);
// never syscalls/, net/ or sentry/.
//
// # Known limits
//
//   - Time of check to time of use: the call resolves its paths again after
//     Resolve. Another thread (or another process sharing the files) can
//     swap a symlink, rename a directory or change a mount in between, and
//     the call then touches another file than the one checked. Only
//     checking inside the VFS walk itself would close this; gVisor offers
//     no hook there.
//   - Names come from the mount namespace's root (see Target.Path): a chroot
//     does not rename files. Hard links are not paths: a second name of a
//     protected file made before the rule, or by a link call the policy
//     allows, reaches the same inode under another name.
//   - The interpreter of a script (#!) and the ELF interpreter of a binary
//     that execve loads are not path arguments and are not reported.
//   - The text of symlink/symlinkat's target is not resolved (it names
//     nothing yet); it is resolved when a later call follows the link.
//   - openat2: RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_SYMLINKS,
//     RESOLVE_NO_MAGICLINKS and RESOLVE_NO_XDEV are passed to the VFS
//     walk, so they act as they will for the call. RESOLVE_CACHED is
//     accepted and ignored, as gVisor does.
//   - An O_CREAT open through a dangling symlink: Target is where the file
//     would be created, found by substituting the link's text and resolving
//     again. Each walk has its own budget of 40 symlinks, where Linux
//     counts them across the whole lookup, so a chain that Linux rejects
//     with ELOOP may resolve here (the call still fails).
//   - Errors match the call's for path problems and for the checks it makes
//     before looking at its paths; checks it makes later (e.g. chown's
//     owner, renameat2's flags, execve's argv) are left to the call. Calls
//     gVisor answers with a fixed error (fchmodat2 and fspick: ENOSYS,
//     name_to_handle_at: EOPNOTSUPP, swapon/swapoff: EPERM or ENOSYS) are
//     resolved with Linux's rules, and a path that does not resolve is
//     left out rather than reported.
//   - Not handled (Known is false): uselib, open_tree_attr and the *xattrat
//     calls, which this gVisor does not implement (ENOSYS), although
//     syscalls/compile.go lists them.
package fs
