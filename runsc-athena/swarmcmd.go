package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/subcommands"

	"github.com/athenaos/athena/internal/atomicfile"
	"github.com/athenaos/athena/sentry"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/syscalls"
)

// swarmCmd is "runsc-athena swarm VERB ...": the host side's view of and
// say over running sandboxes.
type swarmCmd struct{}

func (*swarmCmd) Name() string { return "swarm" }
func (*swarmCmd) Synopsis() string {
	return "AthenaOS: decisions, status and live policy of containers"
}
func (*swarmCmd) Usage() string {
	return `swarm VERB [flags] ID ...

  swarm events [-f] [--text] ID       print the container's decision record (JSON lines);
                                      -f follows it until the container is deleted
  swarm status [--json] [--interval D] ID
                                      the sandbox's counters, agents, rings and models;
                                      --interval adds event, drop and decision rates;
                                      --json prints the status file as JSON
  swarm top [--interval D] [--once | -n N] [ID ...]
                                      every running container (or those named), refreshing
  swarm explain [--json] DECISION_ID  why the swarm decided: votes, evidence, gate records
  swarm metrics [--listen ADDR] [ID ...]
                                      Prometheus metrics (text format), once or served
                                      on ADDR at /metrics
  swarm tolerize ID PID               accept thread group PID's recent behaviour into the
                                      container's sense-of-self model (no relearning)
  swarm inject ID FAULT [TARGET]      rehearse a fault (docs/healer.md):
                                      agent-panic AGENT (the agent's next step panics; its
                                      supervisor restarts it), agent-stop AGENT (stopped for
                                      good), AGENT a name from swarm status;
                                      kill-sandbox, kill-gofer (SIGKILL to the sandbox or
                                      file-server process), hang-sandbox (SIGSTOP to the
                                      sandbox: the keeper's watchdog sees it hang);
                                      crash-process [PID|NAME] (SIGSEGV; default: the
                                      container's main process)
  swarm policy set [--mode M] ID FILE check FILE and make it the running container's policy
  swarm policy show ID                print the policy the container runs under
  swarm profile export [-o FILE] [--deny ACTION] ID
                                      print the policy learned from the container's record
                                      (run it in learn mode first)
  swarm profile list [--json]         the workloads long memory holds: runs, model, label
  swarm profile export [-o FILE] WORKLOAD
                                      write a workload's memory (wl-...) as a profile bundle (JSON)
  swarm profile import [--workload WORKLOAD] FILE
                                      check a profile bundle and make it the workload's memory
  swarm profile rm WORKLOAD           forget a workload

The global flag --athena-events-dir must match the one the container was
created with (default ` + defaultEventsDir + `); --athena-memory-db names the
long-memory database (default ` + defaultMemoryDB + `).
`
}
func (*swarmCmd) SetFlags(*flag.FlagSet) {}

func (*swarmCmd) Execute(ctx context.Context, f *flag.FlagSet, _ ...any) subcommands.ExitStatus {
	args := f.Args()
	verb := strings.Join(args[:min(len(args), 2)], " ")
	var err error
	switch {
	case len(args) == 0:
		err = errors.New("missing verb")
	case args[0] == "events":
		err = swarmEvents(ctx, args[1:])
	case args[0] == "status":
		err = swarmStatus(args[1:])
	case args[0] == "top":
		err = swarmTop(ctx, args[1:])
	case args[0] == "tolerize":
		err = swarmTolerize(args[1:])
	case args[0] == "inject":
		err = swarmInject(args[1:])
	case args[0] == "explain":
		err = swarmExplain(args[1:])
	case args[0] == "metrics":
		err = swarmMetrics(ctx, args[1:])
	case verb == "policy set":
		err = swarmPolicySet(args[2:])
	case verb == "policy show":
		err = swarmPolicyShow(args[2:])
	case verb == "profile export":
		err = swarmProfileExportAny(args[2:])
	case verb == "profile import":
		err = swarmProfileImport(args[2:])
	case verb == "profile list":
		err = swarmProfileList(args[2:])
	case verb == "profile rm":
		err = swarmProfileRm(args[2:])
	default:
		err = fmt.Errorf("unknown verb %q", verb)
	}
	if err == nil {
		return subcommands.ExitSuccess
	}
	fmt.Fprintf(os.Stderr, "runsc-athena swarm: %v\n", err)
	if errors.Is(err, errUsage) {
		fmt.Fprint(os.Stderr, (&swarmCmd{}).Usage())
		return subcommands.ExitUsageError
	}
	return subcommands.ExitFailure
}

var errUsage = errors.New("usage")

// verbFlags parses a verb's flags, which may come before, after or
// between its positional arguments ("--" ends the flags), checks the
// count of positional arguments (nargs < 0: any) and returns them.
func verbFlags(name string, args []string, nargs int, set func(*flag.FlagSet)) ([]string, error) {
	fs := flag.NewFlagSet("swarm "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if set != nil {
		set(fs)
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, fmt.Errorf("%s: %v: %w", name, err, errUsage)
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	if nargs >= 0 && len(pos) != nargs {
		return nil, fmt.Errorf("%s wants %d argument(s), got %d: %w", name, nargs, len(pos), errUsage)
	}
	for _, a := range pos {
		if a == "" {
			return nil, fmt.Errorf("%s: empty argument: %w", name, errUsage)
		}
	}
	return pos, nil
}

// knownContainer checks that the host side has the link of container id
// (it was created by this runtime and not deleted), or at least its record.
func knownContainer(id string) (running bool, err error) {
	files := linkFiles(id)
	if _, err := os.Stat(files.Control); err == nil {
		return true, nil
	}
	if _, err := os.Stat(files.Events); err == nil {
		return false, nil
	}
	return false, fmt.Errorf("no container %q: no decision record in %s (wrong --athena-events-dir?)", id, *eventsDirFlag)
}

// swarmEvents prints a container's record; with -f it follows new lines
// until the container is deleted (its control FIFO disappears) or the
// command is interrupted.
func swarmEvents(ctx context.Context, args []string) error {
	var follow, text bool
	pos, err := verbFlags("events", args, 1, func(fs *flag.FlagSet) {
		fs.BoolVar(&follow, "f", false, "follow the record")
		fs.BoolVar(&follow, "follow", false, "follow the record")
		fs.BoolVar(&text, "text", false, "one line of text per decision instead of JSON")
	})
	if err != nil {
		return err
	}
	id := pos[0]
	if _, err := knownContainer(id); err != nil {
		return err
	}
	// A pod container's decisions are in its sandbox's record, among its
	// siblings'.
	only := ""
	if sandboxOf(id) != id {
		only = id
	}
	files := linkFiles(id)
	f, err := os.Open(files.Events)
	if err != nil {
		return err
	}
	defer f.Close()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	r := bufio.NewReaderSize(f, 64<<10)
	var partial []byte
	for {
		line, err := r.ReadBytes('\n')
		if err == nil {
			line = append(partial, line...)
			partial = nil
			printRecordLine(out, line, text, only)
			continue
		}
		if !errors.Is(err, io.EOF) {
			return err
		}
		partial = append(partial, line...) // a line still being written
		if !follow {
			return nil
		}
		out.Flush()
		if _, err := os.Stat(files.Control); err != nil {
			return nil // deleted: nothing more will come
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// printRecordLine prints one line of a record, as JSON or as text, if it
// concerns container only (all lines if only is empty). A line that is not
// JSON (cut by a full disk) is skipped with a note.
func printRecordLine(w io.Writer, line []byte, text bool, only string) {
	line = bytes.TrimRight(line, "\n")
	if len(line) == 0 {
		return
	}
	if !json.Valid(line) {
		fmt.Fprintf(os.Stderr, "runsc-athena swarm events: skipping a cut record line (%d bytes)\n", len(line))
		return
	}
	if only != "" {
		var head struct{ Container string }
		if json.Unmarshal(line, &head) == nil && head.Container != only {
			return
		}
	}
	if !text {
		fmt.Fprintf(w, "%s\n", line)
		return
	}
	d, err := syscalls.ParseDecision(line)
	if err != nil || d.Type != "decision" {
		fmt.Fprintf(w, "%s\n", line)
		return
	}
	what := d.Path
	if d.Net != nil {
		what = d.Net.Op + " " + d.Net.Protocol + " " + d.Net.Endpoint
	}
	fmt.Fprintf(w, "%s pid=%d comm=%s %s %s -> %s (intended %s, rule %q, mode %s)\n",
		d.Time.Format(time.RFC3339Nano), d.PID, d.Comm, d.Syscall, what, d.Action, d.Intended, d.Rule, d.Mode)
}

// swarmPolicyShow prints the stored policy of a container.
func swarmPolicyShow(args []string) error {
	pos, err := verbFlags("policy show", args, 1, nil)
	if err != nil {
		return err
	}
	if _, err := knownContainer(pos[0]); err != nil {
		return err
	}
	p, err := loadStoredPolicy(pos[0])
	if err != nil {
		return err
	}
	text, err := policy.Marshal(p)
	if err != nil {
		return err
	}
	os.Stdout.Write(text)
	return nil
}

// policyAnswerTimeout bounds the wait for the sandbox to answer a policy.
const policyAnswerTimeout = 10 * time.Second

// swarmPolicySet checks a policy file and sends it to a running container;
// it returns when the sandbox has applied (or refused) it. The stored
// policy follows, so a restore from a checkpoint runs under it too.
func swarmPolicySet(args []string) error {
	var mode string
	pos, err := verbFlags("policy set", args, 2, func(fs *flag.FlagSet) {
		fs.StringVar(&mode, "mode", "", "learn, observe or enforce (default: the file's mode)")
	})
	if err != nil {
		return err
	}
	id, file := pos[0], pos[1]
	p, err := policy.ParseFile(file)
	if err != nil {
		return err
	}
	if err := setMode(p, mode); err != nil {
		return err
	}
	text, err := checkedText(p)
	if err != nil {
		return err
	}
	running, err := knownContainer(id)
	if err != nil {
		return err
	}
	if !running {
		return fmt.Errorf("container %q is not running", id)
	}
	digest := sentry.PolicyDigest(text)
	abs, _ := filepath.Abs(file)
	if err := sendPolicy(sandboxOf(id), id, abs, text, digest, sentry.OCIResources{}); err != nil {
		return err
	}
	// Store the text the sandbox checked, under the name it reports.
	if err := atomicfile.WriteFile(policyPath(id), text, 0o644); err != nil {
		return fmt.Errorf("policy applied, but storing it for restores failed: %w", err)
	}
	fmt.Printf("policy of %s replaced (%s, mode %s, sha256 %s)\n", id, file, p.Mode, digest[:12])
	return nil
}

// sendPolicy writes the policy of container id to the control FIFO of
// sandbox (id's, or the sandbox it joined) and waits for the sandbox's
// answer in its record.
func sendPolicy(sandbox, id, name string, text []byte, digest string, cpu sentry.OCIResources) error {
	ans, err := sendControl(sandbox, sentry.EncodePolicyMessage(id, name, text, cpu), func(a controlAnswer) bool {
		return a.Type == "policy" && a.Digest == digest && a.Container == id
	})
	if err != nil {
		return fmt.Errorf("%w; the policy may still apply (see swarm status)", err)
	}
	if ans.Status != "applied" {
		return fmt.Errorf("the sandbox refused the policy: %s", ans.Error)
	}
	return nil
}

// swarmProfileExport builds the learned policy from a container's record.
func swarmProfileExport(args []string) error {
	var output, deny string
	pos, err := verbFlags("profile export", args, 1, func(fs *flag.FlagSet) {
		fs.StringVar(&output, "o", "", "write the profile to this file (default: standard output)")
		fs.StringVar(&deny, "deny", "errno(EPERM)", "action for what was not learned: errno(NAME), kill or log")
	})
	if err != nil {
		return err
	}
	id := pos[0]
	denyAction, err := policy.ParseAction(deny)
	if err != nil {
		return fmt.Errorf("--deny: %w", err)
	}
	if _, err := knownContainer(id); err != nil {
		return err
	}
	prof := syscalls.NewProfile()
	st, err := learnFromRecord(prof, linkFiles(id).Events, 0)
	if err != nil {
		return err
	}
	learning := st.learning
	if learning == 0 {
		return fmt.Errorf("the record of %s holds no learn-mode decisions: run the container with --athena-mode=learn (or annotation dev.athena.mode=learn) first", id)
	}
	if st.lost > 0 || st.cut > 0 {
		fmt.Fprintf(os.Stderr, "runsc-athena swarm: warning: %d records were lost and %d lines cut while learning; the profile may miss behaviour\n", st.lost, st.cut)
	}
	p, err := prof.Policy(denyAction)
	if err != nil {
		return err
	}
	text, err := policy.Marshal(p)
	if err != nil {
		return err
	}
	header := fmt.Sprintf("# Learned by runsc-athena from container %s (%d decisions in learn mode).\n", id, learning)
	text = append([]byte(header), text...)
	if output == "" {
		_, err = os.Stdout.Write(text)
		return err
	}
	return atomicfile.WriteFile(output, text, 0o644)
}
