package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/containerd/log"
)

// The container-type annotations gVisor's shim and runsc read (CRI's and
// CRI-O's), and the value CRI gives a pod's first container.
const (
	criContainerType  = "io.kubernetes.cri.container-type"
	crioContainerType = "io.kubernetes.cri-o.ContainerType"
	criSandbox        = "sandbox"
)

// prepareSpec adjusts the bundle's config.json before gVisor's shim reads
// it, and reports whether the container is its sandbox's first container.
//
// A container that has no container-type annotation (one created by ctr,
// BuildKit or any client other than a CRI) gets CRI's annotation of a
// pod's first container. Such a container is alone in its sandbox, which
// is what the annotation says; without it gVisor's shim does not hand the
// container's stdio to "runsc create", the sandbox inherits the pipe that
// the shim reads the output of create from, and Create waits for the end
// of that pipe forever (gVisor's shim takes such containers for
// subcontainers; gVisor issues 4544 and 12198).
//
// When floor is set (this shim could not lower its own OOM score, so
// neither can the runsc-athena it runs), a process.oomScoreAdj below it is
// raised to it, as containerd's CRI option restrict_oom_score_adj does:
// otherwise "runsc start" fails writing the sandbox's oom_score_adj
// (permission denied) and the container with it.
func prepareSpec(ctx context.Context, bundle string, floor *int) (bool, error) {
	path := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("reading the bundle's spec: %w", err)
	}
	// Decoded as a generic object, numbers as written, so that every field
	// is written back as it was read.
	var spec map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&spec); err != nil {
		return false, fmt.Errorf("decoding %s: %w", path, err)
	}
	changed := false
	ann, _ := spec["annotations"].(map[string]any)
	var first bool
	if t, ok := ann[criContainerType]; ok {
		first = t == criSandbox
	} else if t, ok := ann[crioContainerType]; ok {
		first = t == criSandbox
	} else {
		if ann == nil {
			ann = map[string]any{}
			spec["annotations"] = ann
		}
		ann[criContainerType] = criSandbox
		first, changed = true, true
	}
	if floor != nil {
		if proc, ok := spec["process"].(map[string]any); ok {
			if n, ok := proc["oomScoreAdj"].(json.Number); ok {
				if v, err := n.Int64(); err == nil && v < int64(*floor) {
					log.G(ctx).Warnf("process.oomScoreAdj %d raised to %d: the shim cannot lower OOM scores here (no CAP_SYS_RESOURCE)", v, *floor)
					proc["oomScoreAdj"] = json.Number(strconv.Itoa(*floor))
					changed = true
				}
			}
		}
	}
	if !changed {
		return first, nil
	}
	out, err := json.Marshal(spec)
	if err != nil {
		return false, err
	}
	tmp := path + ".athena"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		return false, err
	}
	return first, os.Rename(tmp, path)
}

// oomFloor returns this process's OOM score adjustment when "start" could
// not lower it (it passed the reason in oomEnv), else nil.
func oomFloor() *int {
	if os.Getenv(oomEnv) == "" {
		return nil
	}
	v, err := ownOOMScore()
	if err != nil {
		return nil
	}
	return &v
}
