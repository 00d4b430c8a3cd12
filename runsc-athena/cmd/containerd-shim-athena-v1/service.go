package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	sandboxapi "github.com/containerd/containerd/api/runtime/sandbox/v1"
	task "github.com/containerd/containerd/api/runtime/task/v2"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/v2/pkg/shim"
	"github.com/containerd/containerd/v2/pkg/shutdown"
	"github.com/containerd/containerd/v2/plugins"
	"github.com/containerd/log"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"
	"github.com/containerd/ttrpc"
	gvshim "gvisor.dev/gvisor/pkg/shim/v1"
	"gvisor.dev/gvisor/pkg/shim/v1/extension"
)

// The container-type annotations gVisor's shim and runsc read (CRI's and
// CRI-O's), and the value CRI gives a pod's first container.
const (
	criContainerType  = "io.kubernetes.cri.container-type"
	crioContainerType = "io.kubernetes.cri-o.ContainerType"
	criSandbox        = "sandbox"
)

// The task service: gVisor's, registered in place of gVisor's own plugin
// package (which registers the same ID) so that Create can go through
// service first.
func init() {
	registry.Register(&plugin.Registration{
		Type: plugins.TTRPCPlugin,
		ID:   "task",
		Requires: []plugin.Type{
			plugins.EventPlugin,
			plugins.InternalPlugin,
		},
		InitFn: func(ic *plugin.InitContext) (any, error) {
			if msg := os.Getenv(oomEnv); msg != "" {
				log.G(ic.Context).Warnf("shim runs with the OOM score it inherited from containerd: %s", msg)
			}
			pp, err := ic.GetByID(plugins.EventPlugin, "publisher")
			if err != nil {
				return nil, err
			}
			ss, err := ic.GetByID(plugins.InternalPlugin, "shutdown")
			if err != nil {
				return nil, err
			}
			exits := newSandboxExits()
			go exits.follow(ic.Context)
			publisher := &exitPublisher{Publisher: pp.(shim.Publisher), exits: exits}
			next, err := gvshim.NewShimRedirector(ic.Context, publisher, ss.(shutdown.Service))
			if err != nil {
				return nil, err
			}
			return &service{TaskServiceExt: next, exits: exits}, nil
		},
	})
}

// service is gVisor's task service with Create preceded by markSandbox,
// and the exit status of a sandbox's first container completed by exits.
type service struct {
	extension.TaskServiceExt
	exits *sandboxExits
}

// Create implements task.TaskService.Create.
func (s *service) Create(ctx context.Context, r *task.CreateTaskRequest) (*task.CreateTaskResponse, error) {
	first, err := markSandbox(r.Bundle)
	if err != nil {
		return nil, err
	}
	resp, err := s.TaskServiceExt.Create(ctx, r)
	if err == nil && first && resp.Pid > 0 {
		s.exits.watch(int(resp.Pid), r.ID)
	}
	return resp, err
}

// Wait implements task.TaskService.Wait.
func (s *service) Wait(ctx context.Context, r *task.WaitRequest) (*task.WaitResponse, error) {
	resp, err := s.TaskServiceExt.Wait(ctx, r)
	if err == nil && r.ExecID == "" {
		resp.ExitStatus = s.exits.fix(ctx, r.ID, resp.ExitStatus)
	}
	return resp, err
}

// State implements task.TaskService.State.
func (s *service) State(ctx context.Context, r *task.StateRequest) (*task.StateResponse, error) {
	resp, err := s.TaskServiceExt.State(ctx, r)
	if err == nil && r.ExecID == "" && resp.Status == tasktypes.Status_STOPPED {
		resp.ExitStatus = s.exits.fix(ctx, r.ID, resp.ExitStatus)
	}
	return resp, err
}

// Delete implements task.TaskService.Delete.
func (s *service) Delete(ctx context.Context, r *task.DeleteRequest) (*task.DeleteResponse, error) {
	resp, err := s.TaskServiceExt.Delete(ctx, r)
	if err == nil && r.ExecID == "" {
		resp.ExitStatus = s.exits.fix(ctx, r.ID, resp.ExitStatus)
		s.exits.forget(r.ID)
	}
	return resp, err
}

// RegisterTTRPC registers the task API (v2, the version containerd 1.6
// speaks and containerd 2 uses for a shim that answers start with a plain
// address) and, as gVisor's shim does, the sandbox API.
func (s *service) RegisterTTRPC(server *ttrpc.Server) error {
	task.RegisterTaskService(server, s)
	if sb, ok := s.TaskServiceExt.(sandboxapi.TTRPCSandboxService); ok {
		sandboxapi.RegisterTTRPCSandboxService(server, sb)
	}
	return nil
}

// markSandbox reports whether the container of bundle is a sandbox's
// first container, and gives a container that has no container-type annotation (one
// created by ctr, BuildKit or any client other than a CRI) CRI's
// annotation of a pod's first container, in the bundle's config.json.
// Such a container is alone in its sandbox, which is what the annotation
// says; without it gVisor's shim does not hand the container's stdio to
// "runsc create", the sandbox inherits the pipe that the shim reads the
// output of create from, and Create waits for that pipe's end forever.
// (gVisor's shim treats such containers as subcontainers; see gVisor
// issues 4544 and 12198.)
func markSandbox(bundle string) (bool, error) {
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
	ann, _ := spec["annotations"].(map[string]any)
	if t, ok := ann[criContainerType]; ok {
		return t == criSandbox, nil
	}
	if t, ok := ann[crioContainerType]; ok {
		return t == criSandbox, nil
	}
	if ann == nil {
		ann = map[string]any{}
		spec["annotations"] = ann
	}
	ann[criContainerType] = criSandbox
	out, err := json.Marshal(spec)
	if err != nil {
		return false, err
	}
	tmp := path + ".athena"
	if err := os.WriteFile(tmp, out, 0o644); err != nil {
		return false, err
	}
	return true, os.Rename(tmp, path)
}
