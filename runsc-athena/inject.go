package main

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/sentry/control"
	"gvisor.dev/gvisor/runsc/container"

	"github.com/athenaos/athena/sentry"
)

// Faults swarm inject rehearses on the host side (docs/healer.md, "Fault
// injection"); agent-panic and agent-stop go to the sandbox's swarm.
const (
	faultKillSandbox  = "kill-sandbox"  // SIGKILL to the sandbox process
	faultKillGofer    = "kill-gofer"    // SIGKILL to the file server
	faultHangSandbox  = "hang-sandbox"  // SIGSTOP to the sandbox process
	faultCrashProcess = "crash-process" // SIGSEGV to a process of the container
)

var injectFaults = []string{sentry.FaultAgentPanic, sentry.FaultAgentStop, faultKillSandbox, faultKillGofer, faultHangSandbox, faultCrashProcess}

// swarmInject rehearses a fault in a running container: in one of its
// swarm's agents, in its sandbox or gofer process, or in one of its
// processes.
func swarmInject(args []string) error {
	pos, err := verbFlags("inject", args, -1, nil)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return fmt.Errorf("%w: swarm inject ID FAULT [TARGET] (FAULT: %s)", errUsage, strings.Join(injectFaults, ", "))
	}
	id, fault, target := pos[0], pos[1], ""
	if len(pos) > 2 {
		target = pos[2]
	}
	if len(pos) > 3 {
		return fmt.Errorf("%w: swarm inject takes at most one target, got %q", errUsage, pos[2:])
	}
	running, err := knownContainer(id)
	if err != nil {
		return err
	}
	if !running {
		return fmt.Errorf("container %q is not running", id)
	}
	switch fault {
	case sentry.FaultAgentPanic, sentry.FaultAgentStop:
		if target == "" {
			return fmt.Errorf("%w: %s needs the agent's name (from swarm status)", errUsage, fault)
		}
		return injectAgent(id, fault, target)
	case faultKillSandbox, faultKillGofer, faultHangSandbox:
		if target != "" {
			return fmt.Errorf("%w: %s takes no target", errUsage, fault)
		}
		return injectHost(id, fault)
	case faultCrashProcess:
		return injectCrash(id, target)
	}
	return fmt.Errorf("%w: unknown fault %q (want one of %s)", errUsage, fault, strings.Join(injectFaults, ", "))
}

func injectAgent(id, fault, agentName string) error {
	ans, err := sendControl(sandboxOf(id), sentry.EncodeInjectMessage(id, fault, agentName), func(a controlAnswer) bool {
		return a.Type == "inject" && a.Container == id && a.Fault == fault && a.Agent == agentName
	})
	if err != nil {
		return err
	}
	if ans.Status != "applied" {
		return fmt.Errorf("the sandbox refused: %s", ans.Error)
	}
	fmt.Printf("injected %s into agent %s of %s\n", fault, agentName, id)
	return nil
}

// loadRunscContainer loads container id from the runsc state it was
// created under.
func loadRunscContainer(id string) (*container.Container, error) {
	lc, err := storedLink(id)
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	root := lc.RunscRoot
	if root == "" {
		return nil, fmt.Errorf("container %s was created by an older runsc-athena that did not record runsc's --root", id)
	}
	c, err := container.Load(root, container.FullID{ContainerID: id}, container.LoadOpts{})
	if err != nil {
		return nil, fmt.Errorf("container %s in runsc root %s: %w", id, root, err)
	}
	return c, nil
}

func injectHost(id, fault string) error {
	c, err := loadRunscContainer(id)
	if err != nil {
		return err
	}
	var (
		pid  int
		sig  = unix.SIGKILL
		what = "sandbox"
	)
	switch fault {
	case faultKillSandbox:
		pid = c.Sandbox.Getpid()
	case faultHangSandbox:
		pid, sig = c.Sandbox.Getpid(), unix.SIGSTOP
	case faultKillGofer:
		pid, what = c.GoferPid.Load(), "gofer"
	}
	if pid <= 0 {
		return fmt.Errorf("container %s has no %s process", id, what)
	}
	if err := unix.Kill(pid, sig); err != nil {
		return fmt.Errorf("signalling the %s (pid %d): %w", what, pid, err)
	}
	fmt.Printf("injected %s: %s of %s (pid %d) sent %s\n", fault, what, id, pid, unix.SignalName(sig))
	return nil
}

// injectCrash sends SIGSEGV to a process of the container: target is a
// PID, a command name, or empty for the main process (the first child of
// athena init, or PID 1 without it).
func injectCrash(id, target string) error {
	c, err := loadRunscContainer(id)
	if err != nil {
		return err
	}
	procs, err := c.Processes()
	if err != nil {
		return fmt.Errorf("listing the processes of %s: %w", id, err)
	}
	var pid int32 = -1
	if n, err := strconv.Atoi(target); err == nil {
		pid = int32(n)
	} else {
		args := c.Spec.Process.Args
		initIsAthena := len(args) > 0 && args[0] == athenaInitPath
		match := func(p *control.Process) bool { return p.PID == 1 }
		switch {
		case target != "":
			match = func(p *control.Process) bool { return p.Cmd == target && !(initIsAthena && p.PID == 1) }
		case initIsAthena:
			// The main process is athena init's child running the
			// command after its "--".
			main := mainCommand(args)
			match = func(p *control.Process) bool { return p.PPID == 1 && p.Cmd == main }
		}
		for _, p := range procs {
			if match(p) && (pid < 0 || int32(p.PID) < pid) {
				pid = int32(p.PID)
			}
		}
	}
	if pid <= 0 {
		if target == "" {
			return fmt.Errorf("container %s has no main process to crash", id)
		}
		return fmt.Errorf("container %s has no process %q", id, target)
	}
	if err := c.SignalProcess(unix.SIGSEGV, pid); err != nil {
		return fmt.Errorf("sending SIGSEGV to pid %d of %s: %w", pid, id, err)
	}
	fmt.Printf("injected %s: pid %d of %s sent SIGSEGV\n", faultCrashProcess, pid, id)
	return nil
}

// mainCommand returns the command name (as ps shows it: the base name, at
// most 15 bytes) of the main process athena init runs, from the
// container's process arguments.
func mainCommand(args []string) string {
	for i, a := range args {
		if a == "--" && i+1 < len(args) {
			name := filepath.Base(args[i+1])
			if len(name) > 15 {
				name = name[:15]
			}
			return name
		}
	}
	return ""
}
