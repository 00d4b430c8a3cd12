package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

// exitUsage is the exit status for a bad command line: nothing was
// started, as when a shell cannot find the command.
const exitUsage = 127

func main() {
	cfg, err := parseArgs(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		fmt.Println(usage)
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "athena-init: %v\n%s\n", err, usage)
		os.Exit(exitUsage)
	}
	os.Exit(run(cfg))
}
