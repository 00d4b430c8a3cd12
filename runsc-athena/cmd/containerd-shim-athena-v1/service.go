package main

import (
	"context"
	"os"
	"time"

	"github.com/containerd/containerd/api/events"
	sandboxapi "github.com/containerd/containerd/api/runtime/sandbox/v1"
	task "github.com/containerd/containerd/api/runtime/task/v2"
	tasktypes "github.com/containerd/containerd/api/types/task"
	"github.com/containerd/containerd/v2/core/runtime"
	"github.com/containerd/containerd/v2/pkg/protobuf"
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
			return &service{
				TaskServiceExt: next,
				ctx:            ic.Context,
				publisher:      publisher,
				exits:          exits,
				oomFloor:       oomFloor(),
			}, nil
		},
	})
}

// service is gVisor's task service with Create preceded by prepareSpec,
// and the exit status of a sandbox's first container completed by exits.
type service struct {
	extension.TaskServiceExt
	// ctx is the shim's (it carries the namespace events are published
	// in).
	ctx       context.Context
	publisher shim.Publisher
	exits     *sandboxExits
	// oomFloor, when set, is the lowest OOM score adjustment this shim
	// may give: its own, which it could not lower (see prepareSpec).
	oomFloor *int
}

var _ extension.TaskServiceExt = (*service)(nil)

// Create implements task.TaskService.Create.
func (s *service) Create(ctx context.Context, r *task.CreateTaskRequest) (*task.CreateTaskResponse, error) {
	first, err := prepareSpec(ctx, r.Bundle, s.oomFloor)
	if err != nil {
		return nil, err
	}
	resp, err := s.TaskServiceExt.Create(ctx, r)
	if err != nil {
		return resp, err
	}
	if first && resp.Pid > 0 {
		s.exits.watch(int(resp.Pid), r.ID)
		if keptBy(r.ID, int(resp.Pid)) {
			// The pid is the keeper's (keeper.go): its status is
			// the container's.
			s.exits.keep(r.ID)
			log.G(ctx).Infof("container %s is kept by runsc-athena's keeper (pid %d): its task outlives sandbox recoveries", r.ID, resp.Pid)
		}
	}
	// gVisor's shim does not announce a task's creation and deletion;
	// runc's does (event subscribers such as ctr events and BuildKit
	// watch for them).
	s.publish(runtime.TaskCreateEventTopic, &events.TaskCreate{
		ContainerID: r.ID,
		Bundle:      r.Bundle,
		Rootfs:      r.Rootfs,
		IO:          &events.TaskIO{Stdin: r.Stdin, Stdout: r.Stdout, Stderr: r.Stderr, Terminal: r.Terminal},
		Checkpoint:  r.Checkpoint,
		Pid:         resp.Pid,
	})
	return resp, nil
}

// Wait implements task.TaskService.Wait.
//
// gVisor's shim learns that a container exited only from the "runsc wait"
// it starts once the container started. For a sandbox's first container
// whose start failed (a command that cannot be executed), or that never
// started, its Wait never returns, even after Kill ended the sandbox:
// "ctr task delete -f" and CRI's stop of such a pod hang. So for those
// containers Wait also ends when the sandbox process has been reaped and
// gVisor's shim still reports nothing lateExit later, with the sandbox's
// status.
func (s *service) Wait(ctx context.Context, r *task.WaitRequest) (*task.WaitResponse, error) {
	pid, followed := 0, false
	if r.ExecID == "" {
		pid, followed = s.exits.pidOf(r.ID)
	}
	if !followed {
		return s.TaskServiceExt.Wait(ctx, r)
	}
	type answer struct {
		resp *task.WaitResponse
		err  error
	}
	// This goroutine outlives the call when gVisor's shim never answers
	// (one per Wait of such a container, until the shim exits).
	done := make(chan answer, 1)
	go func() {
		resp, err := s.TaskServiceExt.Wait(ctx, r)
		done <- answer{resp, err}
	}()
	fixed := func(a answer) (*task.WaitResponse, error) {
		if a.err == nil {
			a.resp.ExitStatus = s.exits.fix(ctx, r.ID, a.resp.ExitStatus)
		}
		return a.resp, a.err
	}
	reaped := s.exits.reaped(pid)
	for {
		select {
		case a := <-done:
			return fixed(a)
		case <-ctx.Done():
			return nil, ctx.Err()
		case st, ok := <-reaped:
			if !ok {
				reaped = nil // no longer followed: gVisor's answer alone
				continue
			}
			late := time.NewTimer(lateExit)
			defer late.Stop()
			select {
			case a := <-done:
				return fixed(a)
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-late.C:
				log.G(ctx).Warnf("container %s: its sandbox process %d exited with status %d and gVisor's shim reports no exit (the container did not start?): Wait answers with the sandbox's status", r.ID, pid, st)
				return &task.WaitResponse{ExitStatus: uint32(st), ExitedAt: protobuf.ToTimestamp(time.Now())}, nil
			}
		}
	}
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
		s.publish(runtime.TaskDeleteEventTopic, &events.TaskDelete{
			ContainerID: r.ID,
			Pid:         resp.Pid,
			ExitStatus:  resp.ExitStatus,
			ExitedAt:    resp.ExitedAt,
		})
	}
	return resp, err
}

// publish publishes an event of the shim's own; a failure is logged, as
// it does not change the outcome of the call that caused the event.
func (s *service) publish(topic string, event any) {
	if err := s.publisher.Publish(s.ctx, topic, event); err != nil {
		log.G(s.ctx).WithError(err).Warnf("publishing %s", topic)
	}
}

// RegisterTTRPC implements shim.TTRPCService.RegisterTTRPC: it registers
// the task API (v2, the version containerd 1.6 speaks and containerd 2
// uses for a shim that answers start with a plain address) and, as
// gVisor's shim does, the sandbox API.
func (s *service) RegisterTTRPC(server *ttrpc.Server) error {
	task.RegisterTaskService(server, s)
	if sb, ok := s.TaskServiceExt.(sandboxapi.TTRPCSandboxService); ok {
		sandboxapi.RegisterTTRPCSandboxService(server, sb)
	}
	return nil
}
