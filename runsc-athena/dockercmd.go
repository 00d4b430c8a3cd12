package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/subcommands"
	"github.com/sirupsen/logrus"

	"github.com/athenaos/athena/runsc-athena/internal/dockerconfig"
)

const (
	defaultDockerConfig = "/etc/docker/daemon.json"
	defaultInstallState = "/var/lib/athena/docker-install.json"
)

// dockerFlags are shared by docker-install and docker-uninstall.
type dockerFlags struct {
	configFile string
	stateFile  string
	runtime    string
}

func (d *dockerFlags) set(f *flag.FlagSet) {
	f.StringVar(&d.configFile, "config-file", defaultDockerConfig, "Docker daemon config to edit")
	f.StringVar(&d.stateFile, "state-file", defaultInstallState, "where athena records what it added, so uninstall removes only that")
	f.StringVar(&d.runtime, "runtime", "athena", "runtime name to register (used as docker run --runtime=NAME)")
}

// dockerInstall registers this binary as a Docker runtime by merging into
// daemon.json. Unlike runsc's "install", it refuses a malformed file with a
// clear error, writes atomically, and records what it added.
type dockerInstall struct {
	dockerFlags
	path string
}

func (*dockerInstall) Name() string { return "docker-install" }
func (*dockerInstall) Synopsis() string {
	return "register runsc-athena as a Docker runtime (merges into daemon.json)"
}
func (*dockerInstall) Usage() string {
	return `docker-install [flags] [-- runtime args...]

Adds {"runtimes": {NAME: {"path": ..., "runtimeArgs": [...]}}} to the Docker
daemon config, keeping every other setting. Idempotent. Reload dockerd
afterwards (SIGHUP) for the change to take effect.
`
}

func (d *dockerInstall) SetFlags(f *flag.FlagSet) {
	d.dockerFlags.set(f)
	f.StringVar(&d.path, "path", "", "runtime binary to register (default: this executable)")
}

func (d *dockerInstall) Execute(_ context.Context, f *flag.FlagSet, _ ...any) subcommands.ExitStatus {
	path := d.path
	if path == "" {
		exe, err := os.Executable()
		if err != nil {
			return fail("finding own executable: %v", err)
		}
		path = exe
	}
	path, err := filepath.Abs(path)
	if err != nil {
		return fail("%v", err)
	}
	if st, err := os.Stat(path); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return fail("runtime binary %s is not an executable file", path)
	}
	res, err := dockerconfig.Install(d.configFile, d.stateFile, d.runtime, dockerconfig.Runtime{Path: path, RuntimeArgs: f.Args()})
	if err != nil {
		return fail("%v", err)
	}
	if res.Changed {
		logrus.Infof("registered runtime %q (%s) in %s", d.runtime, path, d.configFile)
	} else {
		logrus.Infof("runtime %q already registered in %s", d.runtime, d.configFile)
	}
	return subcommands.ExitSuccess
}

// dockerUninstall removes what docker-install added.
type dockerUninstall struct{ dockerFlags }

func (*dockerUninstall) Name() string { return "docker-uninstall" }
func (*dockerUninstall) Synopsis() string {
	return "remove the runtime docker-install added from daemon.json"
}
func (*dockerUninstall) Usage() string {
	return "docker-uninstall [flags]\n\nRemoves only what docker-install added; other runtimes and settings stay.\n"
}
func (d *dockerUninstall) SetFlags(f *flag.FlagSet) { d.dockerFlags.set(f) }

func (d *dockerUninstall) Execute(context.Context, *flag.FlagSet, ...any) subcommands.ExitStatus {
	res, err := dockerconfig.Uninstall(d.configFile, d.stateFile, d.runtime)
	if err != nil {
		return fail("%v", err)
	}
	switch {
	case res.Removed:
		logrus.Infof("removed %s (athena had created it and nothing else was in it)", d.configFile)
	case res.Changed:
		logrus.Infof("removed runtime %q from %s", d.runtime, d.configFile)
	default:
		logrus.Infof("runtime %q was not installed by athena; nothing to do", d.runtime)
	}
	return subcommands.ExitSuccess
}

// fail prints a one-line error to stderr and exits 1. runsc's own failure
// exit code (128) is reserved for the container's status, so our host-side
// commands use the conventional 1.
func fail(format string, args ...any) subcommands.ExitStatus {
	fmt.Fprintf(os.Stderr, "runsc-athena: "+format+"\n", args...)
	os.Exit(1)
	return subcommands.ExitFailure
}
