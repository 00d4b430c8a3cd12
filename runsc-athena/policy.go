package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/athenaos/athena/internal/atomicfile"
	"github.com/athenaos/athena/sentry"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/syscalls"
)

// How a container gets its policy (docs/policy.md, "Choosing a policy"):
//
//  1. the runtime flags --athena-policy=FILE and --athena-mode=MODE, set by
//     the operator in daemon.json's runtimeArgs (so one Docker can offer
//     "athena" and "athena-strict");
//  2. otherwise the OCI annotations dev.athena.policy (a policy file on the
//     host) and dev.athena.mode, set by the container manager (containerd,
//     CRI);
//  3. otherwise the built-in default policy, in enforce mode.
//
// When the operator set either flag, annotations are ignored: a container
// must not be able to swap or weaken the operator's choice. Nothing inside
// the image is consulted at all.
const (
	annotationPolicy = "dev.athena.policy"
	annotationMode   = "dev.athena.mode"
	// policyDir holds the resolved policy of each container, written by the
	// host side at create and read by the sandbox at boot (before it
	// chroots). Only root can write it; everyone can read it, because a
	// sandbox in a user namespace (uidMappings) reads it as a mapped,
	// unprivileged user. A policy is not a secret.
	policyDir = "/run/athena/policy"
)

var (
	policyFlag = flag.String("athena-policy", "", "AthenaOS policy file for the containers this runtime creates (default: annotation "+annotationPolicy+", else the built-in default policy)")
	modeFlag   = flag.String("athena-mode", "", "AthenaOS policy mode: learn, observe or enforce (default: annotation "+annotationMode+", else the policy's own mode)")
)

// policyPath is where the sandbox of container id finds its policy.
func policyPath(id string) string {
	return filepath.Join(policyDir, filepath.Base(id)+".yaml")
}

// resolvePolicy picks, loads and checks the policy for a container about to
// be created from spec, and returns its text as the sandbox will read it
// and the parsed policy (nil for the built-in default, which is not
// parsed here: policy.Default() parses it). Errors name the policy file
// and line.
func resolvePolicy(spec *specs.Spec) ([]byte, *policy.Policy, error) {
	path, mode, source := *policyFlag, *modeFlag, "runtime flag --athena-policy"
	if path == "" && mode == "" {
		path, mode = spec.Annotations[annotationPolicy], spec.Annotations[annotationMode]
		source = "annotation " + annotationPolicy
	}
	if path == "" && mode == "" {
		// The built-in default, as it is: its tests compile it, and
		// parsing and printing it again would add a millisecond and a
		// half to every container's start.
		return policy.DefaultYAML(), nil, nil
	}
	var (
		p   *policy.Policy
		err error
	)
	if path == "" {
		p = policy.Default()
	} else if p, err = policy.ParseFile(path); err != nil {
		return nil, nil, fmt.Errorf("policy from %s: %w", source, err)
	}
	if err := setMode(p, mode); err != nil {
		return nil, nil, err
	}
	// Compile now so a policy that parses but cannot be compiled (an
	// unknown syscall, an argument the syscall lacks) fails the create,
	// not the sandbox.
	text, err := checkedText(p)
	if err != nil {
		return nil, nil, fmt.Errorf("policy from %s: %w", source, err)
	}
	return text, p, nil
}

// setMode overrides p's mode with mode ("learn", "observe", "enforce"), if
// one is given.
func setMode(p *policy.Policy, mode string) error {
	if mode == "" {
		return nil
	}
	m, ok := policy.ParseMode(mode)
	if !ok {
		return fmt.Errorf("invalid athena mode %q (want learn, observe or enforce)", mode)
	}
	p.Mode = m
	return nil
}

// checkedText compiles p, to check it the way the sandbox will, and
// returns the text the sandbox reads.
func checkedText(p *policy.Policy) ([]byte, error) {
	if _, err := syscalls.Compile(p); err != nil {
		return nil, err
	}
	return policy.Marshal(p)
}

func readSpec(bundle string) (*specs.Spec, error) {
	data, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, err
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return nil, err
	}
	return &spec, nil
}

// storePolicy writes the policy text of container id, atomically,
// writable by root only.
func storePolicy(id string, data []byte) error {
	// Chmod too: an existing directory keeps its mode under MkdirAll, and a
	// 0700 one would lock out sandboxes in user namespaces.
	for _, dir := range []string{filepath.Dir(policyDir), policyDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("storing policy: %w", err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			return fmt.Errorf("storing policy: %w", err)
		}
	}
	if err := atomicfile.WriteFile(policyPath(id), data, 0o644); err != nil {
		return fmt.Errorf("storing policy: %w", err)
	}
	return nil
}

// readStoredPolicy reads the policy text the host stored for container
// id, with its name and digest. A missing file (a sandbox started by
// "runsc-athena do", or by a create that predates athena's policies) means
// the built-in default.
func readStoredPolicy(id string) (text []byte, name, digest string, err error) {
	text, err = os.ReadFile(policyPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		text = policy.DefaultYAML()
		return text, "built-in default", sentry.PolicyDigest(text), nil
	}
	if err != nil {
		return nil, "", "", err
	}
	name = policyPath(id)
	if bytes.Equal(text, policy.DefaultYAML()) {
		name = "built-in default"
	}
	return text, name, sentry.PolicyDigest(text), nil
}

// loadStoredPolicy reads and parses the stored policy of container id.
func loadStoredPolicy(id string) (*policy.Policy, error) {
	text, name, _, err := readStoredPolicy(id)
	if err != nil {
		return nil, err
	}
	return policy.Parse(name, text)
}

// subcommand splits runsc's argument list after the global flags: the
// subcommand name, and its own arguments.
func subcommand(args []string) (string, []string) {
	fs := globalFlagSet()
	if err := fs.Parse(args); err != nil || fs.NArg() == 0 {
		return "", nil
	}
	return fs.Arg(0), fs.Args()[1:]
}

// bundleAndID finds --bundle (default: the working directory) and the
// container ID (the last argument) of a create or run command line.
func bundleAndID(args []string) (bundle, id string) {
	bundle = "."
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") || (name != "bundle" && name != "b") {
			continue
		}
		if !hasValue && i+1 < len(args) {
			i++
			value = args[i]
		}
		bundle = value
	}
	if len(args) > 0 && !strings.HasPrefix(args[len(args)-1], "-") {
		id = args[len(args)-1]
	}
	return bundle, id
}
