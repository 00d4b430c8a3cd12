package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/athenaos/athena/swarm/restart"
)

const usage = `usage: athena-init [--restart=no|on-failure|always] [--backoff=FIRST..MAX]
                   [--intensity=RESTARTS/WINDOW] [--service=NAME:RESTART:JSON-ARGV]...
                   -- CMD [ARG]...`

// config is what the command line asks for.
type config struct {
	// main is main's policy; its backoff and intensity are the
	// services' too.
	main     restart.Policy
	services []service
	// argv is main's command line.
	argv []string
}

// service is one --service.
type service struct {
	name string
	mode restart.Mode
	argv []string
}

// mainName is main's name in messages; no service may take it.
const mainName = "main"

var serviceNameRE = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// errUsage is matched by parseArgs's errors.
var errUsage = errors.New("usage")

type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }
func (e *usageError) Unwrap() error { return errUsage }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// parseArgs parses the command line after the program name. It returns
// flag.ErrHelp for -h and --help.
func parseArgs(args []string) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("athena-init", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Func("restart", "main's restart mode: no, on-failure or always", func(s string) error {
		m, err := restart.ParseMode(s)
		cfg.main.Mode = m
		return err
	})
	fs.Func("backoff", "restart delays FIRST..MAX", func(s string) error {
		b, err := restart.ParseBackoff(s)
		cfg.main.BackoffFirst, cfg.main.BackoffMax = b.First, b.Max
		return err
	})
	fs.Func("intensity", "most restarts within a window, RESTARTS/WINDOW", func(s string) error {
		in, err := restart.ParseIntensity(s)
		cfg.main.MaxRestarts, cfg.main.Window = in.Max, in.Window
		return err
	})
	fs.Func("service", "a service NAME:RESTART:JSON-ARGV (repeatable)", func(s string) error {
		sv, err := parseService(s)
		if err != nil {
			return err
		}
		for _, o := range cfg.services {
			if o.name == sv.name {
				return fmt.Errorf("service %q given twice", sv.name)
			}
		}
		cfg.services = append(cfg.services, sv)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usagef("%v", err)
	}
	cfg.argv = fs.Args()
	if len(cfg.argv) == 0 {
		return nil, usagef("no command to run")
	}
	if cfg.argv[0] == "" {
		return nil, usagef("empty command name")
	}
	return cfg, nil
}

// parseService parses NAME:RESTART:JSON-ARGV.
func parseService(s string) (service, error) {
	name, rest, ok1 := strings.Cut(s, ":")
	mode, argv, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return service{}, fmt.Errorf(`want NAME:RESTART:JSON-ARGV, as in worker:always:["/bin/worker","-x"]`)
	}
	sv := service{name: name, mode: restart.OnFailure}
	switch {
	case name == mainName:
		return service{}, fmt.Errorf("service name %q is reserved for the container's command", name)
	case !serviceNameRE.MatchString(name):
		return service{}, fmt.Errorf("bad service name %q (want 1 to 32 of a-z, 0-9, _ and -)", name)
	}
	if mode != "" {
		m, err := restart.ParseMode(mode)
		if err != nil {
			return service{}, fmt.Errorf("service %s: %w", name, err)
		}
		sv.mode = m
	}
	if err := json.Unmarshal([]byte(argv), &sv.argv); err != nil {
		return service{}, fmt.Errorf(`service %s: the command must be a JSON array of strings, as in ["/bin/worker","-x"]: %v`, name, err)
	}
	if len(sv.argv) == 0 || sv.argv[0] == "" {
		return service{}, fmt.Errorf("service %s: empty command", name)
	}
	return sv, nil
}
