package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

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

// parseGlobalFlags parses the global flags (those before the subcommand)
// with the same definitions runsc uses, before runsc does, for two reasons:
// to answer --version with athena's version, and to report a bad global flag
// where the caller will look for it. It returns wantVersion for
// "runsc-athena [flags] --version" (but not for
// "runsc-athena exec c echo --version").
//
// platformSet reports whether the arguments choose a platform: without
// one, runsc-athena runs on the athena platform (sentry.PlatformName),
// not on runsc's default.
func parseGlobalFlags(args []string) (wantVersion, platformSet bool, err error) {
	fs := globalFlagSet()
	version := fs.Lookup("version").Value.(flag.Getter)
	if err := fs.Parse(args); err != nil {
		return false, false, err
	}
	fs.Visit(func(f *flag.Flag) { platformSet = platformSet || f.Name == "platform" })
	return version.Get().(bool), platformSet, nil
}

// globalFlagValue returns the value of global flag name in args ("" if
// unset or unparsable: runsc reports bad flags itself).
func globalFlagValue(args []string, name string) string {
	fs := globalFlagSet()
	if fs.Parse(args) != nil {
		return ""
	}
	return fs.Lookup(name).Value.String()
}

// globalFlagSet returns a flag set with runsc's global flags, whose values
// are not shared with runsc's own.
func globalFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("runsc-athena", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	config.RegisterFlags(fs)
	// Flags that runsc's cli package defines on the global flag set.
	flag.CommandLine.VisitAll(func(f *flag.Flag) {
		switch {
		case fs.Lookup(f.Name) != nil:
		case strings.HasPrefix(f.Name, "athena-"):
			// AthenaOS's own flags are needed before runsc runs (to
			// resolve a policy at create), so this parse sets them.
			fs.Var(f.Value, f.Name, f.Usage)
		default:
			fs.Var(discardValue{f.Value}, f.Name, f.Usage)
		}
	})
	fs.Bool("version", false, "")
	fs.Bool("help", false, "")
	fs.Bool("h", false, "")
	return fs
}

// isBoolFlag reports whether a global flag takes no separate value.
func isBoolFlag(fs *flag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	if f == nil {
		// Unknown: assume "-name" alone, the common shape of a typo.
		return true
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// reportGlobalFlagError reports a bad global flag and exits 1. runsc would
// print the error and usage on stderr and exit 2, but containerd's shim
// discards the runtime's stderr and reads its error from the --log file
// (JSON lines, as runc writes them): without this, Docker shows only
// "unable to retrieve OCI runtime error". So the error goes to both.
func reportGlobalFlagError(args []string, err error) {
	reportEarlyError(args, fmt.Sprintf("invalid global flag: %v (see \"runsc-athena flags\")", err))
}

// reportEarlyError reports an error found before runsc runs (a bad flag, a
// bad policy) on stderr and in the --log file, and exits 1.
func reportEarlyError(args []string, text string) {
	msg := "runsc-athena: " + text
	fmt.Fprintln(os.Stderr, msg)
	logPath, logFormat := logTarget(args)
	if logPath != "" {
		if f, ferr := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644); ferr == nil {
			if logFormat == "json" {
				line, _ := json.Marshal(map[string]string{"level": "error", "msg": msg, "time": time.Now().Format(time.RFC3339Nano)})
				fmt.Fprintf(f, "%s\n", line)
			} else {
				fmt.Fprintf(f, "%s %s\n", time.Now().Format(time.RFC3339), msg)
			}
			f.Close()
		}
	}
	os.Exit(1)
}

// discardValue lets parseGlobalFlags parse flags defined elsewhere without
// changing their values: runsc parses the same arguments again later.
type discardValue struct{ flag.Value }

func (d discardValue) Set(string) error { return nil }

// IsBoolFlag keeps "-flag" without "=value" valid for boolean flags.
func (d discardValue) IsBoolFlag() bool {
	b, ok := d.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// logTarget finds the --log and --log-format global flags in args without
// a full parse (the parse has just failed).
func logTarget(args []string) (path, format string) {
	format = "text"
	fs := globalFlagSet()
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !hasValue && !isBoolFlag(fs, name) && i+1 < len(args) {
			i++
			value = args[i]
		}
		switch name {
		case "log":
			path = value
		case "log-format":
			format = value
		}
	}
	return path, format
}
