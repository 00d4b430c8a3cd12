package sentry

import (
	"fmt"
	"strings"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/context"
	"gvisor.dev/gvisor/pkg/fd"
	"gvisor.dev/gvisor/pkg/hostarch"
	"gvisor.dev/gvisor/pkg/sentry/arch"
	"gvisor.dev/gvisor/pkg/sentry/kernel"
	"gvisor.dev/gvisor/pkg/sentry/mm"
	"gvisor.dev/gvisor/pkg/sentry/platform"

	// The platforms the athena platform wraps register themselves.
	_ "gvisor.dev/gvisor/pkg/sentry/platform/ptrace"
	_ "gvisor.dev/gvisor/pkg/sentry/platform/systrap"

	"github.com/athenaos/athena/swarm/event"
)

// The athena platforms: gVisor platforms that wrap systrap or ptrace and
// see every return from the application to the sentry (Context.Switch):
// system calls, page faults and signals. "athena" is runsc-athena's
// default.
const (
	PlatformName       = "athena"
	PtracePlatformName = "athena-ptrace"
)

// innerPlatform maps each athena platform to the platform it wraps.
var innerPlatform = map[string]string{PlatformName: "systrap", PtracePlatformName: "ptrace"}

func init() {
	for name, inner := range innerPlatform {
		platform.Register(name, &platformConstructor{inner: inner})
	}
}

// IsAthenaPlatform reports whether name is one of the athena platforms
// (the fault path exists only under them).
func IsAthenaPlatform(name string) bool { _, ok := innerPlatform[name]; return ok }

// InnerPlatform returns the platform an athena platform wraps, or name
// itself for any other platform.
func InnerPlatform(name string) string {
	if inner, ok := innerPlatform[name]; ok {
		return inner
	}
	return name
}

// platformConstructor builds an athena platform around its inner
// platform's; everything but the contexts is the inner platform's own
// (seccomp filters and requirements included), so the sandbox is set up
// exactly as for the inner platform.
type platformConstructor struct {
	inner string
}

func (c *platformConstructor) constructor() platform.Constructor {
	pc, err := platform.Lookup(c.inner)
	if err != nil {
		// Both inner platforms are linked in by this file's imports.
		panic(fmt.Sprintf("athena platform: %v", err))
	}
	return pc
}

// New implements platform.Constructor.New.
func (c *platformConstructor) New(opts platform.Options) (platform.Platform, error) {
	if c.inner == "systrap" {
		// runsc passes systrap's options only to a platform named
		// systrap; the defaults (patching and the fast path on) are
		// what the wrapped systrap should run with.
		opts.DisableSyscallPatching, opts.DisableFastPath = false, false
	}
	p, err := c.constructor().New(opts)
	if err != nil {
		return nil, fmt.Errorf("athena platform over %s: %w", c.inner, err)
	}
	return &athenaPlatform{Platform: p}, nil
}

// OpenDevice implements platform.Constructor.OpenDevice.
func (c *platformConstructor) OpenDevice(path string) (*fd.FD, error) {
	return c.constructor().OpenDevice(path)
}

// Requirements implements platform.Constructor.Requirements.
func (c *platformConstructor) Requirements() platform.Requirements {
	return c.constructor().Requirements()
}

// PrecompiledSeccompInfo implements
// platform.Constructor.PrecompiledSeccompInfo: the inner platform's
// filters are ours.
func (c *platformConstructor) PrecompiledSeccompInfo() []platform.SeccompInfo {
	return c.constructor().PrecompiledSeccompInfo()
}

// athenaPlatform is the inner platform with wrapped contexts.
type athenaPlatform struct {
	platform.Platform
}

// NewContext implements platform.Platform.NewContext. ctx is the new
// task's (kernel.Task.AsyncContext): the first one makes the sandbox's
// kernel known (noteKernel), before any of its tasks runs.
func (p *athenaPlatform) NewContext(ctx context.Context) platform.Context {
	if k := kernel.KernelFromContext(ctx); k != nil {
		noteKernel(k)
	}
	return &athenaContext{Context: p.Platform.NewContext(ctx)}
}

// athenaContext sees each switch of one task.
type athenaContext struct {
	platform.Context
}

// Switch implements platform.Context.Switch: the inner platform runs the
// task until it returns to the sentry; a page fault the sentry is about
// to handle (a synchronous SIGSEGV or SIGBUS with an access type) then
// goes to the fault path.
func (c *athenaContext) Switch(ctx context.Context, as platform.MemoryManager, ac *arch.Context64, cpu int32) (*linux.SignalInfo, hostarch.AccessType, error) {
	info, at, err := c.Context.Switch(ctx, as, ac, cpu)
	if err == platform.ErrContextSignal && at.Any() {
		if f := faultPath.Load(); f != nil {
			f.fault(ctx, as, info, at, ac.IP())
		}
	}
	return info, at, err
}

// activePlatform is the sandbox's platform name (SetPlatformName).
var activePlatform atomic.Value

func init() { activePlatform.Store("unknown") }

// SetPlatformName tells the status which platform the sandbox runs on
// (runsc's --platform). Preconditions: called before the kernel starts.
func SetPlatformName(name string) { activePlatform.Store(name) }

// faultPath is the installed fault feed (nil: faults are not watched).
var faultPath atomic.Pointer[memFeed]

// sandboxKernel is the sandbox's kernel, from its first task; kernelKnown
// is closed when it is set.
var (
	sandboxKernel atomic.Pointer[kernel.Kernel]
	kernelKnown   = make(chan struct{})
)

func noteKernel(k *kernel.Kernel) {
	if sandboxKernel.Load() != nil || !sandboxKernel.CompareAndSwap(nil, k) {
		return
	}
	close(kernelKnown) // PreparePacketPath waits for it
}

// classify says what memory addr lies in: it walks the task's mappings
// under the memory manager's read lock, so only exec faults (rare: one
// per executable mapping a task touches) are classified.
func classify(ctx context.Context, as platform.MemoryManager, addr hostarch.Addr) uint64 {
	m, ok := as.(*mm.MemoryManager)
	if !ok {
		return event.MemUnknown
	}
	class := uint64(event.MemUnmapped)
	m.ReadMapsDataInto(ctx, func(start, end hostarch.Addr, _ hostarch.AccessType, private string, _ uint64, _, _ uint32, inode uint64, path string) {
		if addr < start || addr >= end {
			return
		}
		switch {
		case inode != 0 || strings.HasPrefix(path, "/"):
			class = event.MemFile
		case private == "p" && !strings.HasPrefix(path, "[v"): // not [vdso], [vvar], [vsyscall]
			class = event.MemAnon
		default:
			class = event.MemOther
		}
	})
	return class
}
