package sentry

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/errors/linuxerr"
	"gvisor.dev/gvisor/pkg/hostarch"
	"gvisor.dev/gvisor/pkg/sentry/arch"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
	"gvisor.dev/gvisor/pkg/sentry/socket"
	"gvisor.dev/gvisor/pkg/sentry/vfs"

	"github.com/athenaos/athena/fs"
	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/syscalls"
)

// slowChecks are the verdict flags that send a call to slowCheck.
const slowChecks = syscalls.NeedsPathCheck | syscalls.NeedsExecCheck | syscalls.NeedsNetCheck

// slowCheck decides a call that path, exec or net rules concern: it
// resolves the call's paths the way the kernel will (fs.Resolve) or reads
// its socket address, lets the table's slow rules decide, records the call
// with what it saw when the verdict asks, and carries the verdict out.
//
// It allocates (the path strings) and may take VFS locks: it runs only for
// the syscalls a policy's path, exec or net rules name, never for the
// others.
//
// A path that cannot be resolved fails the call with the error resolution
// gave (ENOENT, ENOTDIR, ELOOP, EACCES, EFAULT...), which is the error the
// call itself would have returned: failing closed costs nothing, and a
// path the check could not see is never let through.
func (g *SyscallGate) slowCheck(t *kernel.Task, sysno uintptr, args *arch.SyscallArguments, raw *[6]uint64, fn kernel.SyscallFn, table *syscalls.Table, slot uint32, v syscalls.Verdict) (uintptr, *kernel.SyscallControl, error) {
	var detail event.Event
	var checkErr error
	if v.Has(syscalls.NeedsPathCheck) || v.Has(syscalls.NeedsExecCheck) {
		if fs.Known(sysno) {
			var f files
			if err := f.resolve(t, sysno, args); err != nil {
				checkErr = err
			} else {
				if v.Has(syscalls.NeedsPathCheck) {
					v = table.DecidePath(v, f.ops, f.targets[:f.n])
				}
				if v.Has(syscalls.NeedsExecCheck) && f.ops&policy.OpExec != 0 && f.n > 0 {
					v = table.DecideExec(v, f.targets[0])
				}
				syscalls.SetEventPaths(&detail, f.ops, f.targets[:f.n])
			}
		}
	}
	if checkErr == nil && v.Has(syscalls.NeedsNetCheck) {
		sockType, addrs, err := socketAddresses(t, sysno, raw)
		if err != nil {
			checkErr = err
		}
		// sendmmsg names one address per message: the harshest verdict
		// among them stands for the call. A send without an address is
		// recorded as checked, with none.
		fast := v
		syscalls.SetEventNet(&detail, sockType, policy.Addr{})
		for i := range addrs {
			d := table.DecideNet(fast, sysno, sockType, addrs[i])
			if i == 0 || harsher(d, v) {
				v = d
				syscalls.SetEventNet(&detail, sockType, addrs[i])
			}
		}
	}
	if checkErr != nil {
		errno := errnoOf(checkErr)
		if v.Has(syscalls.Record) {
			detail.Errno = uint16(errno)
			g.record(t, slot, sysno, raw, v, &detail)
		}
		return 0, nil, checkErr
	}
	if v.Has(syscalls.Record) {
		g.record(t, slot, sysno, raw, v, &detail)
	}
	return g.carryOut(t, sysno, args, fn, v)
}

// files are a call's paths as fs/ resolved them, in the form the table's
// slow rules take.
type files struct {
	ops     policy.OpSet
	n       int
	targets [2]syscalls.FileTarget
}

// resolve fills f for a call of sysno by t (fs.Resolve).
func (f *files) resolve(t *kernel.Task, sysno uintptr, args *arch.SyscallArguments) error {
	var call fs.Call
	if err := fs.Resolve(fsTask{t}, sysno, args, &call); err != nil {
		return err
	}
	f.ops, f.n = call.Ops, call.N
	for i := range call.N {
		f.targets[i] = syscalls.FileTarget{Path: call.Paths[i].Path, Target: call.Paths[i].Target}
	}
	return nil
}

// recordRefusal records a call a syscall rule refused, with the paths or
// socket address it named when it names any, so that the record says
// which file or peer was refused (the rule did not need them). Failures
// to resolve leave them out. It is a function of its own so that the hot
// path's frame does not carry the event.
//
//go:noinline
func (g *SyscallGate) recordRefusal(t *kernel.Task, slot uint32, sysno uintptr, args *arch.SyscallArguments, raw *[6]uint64, v syscalls.Verdict) {
	var detail event.Event
	if t != nil && fs.Known(sysno) {
		var f files
		if f.resolve(t, sysno, args) == nil {
			syscalls.SetEventPaths(&detail, f.ops, f.targets[:f.n])
		}
	}
	if t != nil && isNetSyscall(sysno) {
		if sockType, addrs, err := socketAddresses(t, sysno, raw); err == nil && len(addrs) > 0 {
			syscalls.SetEventNet(&detail, sockType, addrs[0])
		}
	}
	g.record(t, slot, sysno, raw, v, &detail)
}

// isNetSyscall reports whether sysno names a socket address.
func isNetSyscall(sysno uintptr) bool {
	switch sysno {
	case unix.SYS_CONNECT, unix.SYS_BIND, unix.SYS_SENDTO, unix.SYS_SENDMSG, unix.SYS_SENDMMSG:
		return true
	}
	return false
}

// maxSendmmsgChecked bounds the messages of one sendmmsg whose addresses
// are checked (the kernel caps vlen at UIO_MAXIOV, 1024).
const maxSendmmsgChecked = 1024

// socketAddresses reads the socket type of the call's descriptor and the
// address(es) a connect, bind, sendto, sendmsg or sendmmsg names. A call
// without an address (sendto on a connected socket) yields none: its
// peer was checked at connect.
func socketAddresses(t *kernel.Task, sysno uintptr, raw *[6]uint64) (sockType uint8, addrs []policy.Addr, err error) {
	file := t.GetFile(int32(raw[0]))
	if file == nil {
		return 0, nil, linuxerr.EBADF
	}
	sock, ok := file.Impl().(socket.Socket)
	if ok {
		_, st, _ := sock.Type()
		sockType = uint8(st)
	}
	file.DecRef(t)
	if !ok {
		return 0, nil, linuxerr.ENOTSOCK
	}
	one := func(ptr, length uint64) error {
		if ptr == 0 || length == 0 {
			return nil
		}
		if length > linux.SockAddrMax {
			return linuxerr.EINVAL
		}
		buf := make([]byte, length)
		if _, err := t.CopyInBytes(hostarch.Addr(ptr), buf); err != nil {
			return linuxerr.EFAULT
		}
		a, err := policy.ParseSockaddr(buf)
		if err != nil {
			return linuxerr.EINVAL
		}
		if a.Family != unix.AF_UNIX || a.Abstract || a.Unix == "" {
			addrs = append(addrs, a)
			return nil
		}
		// A unix socket path is looked up like a file: match the rules
		// against where it really is (relative to the cwd, through
		// symlinked directories) and, through a symlink, where that leads.
		tgt, err := fs.ResolveSocketPath(fsTask{t}, a.Unix)
		if err != nil {
			return err
		}
		a.Unix = tgt.Path
		addrs = append(addrs, a)
		if tgt.Target != "" && tgt.Target != tgt.Path {
			a.Unix = tgt.Target
			addrs = append(addrs, a)
		}
		return nil
	}
	switch sysno {
	case unix.SYS_CONNECT, unix.SYS_BIND:
		err = one(raw[1], raw[2]&0xffffffff)
	case unix.SYS_SENDTO:
		err = one(raw[4], raw[5]&0xffffffff)
	case unix.SYS_SENDMSG:
		err = msghdrAddress(t, raw[1], one)
	case unix.SYS_SENDMMSG:
		vlen := min(raw[2]&0xffffffff, maxSendmmsgChecked)
		for i := range vlen {
			// struct mmsghdr is a msghdr (56 bytes) and a length,
			// padded to 64.
			if err = msghdrAddress(t, raw[1]+i*64, one); err != nil {
				break
			}
		}
	}
	return sockType, addrs, err
}

// harsher reports whether verdict d should stand for a call over v: it
// denies (or would deny) where v does not.
func harsher(d, v syscalls.Verdict) bool {
	if (d.Action() == syscalls.Allow) != (v.Action() == syscalls.Allow) {
		return d.Action() != syscalls.Allow
	}
	return d.Has(syscalls.WouldDeny) && !v.Has(syscalls.WouldDeny)
}

// msghdrAddress reads msg_name and msg_namelen of the struct msghdr at ptr.
func msghdrAddress(t *kernel.Task, ptr uint64, one func(ptr, length uint64) error) error {
	var hdr [12]byte // msg_name (8) and msg_namelen (4)
	if _, err := t.CopyInBytes(hostarch.Addr(ptr), hdr[:]); err != nil {
		return linuxerr.EFAULT
	}
	return one(binary.LittleEndian.Uint64(hdr[:8]), uint64(binary.LittleEndian.Uint32(hdr[8:])))
}

// errnoOf returns the errno of a check's error (0 if it has none).
func errnoOf(err error) unix.Errno {
	if e, ok := linuxerr.TranslateError(err); ok && e != nil {
		return unix.Errno(e.Errno())
	}
	return 0
}

// fsTask adapts *kernel.Task to fs.Task, so that fs/ resolves paths
// without importing gVisor's kernel package. It is one pointer wide:
// converting it to the interface does not allocate.
type fsTask struct{ *kernel.Task }

func (t fsTask) VFS() *vfs.VirtualFilesystem         { return t.Kernel().VFS() }
func (t fsTask) RootDirectory() vfs.VirtualDentry    { return t.FSContext().RootDirectory() }
func (t fsTask) WorkingDirectory() vfs.VirtualDentry { return t.FSContext().WorkingDirectory() }
