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
	"golang.org/x/sys/unix"

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
  swarm status ID                     print the sandbox's counters (JSON)
  swarm policy set [--mode M] ID FILE check FILE and make it the running container's policy
  swarm policy show ID                print the policy the container runs under
  swarm profile export [-o FILE] [--deny ACTION] ID
                                      print the policy learned from the container's record
                                      (run it in learn mode first)

The global flag --athena-events-dir must match the one the container was
created with (default ` + defaultEventsDir + `).
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
	case verb == "policy set":
		err = swarmPolicySet(args[2:])
	case verb == "policy show":
		err = swarmPolicyShow(args[2:])
	case verb == "profile export":
		err = swarmProfileExport(args[2:])
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

// verbFlags parses a verb's flags and checks the count of positional
// arguments.
func verbFlags(name string, args []string, nargs int, set func(*flag.FlagSet)) ([]string, error) {
	fs := flag.NewFlagSet("swarm "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if set != nil {
		set(fs)
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%s: %v: %w", name, err, errUsage)
	}
	if fs.NArg() != nargs {
		return nil, fmt.Errorf("%s wants %d argument(s), got %d: %w", name, nargs, fs.NArg(), errUsage)
	}
	for _, a := range fs.Args() {
		if a == "" {
			return nil, fmt.Errorf("%s: empty argument: %w", name, errUsage)
		}
	}
	return fs.Args(), nil
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

// swarmStatus prints the status file of a container.
func swarmStatus(args []string) error {
	pos, err := verbFlags("status", args, 1, nil)
	if err != nil {
		return err
	}
	running, err := knownContainer(pos[0])
	if err != nil {
		return err
	}
	if !running {
		return fmt.Errorf("container %q is deleted; its record is %s", pos[0], linkFiles(pos[0]).Events)
	}
	data, err := os.ReadFile(linkFiles(pos[0]).Status)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("container %q has not reported a status yet (is it started?)", pos[0])
	}
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		return fmt.Errorf("status file %s: %v", linkFiles(pos[0]).Status, err)
	}
	v["link"] = linkFiles(pos[0])
	out, _ := json.MarshalIndent(v, "", "  ")
	fmt.Printf("%s\n", out)
	return nil
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
	if err := sendPolicy(sandboxOf(id), id, abs, text, digest); err != nil {
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
func sendPolicy(sandbox, id, name string, text []byte, digest string) error {
	files := linkFiles(sandbox)
	lock, err := os.OpenFile(controlLock(sandbox), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	rec, err := os.Open(files.Events)
	if err != nil {
		return err
	}
	defer rec.Close()
	if _, err := rec.Seek(0, io.SeekEnd); err != nil {
		return err
	}
	// Non-blocking open: ENXIO means no sandbox holds the FIFO.
	fd, err := unix.Open(files.Control, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENXIO) {
		return fmt.Errorf("container %q is not running (no sandbox on %s)", sandbox, files.Control)
	}
	if err != nil {
		return err
	}
	ctl := os.NewFile(uintptr(fd), files.Control)
	defer ctl.Close()
	ctl.SetWriteDeadline(time.Now().Add(policyAnswerTimeout))
	if _, err := ctl.Write(sentry.EncodePolicyMessage(id, name, text)); err != nil {
		return fmt.Errorf("sending the policy to %s: %w", id, err)
	}
	deadline := time.Now().Add(policyAnswerTimeout)
	r := bufio.NewReader(rec)
	var partial []byte
	for time.Now().Before(deadline) {
		line, err := r.ReadBytes('\n')
		if errors.Is(err, io.EOF) {
			partial = append(partial, line...)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if err != nil {
			return err
		}
		line = append(partial, line...)
		partial = nil
		var ans struct {
			Type, Status, Error, Container string
			Digest                         string `json:"policy_digest"`
		}
		if json.Unmarshal(line, &ans) != nil || ans.Type != "policy" || ans.Digest != digest || ans.Container != id {
			continue
		}
		if ans.Status != "applied" {
			return fmt.Errorf("the sandbox refused the policy: %s", ans.Error)
		}
		return nil
	}
	return fmt.Errorf("no answer from the sandbox %s within %v; the policy may still apply (see swarm status)", sandbox, policyAnswerTimeout)
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
	f, err := os.Open(linkFiles(id).Events)
	if err != nil {
		return err
	}
	defer f.Close()
	prof := syscalls.NewProfile()
	var decisions, learning, lost, cut int
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !json.Valid(line) {
			cut++
			continue
		}
		var head struct {
			Type    string
			Records int
			Mode    string
		}
		json.Unmarshal(line, &head)
		switch head.Type {
		case "lost", "dropped":
			lost += head.Records
			continue
		case "decision":
		default:
			continue
		}
		d, err := syscalls.ParseDecision(line)
		if err != nil {
			cut++
			continue
		}
		decisions++
		if d.Mode == "learn" {
			learning++
		}
		prof.ObserveDecision(&d)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if learning == 0 {
		return fmt.Errorf("the record of %s holds no learn-mode decisions: run the container with --athena-mode=learn (or annotation dev.athena.mode=learn) first", id)
	}
	if lost > 0 || cut > 0 {
		fmt.Fprintf(os.Stderr, "runsc-athena swarm: warning: %d records were lost and %d lines cut while learning; the profile may miss behaviour\n", lost, cut)
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
