package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/athenaos/athena/sentry"
	"github.com/athenaos/athena/swarm/policy"
)

// Annotations that ask for sandbox checkpoints (docs/healer.md); they win
// over the policy's heal.checkpoint.
const (
	annotationCheckpoint     = "dev.athena.checkpoint"      // interval, e.g. 30s; 0 or off: none
	annotationCheckpointKeep = "dev.athena.checkpoint.keep" // how many are kept
)

// Runtime flags for the same (Docker 20.10 passes no annotations, so a
// runtime registered with these flags is how Docker users ask): they win
// over the policy, and annotations win over them.
var (
	checkpointFlag     = flag.String("athena-checkpoint", "", "AthenaOS: checkpoint the sandbox this often (e.g. 30s) and recover it from the newest checkpoint when it dies (default: annotation "+annotationCheckpoint+", else the policy's heal.checkpoint.every)")
	checkpointKeepFlag = flag.String("athena-checkpoint-keep", "", "AthenaOS: how many checkpoints to keep (default 3)")
	hangAfterFlag      = flag.Duration("athena-hang-after", defaultHangAfter, "AthenaOS: a checkpointed sandbox whose heartbeat is older than this is hung, and is killed and recovered (at least 10s)")
)

// Checkpoint settings' bounds and the keeper's fixed defaults.
const (
	minCheckpointEvery   = time.Second
	defaultKeep          = 3
	maxKeep              = 100
	defaultHangAfter     = 30 * time.Second
	minHangAfter         = 2 * sentry.HeartbeatInterval
	defaultMaxRecoveries = 3
	defaultRecoveryWin   = 10 * time.Minute
)

// keeperWanted returns the keeper settings of the container a create
// command line makes, nil when it asked for no checkpoints (or when the
// spec cannot be read: runsc reports that). A bad setting fails the create.
func keeperWanted(args []string) *keeperConfig {
	bundle, id := bundleAndID(args)
	if id == "" {
		return nil
	}
	spec, err := readSpec(bundle)
	if err != nil {
		return nil
	}
	_, p, err := resolvePolicy(spec)
	if err != nil {
		reportEarlyError(os.Args[1:], err.Error())
	}
	cfg, err := keeperConfigFor(spec, p)
	if err != nil {
		reportEarlyError(os.Args[1:], err.Error())
	}
	return cfg
}

// keeperConfigFor reads a container's checkpoint settings from its
// annotations, else from its policy (p nil: the built-in default, which
// asks for none).
func keeperConfigFor(spec *specs.Spec, p *policy.Policy) (*keeperConfig, error) {
	if *hangAfterFlag < minHangAfter {
		return nil, fmt.Errorf("runtime flag --athena-hang-after=%s: at least %s (the sandbox's heartbeat comes every %s)", *hangAfterFlag, minHangAfter, sentry.HeartbeatInterval)
	}
	cfg := keeperConfig{Keep: defaultKeep, HangAfter: *hangAfterFlag, MaxRecoveries: defaultMaxRecoveries, Window: defaultRecoveryWin}
	if p != nil {
		cfg.Every, cfg.Keep = p.Heal.Checkpoint.Every, p.Heal.Checkpoint.Kept()
		cfg.Rollback = p.Heal.OnIntrusion == policy.IntrusionRollback
	}
	every := func(source, v string) error {
		switch v {
		case "0", "off":
			cfg.Every = 0
		default:
			d, err := time.ParseDuration(v)
			if err != nil || d < minCheckpointEvery {
				return fmt.Errorf("%s=%q: want a duration of at least %s (e.g. 30s), or off", source, v, minCheckpointEvery)
			}
			cfg.Every = d
		}
		return nil
	}
	keep := func(source, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxKeep {
			return fmt.Errorf("%s=%q: want a number from 1 to %d", source, v, maxKeep)
		}
		cfg.Keep = n
		return nil
	}
	if *checkpointFlag != "" {
		if err := every("runtime flag --athena-checkpoint", *checkpointFlag); err != nil {
			return nil, err
		}
	}
	if *checkpointKeepFlag != "" {
		if err := keep("runtime flag --athena-checkpoint-keep", *checkpointKeepFlag); err != nil {
			return nil, err
		}
	}
	if v, ok := spec.Annotations[annotationCheckpoint]; ok {
		if err := every("annotation "+annotationCheckpoint, v); err != nil {
			return nil, err
		}
	}
	if v, ok := spec.Annotations[annotationCheckpointKeep]; ok {
		if err := keep("annotation "+annotationCheckpointKeep, v); err != nil {
			return nil, err
		}
	}
	if cfg.Every == 0 {
		return nil, nil
	}
	if spec.Process != nil && spec.Process.Terminal {
		return nil, fmt.Errorf("checkpoints (every %s) were asked for a container with a terminal (-t): a restored sandbox cannot get its terminal back, so the healer does not keep such containers; run without -t or without checkpoints", cfg.Every)
	}
	if _, joined := joinedSandbox(spec); joined {
		return nil, fmt.Errorf("checkpoints were asked for a container that joins another's sandbox: a checkpoint is of a whole sandbox; ask for it on the sandbox's first container")
	}
	return &cfg, nil
}
