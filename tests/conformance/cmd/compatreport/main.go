package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/athenaos/athena/internal/atomicfile"
	"github.com/athenaos/athena/tests/internal/results"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compatreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		root       = fs.String("root", "", "repository root (default: found by walking up from the working directory)")
		resultsDir = fs.String("results", "", "directory with syscalls.json, gostd.json, oci.json (default: tests/conformance/results)")
		out        = fs.String("out", "", "report to write (default: docs/compat.md); - for stdout")
		date       = fs.String("date", "", "date printed in the report (default: today, UTC)")
		gvisor     = fs.String("gvisor-version", "", "gVisor version printed in the report (default: from go list -m gvisor.dev/gvisor)")
	)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "compatreport:", err)
		return 1
	}
	dir := *root
	if dir == "" {
		var err error
		if dir, err = findRoot(); err != nil {
			return fail(err)
		}
	}
	if *resultsDir == "" {
		*resultsDir = filepath.Join(dir, "tests", "conformance", "results")
	}
	if *out == "" {
		*out = filepath.Join(dir, "docs", "compat.md")
	}
	if *date == "" {
		*date = time.Now().UTC().Format("2006-01-02")
	}
	if *gvisor == "" {
		v, err := gvisorVersion(dir)
		if err != nil {
			return fail(err)
		}
		*gvisor = v
	}
	in := input{Date: *date, GVisorVersion: *gvisor}
	var err error
	if in.Syscalls, err = results.LoadSyscalls(filepath.Join(*resultsDir, "syscalls.json")); err != nil {
		return fail(err)
	}
	if in.GoStd, err = results.LoadGoStd(filepath.Join(*resultsDir, "gostd.json")); err != nil {
		return fail(err)
	}
	if in.OCI, err = results.LoadOCI(filepath.Join(*resultsDir, "oci.json")); err != nil {
		return fail(err)
	}
	text := render(in)
	if *out == "-" {
		_, err = io.WriteString(stdout, text)
	} else {
		err = writeAtomic(*out, []byte(text))
		if err == nil {
			fmt.Fprintf(stdout, "compatreport: wrote %s\n", *out)
		}
	}
	if err != nil {
		return fail(err)
	}
	return 0
}

// gvisorVersion asks the Go toolchain which gVisor the module builds with:
// the report must name the version the sandboxes were built from.
func gvisorVersion(root string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "gvisor.dev/gvisor")
	cmd.Dir = root
	outb, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list -m gvisor.dev/gvisor: %v", err)
	}
	f := strings.Fields(string(outb))
	if len(f) < 2 {
		return "", fmt.Errorf("go list -m gvisor.dev/gvisor: unexpected output %q", outb)
	}
	return f[len(f)-1], nil
}

func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if st, err := os.Stat(filepath.Join(dir, "tests", "conformance")); err == nil && st.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find tests/conformance above the working directory; pass -root")
		}
		dir = parent
	}
}

func writeAtomic(path string, data []byte) error {
	return atomicfile.WriteFile(path, data, 0o644)
}
