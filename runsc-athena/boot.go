package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"gvisor.dev/gvisor/runsc/specutils"

	"github.com/athenaos/athena/sentry"
	"github.com/athenaos/athena/swarm/event"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/ring"
	"github.com/athenaos/athena/syscalls"
)

// decisionRingSize bounds the events the gate may queue for the swarm;
// beyond it records are dropped and counted, never waited for. The ring is
// 4 MiB of address space, but its pages are touched only as records pass
// through it.
const decisionRingSize = 8192

// prepareCreate checks a container about to be created (or restored) and
// resolves and stores its policy, so that a missing command or a bad policy
// fails the create with a clear error before anything starts.
func prepareCreate(cmd string, args []string) {
	bundle, id := bundleAndID(args)
	if id == "" {
		return // runsc will complain about the missing ID itself
	}
	spec, err := readSpec(bundle)
	if err != nil {
		// runsc reports a missing or bad config.json itself, in its own
		// words; do not second-guess it here.
		return
	}
	// A keeper's recovery creates the container again from a bundle
	// this function has already rewritten: it must not rewrite it twice.
	recovering := os.Getenv(keeperInnerEnv) == "recover"
	if cmd != "restore" {
		if err := checkExecutable(bundle, spec); err != nil {
			reportEarlyError(os.Args[1:], err.Error())
		}
	}
	text, p, err := resolvePolicy(spec)
	if err != nil {
		reportEarlyError(os.Args[1:], err.Error())
	}
	h, err := healFor(spec, p)
	if err != nil {
		reportEarlyError(os.Args[1:], fmt.Sprintf("in-sandbox restart: %v", err))
	}
	if text, p, err = withHeal(text, p, h); err != nil {
		reportEarlyError(os.Args[1:], err.Error())
	}
	if err := storePolicy(id, text); err != nil {
		reportEarlyError(os.Args[1:], err.Error())
	}
	if !recovering && cmd != "restore" {
		if err := installAthenaInit(bundle, spec, h); err != nil {
			reportEarlyError(os.Args[1:], fmt.Sprintf("in-sandbox restart: %v", err))
		}
	}
	if sandbox, ok := joinedSandbox(spec); ok {
		// A container of a pod, created in its sandbox: the sandbox
		// takes its policy now, over the link it already holds.
		if err := joinSandbox(id, sandbox, policyPath(id), text, ociResources(spec)); err != nil {
			reportEarlyError(os.Args[1:], fmt.Sprintf("giving container %s its policy in sandbox %s: %v", id, sandbox, err))
		}
		return
	}
	if !recovering && schedEnforcesQuota(spec, p) {
		if err := relaxHostQuota(bundle, spec); err != nil {
			reportEarlyError(os.Args[1:], fmt.Sprintf("handing the CPU quota to the scheduler: %v", err))
		}
	}
	if err := prepareLink(id, spec); err != nil {
		reportEarlyError(os.Args[1:], err.Error())
	}
	recallWorkload(id, spec, bundle)
}

// joinedSandbox returns the sandbox a container is created in when it is
// not a sandbox's first container (CRI's container-type annotation, read
// the way runsc reads it).
func joinedSandbox(spec *specs.Spec) (string, bool) {
	if specutils.SpecContainerType(spec) != specutils.ContainerTypeContainer {
		return "", false
	}
	return specutils.SandboxID(spec)
}

// startSwarm runs in the sandbox process ("boot"), before gVisor's kernel
// starts and before the process chroots: it reads the container's policy,
// opens the link to the host and installs the syscall gate, then parses and
// compiles the policy and starts the recorder in the background, while
// gVisor boots. The gate holds any system call that comes before the
// policy is in place (none should: the kernel takes longer to start), and
// a policy that does not load stops the sandbox: a container never runs
// without its policy.
func startSwarm(args []string) {
	_, id := bundleAndID(args)
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "runsc-athena boot: %s: %v\n", id, err)
		os.Exit(1)
	}
	// Files first: after the chroot nothing can be opened.
	text, name, digest, err := readStoredPolicy(id)
	if err != nil {
		fail(fmt.Errorf("reading the policy: %w", err))
	}
	link, cpu, err := openLink(id)
	if err != nil {
		fail(err)
	}
	events, err := ring.New[event.Event](decisionRingSize)
	if err != nil {
		panic(err) // a constant size: a programming error
	}
	calls, err := ring.New[event.Call](sentry.CallRingSize)
	if err != nil {
		panic(err)
	}
	modelFD, modelData, err := link.ModelFile()
	if err != nil {
		fail(err)
	}
	mem, err := ring.New[event.Mem](sentry.MemRingSize)
	if err != nil {
		panic(err)
	}
	gate := sentry.InstallSyscallGate(events, calls, new(sentry.GateStats))
	gate.SetTaskLimit(sentry.TaskLimitFor(cpu.Pids))
	gate.EnableFaultPath(mem)
	packets, err := ring.New[event.Event](sentry.PacketRingSize)
	if err != nil {
		panic(err)
	}
	gate.EnablePacketPath(packets)
	sentry.SetPlatformName(globalFlagValue(os.Args[1:], "platform"))
	go func() {
		p, err := policy.Parse(name, text)
		if err != nil {
			fail(fmt.Errorf("loading the policy: %w", err))
		}
		table, err := syscalls.Compile(p)
		if err != nil {
			fail(fmt.Errorf("loading the policy: %w", err))
		}
		// The packet filter goes in before the policy is published,
		// so before the app's first call (and first packet).
		gate.PreparePacketPath(p)
		gate.Publish("", table)
		rec := sentry.NewRecorder(id, gate, events, link, name, digest)
		cfg, note := sentry.NewSwarmConfig(p, modelData, modelFD, cpu)
		if note != "" {
			fmt.Fprintf(os.Stderr, "runsc-athena boot: %s: sense of self: %s\n", id, note)
		}
		if err := rec.EnableSwarm(cfg); err != nil {
			fail(fmt.Errorf("starting the swarm: %w", err))
		}
		rec.Run()
	}()
}

// openLink opens the sandbox's end of its link to the host, and returns
// the container's OCI CPU resources stored with it.
func openLink(id string) (*sentry.Link, sentry.OCIResources, error) {
	lc, err := storedLink(id)
	if errors.Is(err, fs.ErrNotExist) {
		// A sandbox not made by "runsc-athena create" (runsc do): the
		// policy is enforced all the same, with no record.
		fmt.Fprintf(os.Stderr, "runsc-athena boot: %s: no decision link (%v); decisions are enforced but not recorded\n", id, err)
		return sentry.NoLink(), sentry.OCIResources{}, nil
	}
	if err != nil {
		return nil, sentry.OCIResources{}, err
	}
	link, err := sentry.OpenLink(lc.LinkFiles, lc.EventsMaxBytes)
	return link, lc.CPU, err
}
