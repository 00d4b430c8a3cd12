package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/athenaos/athena/internal/atomicfile"
	"github.com/athenaos/athena/swarm/memory"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/selfmodel"
	"github.com/athenaos/athena/syscalls"
)

// "swarm profile list|export|import|rm": long memory from the command line
// (docs/memory.md).

// bundleFormat is the format of a profile bundle, the file "swarm profile
// export WORKLOAD" writes and "swarm profile import" reads.
const bundleFormat = "athena-profile/1"

// cliTimeout bounds a swarm command's wait for the database's lock.
var cliTimeout = 5 * time.Second

// profileBundle is a workload's memory as a file.
type profileBundle struct {
	Format   string    `json:"format"`
	Workload string    `json:"workload"`
	Label    string    `json:"label"`
	Runs     int       `json:"runs"`
	Updated  time.Time `json:"updated"`
	// Policy is the learned policy (YAML), or "".
	Policy string `json:"policy"`
	// Model is the base64 of the sense-of-self model's encoding, or "".
	Model string `json:"model"`
}

// openMemory opens the database for a swarm command. A read-only open of
// a database that does not exist yet returns (nil, nil): nothing is
// remembered.
func openMemory(readOnly bool) (*memory.Store, error) {
	s, err := memory.Open(*memoryDBFlag, memory.Options{ReadOnly: readOnly, Timeout: cliTimeout})
	if readOnly && errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, storeError(*memoryDBFlag, err)
	}
	return s, nil
}

func noWorkload(wl string) error {
	return fmt.Errorf("no workload %q in %s (see swarm profile list)", wl, *memoryDBFlag)
}

// storedWorkload reads a workload's record and data.
func storedWorkload(s *memory.Store, wl string) (memory.Record, workloadData, error) {
	if s == nil {
		return memory.Record{}, workloadData{}, noWorkload(wl)
	}
	r, err := s.Get(workloadKind, wl)
	if errors.Is(err, memory.ErrNotFound) {
		return r, workloadData{}, noWorkload(wl)
	}
	if err != nil {
		return r, workloadData{}, err
	}
	d, err := decodeWorkloadData(r.Data)
	if err != nil {
		return r, d, fmt.Errorf("workload %s: %w", wl, err)
	}
	return r, d, nil
}

// workloadSummary is one row of "swarm profile list".
type workloadSummary struct {
	Workload string    `json:"workload"`
	Label    string    `json:"label"`
	Runs     int       `json:"runs"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	Source   string    `json:"source,omitempty"`
	Policy   bool      `json:"policy"`
	// Model is whether a model is stored; Windows, Pairs and Stable
	// describe it (Stable: quiet for selfmodel.DefaultStableAfter
	// windows).
	Model   bool   `json:"model"`
	Windows uint64 `json:"windows"`
	Pairs   int    `json:"pairs"`
	Stable  bool   `json:"stable"`
	Error   string `json:"error,omitempty"`
}

func summarize(r memory.Record, d workloadData, err error) workloadSummary {
	w := workloadSummary{Workload: r.Key, Label: d.Label, Runs: r.Runs, Created: r.Created, Updated: r.Updated, Source: r.Source, Policy: d.Policy != ""}
	if err != nil {
		w.Error = err.Error()
		return w
	}
	if len(d.Model) > 0 {
		var m selfmodel.Model
		if err := m.UnmarshalBinary(d.Model); err != nil {
			w.Error = "stored model: " + err.Error()
			return w
		}
		w.Model, w.Windows, w.Pairs, w.Stable = true, m.Windows(), m.Pairs(), m.Stable(selfmodel.DefaultStableAfter)
	}
	return w
}

// listWorkloads summarizes every workload in s (nil: none).
func listWorkloads(s *memory.Store) ([]workloadSummary, error) {
	out := []workloadSummary{}
	if s == nil {
		return out, nil
	}
	rs, err := s.List(workloadKind)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		r, d, err := storedWorkload(s, r.Key)
		if errors.Is(err, memory.ErrNotFound) {
			continue // removed meanwhile
		}
		out = append(out, summarize(r, d, err))
	}
	return out, nil
}

// swarmProfileList prints the workloads of the database.
func swarmProfileList(args []string) error {
	var asJSON bool
	if _, err := verbFlags("profile list", args, 0, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}); err != nil {
		return err
	}
	s, err := openMemory(true)
	if err != nil {
		return err
	}
	if s != nil {
		defer s.Close()
	}
	ws, err := listWorkloads(s)
	if err != nil {
		return err
	}
	if asJSON {
		out, _ := json.MarshalIndent(ws, "", "  ")
		fmt.Printf("%s\n", out)
		return nil
	}
	return printWorkloads(os.Stdout, ws)
}

func printWorkloads(w io.Writer, ws []workloadSummary) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKLOAD\tRUNS\tWINDOWS\tPAIRS\tSTABLE\tPOLICY\tUPDATED\tLABEL")
	yesNo := map[bool]string{true: "yes", false: "no"}
	for _, s := range ws {
		windows, pairs, stable := "-", "-", "-"
		if s.Model {
			windows, pairs, stable = strconv.FormatUint(s.Windows, 10), strconv.Itoa(s.Pairs), yesNo[s.Stable]
		}
		// One line per workload, whatever an imported label holds.
		label := strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, s.Label)
		if s.Error != "" {
			label = "(" + s.Error + ") " + label
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Workload, s.Runs, windows, pairs, stable, yesNo[s.Policy],
			s.Updated.UTC().Format(time.RFC3339), label)
	}
	return tw.Flush()
}

// swarmProfileExportAny exports a stored workload (wl-...) as a bundle,
// and leaves anything else to swarmProfileExport (a container's learned
// policy).
func swarmProfileExportAny(args []string) error {
	var output, deny string
	denySet := false
	pos, err := verbFlags("profile export", args, 1, func(fs *flag.FlagSet) {
		fs.StringVar(&output, "o", "", "write to this file (default: standard output)")
		fs.Func("deny", "for a container: action for what was not learned", func(v string) error {
			deny, denySet = v, true
			return nil
		})
	})
	if err != nil {
		return err
	}
	if !isWorkloadID(pos[0]) {
		rest := []string{"-o", output}
		if denySet {
			rest = append(rest, "--deny", deny)
		}
		return swarmProfileExport(append(rest, pos[0]))
	}
	if denySet {
		return fmt.Errorf("profile export: --deny applies to a container's record, not to a workload's bundle: %w", errUsage)
	}
	s, err := openMemory(true)
	if err != nil {
		return err
	}
	if s != nil {
		defer s.Close()
	}
	r, d, err := storedWorkload(s, pos[0])
	if err != nil {
		return err
	}
	data := encodeBundle(r, d)
	if output == "" {
		_, err = os.Stdout.Write(data)
		return err
	}
	return atomicfile.WriteFile(output, data, 0o600)
}

// encodeBundle returns the bundle of a stored workload.
func encodeBundle(r memory.Record, d workloadData) []byte {
	b := profileBundle{Format: bundleFormat, Workload: r.Key, Label: d.Label, Runs: r.Runs, Updated: r.Updated.UTC(), Policy: d.Policy}
	if len(d.Model) > 0 {
		b.Model = base64.StdEncoding.EncodeToString(d.Model)
	}
	out, _ := json.MarshalIndent(b, "", "  ")
	return append(out, '\n')
}

// parseBundle reads and checks a bundle: its format, workload ID (or the
// override's), label, runs, policy (it must parse and compile) and model
// (it must decode). It returns the data to store, and warnings.
func parseBundle(data []byte, workloadOverride string) (profileBundle, workloadData, []string, error) {
	var b profileBundle
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, workloadData{}, nil, fmt.Errorf("not a profile bundle: %w", err)
	}
	if dec.More() {
		return b, workloadData{}, nil, errors.New("not a profile bundle: data after the JSON document")
	}
	if b.Format != bundleFormat {
		return b, workloadData{}, nil, fmt.Errorf("bundle format %q: this build reads %q", b.Format, bundleFormat)
	}
	if workloadOverride != "" {
		b.Workload = workloadOverride
	}
	switch {
	case !isWorkloadID(b.Workload):
		return b, workloadData{}, nil, fmt.Errorf("workload %q: want wl- and 16 lowercase hex digits", b.Workload)
	case b.Runs < 0:
		return b, workloadData{}, nil, fmt.Errorf("runs %d: negative", b.Runs)
	case len(b.Label) > 1024 || !utf8.ValidString(b.Label):
		return b, workloadData{}, nil, errors.New("label: longer than 1024 bytes or not UTF-8")
	}
	d := workloadData{Label: b.Label, Policy: b.Policy}
	var warnings []string
	if b.Policy != "" {
		p, err := policy.Parse("bundle policy", []byte(b.Policy))
		if err != nil {
			return b, d, nil, fmt.Errorf("the bundle's policy: %w", err)
		}
		if _, err := syscalls.Compile(p); err != nil {
			return b, d, nil, fmt.Errorf("the bundle's policy does not compile: %w", err)
		}
		if _, err := syscalls.ProfileFromPolicy(p); err != nil {
			warnings = append(warnings, fmt.Sprintf("the bundle's policy is not a learned profile (%v): later learn-mode runs of the workload will not add to it", err))
		}
	}
	if b.Model != "" {
		raw, err := base64.StdEncoding.DecodeString(b.Model)
		if err != nil {
			return b, d, nil, fmt.Errorf("the bundle's model is not base64: %w", err)
		}
		var m selfmodel.Model
		if err := m.UnmarshalBinary(raw); err != nil {
			return b, d, nil, fmt.Errorf("the bundle's model: %w", err)
		}
		d.Model = raw
	}
	return b, d, warnings, nil
}

// swarmProfileImport makes a bundle the memory of its workload, replacing
// what was stored.
func swarmProfileImport(args []string) error {
	var override string
	pos, err := verbFlags("profile import", args, 1, func(fs *flag.FlagSet) {
		fs.StringVar(&override, "workload", "", "store under this workload instead of the bundle's")
	})
	if err != nil {
		return err
	}
	file := pos[0]
	var data []byte
	if file == "-" {
		data, err = io.ReadAll(io.LimitReader(os.Stdin, 4*memory.MaxDataLen))
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return err
	}
	b, d, warnings, err := parseBundle(data, override)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	for _, w := range warnings {
		fmt.Fprintf(os.Stderr, "runsc-athena swarm: warning: %s: %s\n", file, w)
	}
	s, err := openMemory(false)
	if err != nil {
		return err
	}
	defer s.Close()
	source := "import " + file
	if len(source) > memory.MaxSourceLen {
		source = source[:memory.MaxSourceLen]
	}
	if err := s.Put(memory.Record{Kind: workloadKind, Key: b.Workload, Data: d.encode(), Runs: b.Runs, Source: source}); err != nil {
		return err
	}
	fmt.Printf("imported workload %s (%s): %d runs, policy %t, model %t\n", b.Workload, b.Label, b.Runs, d.Policy != "", len(d.Model) > 0)
	return nil
}

// swarmProfileRm forgets a workload.
func swarmProfileRm(args []string) error {
	pos, err := verbFlags("profile rm", args, 1, nil)
	if err != nil {
		return err
	}
	if !isWorkloadID(pos[0]) {
		return fmt.Errorf("%q is not a workload ID (wl- and 16 hex digits; see swarm profile list)", pos[0])
	}
	if _, err := os.Stat(*memoryDBFlag); errors.Is(err, fs.ErrNotExist) {
		return noWorkload(pos[0])
	}
	s, err := openMemory(false)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Delete(workloadKind, pos[0]); errors.Is(err, memory.ErrNotFound) {
		return noWorkload(pos[0])
	} else if err != nil {
		return err
	}
	fmt.Printf("removed workload %s\n", pos[0])
	return nil
}
