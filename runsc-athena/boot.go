package main

import (
	"fmt"
	"os"

	"github.com/athenaos/athena/sentry"
	"github.com/athenaos/athena/swarm/ring"
	"github.com/athenaos/athena/syscalls"
)

// decisionRingSize bounds the events the gate may queue for the swarm;
// beyond it records are dropped and counted, never waited for.
const decisionRingSize = 4096

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
	if cmd != "restore" {
		if err := checkExecutable(bundle, spec); err != nil {
			reportEarlyError(os.Args[1:], err.Error())
		}
	}
	p, err := resolvePolicy(spec)
	if err != nil {
		reportEarlyError(os.Args[1:], err.Error())
	}
	if err := storePolicy(id, p); err != nil {
		reportEarlyError(os.Args[1:], err.Error())
	}
}

// startSwarm runs in the sandbox process ("boot"), before gVisor's kernel
// starts and before the process chroots: it loads the container's policy,
// installs the syscall gate and starts the decision drainer.
func startSwarm(args []string) {
	_, id := bundleAndID(args)
	p, err := loadStoredPolicy(id)
	if err == nil {
		var table *syscalls.Table
		if table, err = syscalls.Compile(p); err == nil {
			gate := new(syscalls.Gate)
			gate.Store(table)
			events, rerr := ring.New(decisionRingSize)
			if rerr != nil {
				panic(rerr) // a constant size: a programming error
			}
			sentry.InstallSyscallGate(gate, events, new(sentry.GateStats))
			go sentry.DrainDecisions(events, id)
			return
		}
	}
	// Fail closed: a sandbox whose policy cannot be loaded does not start.
	fmt.Fprintf(os.Stderr, "runsc-athena boot: loading the policy of %s: %v\n", id, err)
	os.Exit(1)
}
