package main

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"

	"gvisor.dev/gvisor/runsc/config"
	"gvisor.dev/gvisor/runsc/specutils"
)

// athenaVersion is set at build time with
// -ldflags "-X main.athenaVersion=...". The Makefile derives it from git.
var athenaVersion = "0.0.0-dev"

const gvisorModule = "gvisor.dev/gvisor"

// gvisorVersion reports the gVisor module version this binary was built
// from, read from the build info the Go linker embeds.
func gvisorVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == gvisorModule {
				if dep.Replace != nil {
					return dep.Replace.Version + " (replaced)"
				}
				return dep.Version
			}
		}
	}
	return "unknown"
}

// printVersion prints the version in runc's format (first line
// "<name> version <v>", then "spec: <v>"), with the gVisor version between.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "runsc-athena version %s\n", athenaVersion)
	fmt.Fprintf(w, "gvisor: %s %s\n", gvisorModule, gvisorVersion())
	fmt.Fprintf(w, "spec: %s\n", specutils.Version)
}

// wantsVersion reports whether the global flags (those before the
// subcommand) ask for the version. It parses them with the same flag
// definitions runsc uses, so "runsc-athena exec c echo --version" is not
// mistaken for a version request, while "runsc-athena --root=/x --version"
// is.
func wantsVersion(args []string) bool {
	fs := flag.NewFlagSet("runsc-athena", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	config.RegisterFlags(fs)
	// Flags that runsc's cli package defines on the global flag set.
	flag.CommandLine.VisitAll(func(f *flag.Flag) {
		if fs.Lookup(f.Name) == nil {
			fs.Var(discardValue{f.Value}, f.Name, f.Usage)
		}
	})
	version := fs.Bool("version", false, "")
	fs.Bool("help", false, "")
	fs.Bool("h", false, "")
	if err := fs.Parse(args); err != nil {
		return false
	}
	return *version
}

// discardValue lets wantsVersion parse flags defined elsewhere without
// changing their values: runsc parses the same arguments again later.
type discardValue struct{ flag.Value }

func (d discardValue) Set(string) error { return nil }

// IsBoolFlag keeps "-flag" without "=value" valid for boolean flags.
func (d discardValue) IsBoolFlag() bool {
	b, ok := d.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
