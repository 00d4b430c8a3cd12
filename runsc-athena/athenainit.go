package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/athenaos/athena/sentry"
	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/restart"
)

// In-sandbox service restart (docs/healer.md): a container whose policy
// (heal.restart, heal.services), annotation or runtime flag asks for it
// runs athena init as its first process. At create the bundle's
// config.json gains a read-only bind mount of the init binary at
// athenaInitPath, and process.args become
//
//	/.athena/init FLAGS... -- ORIGINAL ARGS...
//
// so the container's main process, started by init, keeps its argv, env,
// cwd, user and stdio; only its PID is no longer 1.
const (
	athenaInitName = "athena-init" // the binary's name on the host
	athenaInitPath = sentry.AthenaInitPath
	// annotationRestart asks for restarts: no, on-failure or always.
	annotationRestart          = "dev.athena.restart"
	annotationRestartIntensity = "dev.athena.restart.intensity" // e.g. 5/60s
	annotationRestartBackoff   = "dev.athena.restart.backoff"   // e.g. 100ms..10s
)

var (
	restartFlag  = flag.String("athena-restart", "", "AthenaOS: restart the container's main process inside its sandbox when it fails: no, on-failure or always (default: annotation "+annotationRestart+", else the policy's heal.restart)")
	initPathFlag = flag.String("athena-init", "", "AthenaOS: the athena-init binary containers that ask for restarts run as their first process (default: ../lib/athena/athena-init beside runsc-athena)")
)

// athenaInitBinary returns the host path of athena init.
func athenaInitBinary() (string, error) {
	path := *initPathFlag
	if path == "" {
		self, err := os.Executable()
		if err != nil {
			return "", err
		}
		path = filepath.Join(filepath.Dir(self), "..", "lib", "athena", athenaInitName)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("the container asks for restarts, but athena init is not installed: %w (make install puts it there; or set --athena-init)", err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("athena init %s is not an executable file", path)
	}
	return filepath.Clean(path), nil
}

// healFor returns the heal settings of a container: the policy's (p nil:
// the built-in default, which asks for nothing), overridden by the
// runtime flag, then by the annotations.
func healFor(spec *specs.Spec, p *policy.Policy) (policy.Heal, error) {
	var h policy.Heal
	if p != nil {
		h = p.Heal
	}
	if *restartFlag != "" {
		m, err := restart.ParseMode(*restartFlag)
		if err != nil {
			return h, fmt.Errorf("runtime flag --athena-restart: %w", err)
		}
		h.Restart = m
	}
	if v, ok := spec.Annotations[annotationRestart]; ok {
		m, err := restart.ParseMode(v)
		if err != nil {
			return h, fmt.Errorf("annotation %s: %w", annotationRestart, err)
		}
		h.Restart = m
	}
	if v, ok := spec.Annotations[annotationRestartIntensity]; ok {
		in, err := restart.ParseIntensity(v)
		if err != nil {
			return h, fmt.Errorf("annotation %s: %w", annotationRestartIntensity, err)
		}
		h.Intensity = in
	}
	if v, ok := spec.Annotations[annotationRestartBackoff]; ok {
		b, err := restart.ParseBackoff(v)
		if err != nil {
			return h, fmt.Errorf("annotation %s: %w", annotationRestartBackoff, err)
		}
		h.Backoff = b
	}
	return h, nil
}

// installAthenaInit makes athena init the first process of the container
// in bundle, when its heal settings ask for restarts. A bundle whose first
// process is already athena init (a keeper's recovery re-creates from the
// rewritten bundle) is left alone.
func installAthenaInit(bundle string, spec *specs.Spec, h policy.Heal) error {
	if !h.NeedsInit() || spec.Process == nil || len(spec.Process.Args) == 0 || spec.Process.Args[0] == athenaInitPath {
		return nil
	}
	bin, err := athenaInitBinary()
	if err != nil {
		return err
	}
	args := []any{athenaInitPath}
	for _, a := range h.InitArgs() {
		args = append(args, a)
	}
	args = append(args, "--")
	for _, a := range spec.Process.Args {
		args = append(args, a)
	}
	return editBundle(bundle, func(doc map[string]any) error {
		proc, ok := doc["process"].(map[string]any)
		if !ok {
			return fmt.Errorf("no process")
		}
		proc["args"] = args
		mounts, _ := doc["mounts"].([]any)
		doc["mounts"] = append(mounts, map[string]any{
			"destination": athenaInitPath,
			"type":        "bind",
			"source":      bin,
			"options":     []any{"bind", "ro"},
		})
		return nil
	})
}

// withHeal returns the policy a container runs under with its effective
// heal settings (a runtime flag or an annotation may have changed them):
// the sandbox's healer agent reads them from the policy, and swarm policy
// show shows what is in force. Unchanged, text and p are returned as they
// are.
func withHeal(text []byte, p *policy.Policy, h policy.Heal) ([]byte, *policy.Policy, error) {
	var current policy.Heal
	if p != nil {
		current = p.Heal
	}
	// healFor changes only these.
	if current.Restart == h.Restart && current.Backoff == h.Backoff && current.Intensity == h.Intensity {
		return text, p, nil
	}
	if p == nil {
		p = policy.Default()
	}
	p.Heal = h
	out, err := checkedText(p)
	if err != nil {
		return nil, nil, fmt.Errorf("policy with the heal settings asked for: %w", err)
	}
	return out, p, nil
}
