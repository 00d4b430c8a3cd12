package main

import (
	"os"

	"github.com/google/subcommands"

	"github.com/athenaos/athena/sentry"
	"gvisor.dev/gvisor/runsc/cli/maincli"
)

// athenaGroup is the help group of AthenaOS's own subcommands.
const athenaGroup = "athena"

func main() {
	if os.Getenv(keeperEnv) != "" {
		runKeeper() // a container's keeper (keeper.go); never returns
	}
	wantVersion, platformSet, err := parseGlobalFlags(os.Args[1:])
	switch {
	case err != nil:
		reportGlobalFlagError(os.Args[1:], err)
	case wantVersion:
		printVersion(os.Stdout)
		os.Exit(0)
	}
	if !platformSet {
		// The athena platform is the default: it is the fault path (and
		// the scheduler's switch point). runsc passes the choice on to
		// the sandbox it starts.
		os.Args = append([]string{os.Args[0], "--platform=" + sentry.PlatformName}, os.Args[1:]...)
	}
	inner := os.Getenv(keeperInnerEnv)
	switch cmd, args := subcommand(os.Args[1:]); cmd {
	case "create", "run", "restore":
		if cmd == "restore" && inner == "recover" {
			break // a keeper's recovery: its create has just prepared it
		}
		// restore too: a checkpoint must not bring back an old policy;
		// the host's current choice applies.
		if cmd == "create" && inner == "" {
			if keep := keeperWanted(args); keep != nil {
				// The keeper runs the create (and prepares it).
				os.Exit(startKeeper(*keep))
			}
		}
		prepareCreate(cmd, args)
	case "delete":
		if _, id := bundleAndID(args); id != "" {
			rememberRun(id)
			os.Remove(policyPath(id))
			removeLink(id)
			if inner != "recover" {
				stopKeeper(id)
			}
		}
	case "boot":
		startSwarm(args)
	}
	// maincli.Main runs subcommands.DefaultCommander for any subcommand it
	// does not know itself, so commands registered here are reachable with
	// the same global flags as runsc's own.
	subcommands.Register(new(dockerInstall), athenaGroup)
	subcommands.Register(new(dockerUninstall), athenaGroup)
	subcommands.Register(new(swarmCmd), athenaGroup)
	maincli.Main()
}
