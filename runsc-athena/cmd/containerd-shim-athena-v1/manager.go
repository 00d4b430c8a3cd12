package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/shim"
	"github.com/containerd/containerd/v2/pkg/sys"
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/cleanup"
	"gvisor.dev/gvisor/pkg/shim/v1/runsc"
)

// oomScore is the OOM score adjustment the shim asks for, as gVisor's shim
// does: killable, but last.
const oomScore = -999

// oomEnv carries, from "start" to the shim daemon it starts, why the
// daemon could not get oomScore; the daemon logs it (start itself must
// print nothing but the address).
const oomEnv = "ATHENA_SHIM_OOM_SCORE_ERROR"

// manager is gVisor's shim manager with its own Start. gVisor's Start
// fails the container when the shim's OOM score cannot be lowered
// ("failed to set OOM Score on shim: permission denied", seen under a
// containerd without CAP_SYS_RESOURCE); this one keeps the score the shim
// inherited from containerd and has the daemon log a warning. Otherwise it
// does what gVisor's does (pkg/shim/v1/manager.go).
type manager struct {
	shim.Manager
}

var _ shim.Manager = (*manager)(nil)

// Start implements shim.Manager.Start: it starts the shim daemon for
// container id (or joins the one of its pod when gVisor's grouping option
// is on) and returns its address.
func (m *manager) Start(ctx context.Context, id string, opts shim.StartOpts) (shim.BootstrapParams, error) {
	grouping := id
	if o := runsc.GetRuntimeOptions(); o != nil && o.Grouping {
		g, err := podGroup(id)
		if err != nil {
			return shim.BootstrapParams{}, err
		}
		grouping = g
	}
	cmd, err := newCommand(ctx, id, opts.Address, opts.Debug)
	if err != nil {
		return shim.BootstrapParams{}, err
	}
	// The daemon inherits this process's score: set it here, before the
	// daemon starts, so that a refusal can be passed on to it.
	if err := sys.SetOOMScore(os.Getpid(), oomScore); err != nil {
		kept := "unknown"
		if v, err := ownOOMScore(); err == nil {
			kept = strconv.Itoa(v)
		}
		cmd.Env = append(cmd.Env, fmt.Sprintf("%s=setting oom_score_adj %d: %v (kept %s)", oomEnv, oomScore, err, kept))
	}
	address, err := shim.SocketAddress(ctx, opts.Address, grouping, opts.Debug)
	if err != nil {
		return shim.BootstrapParams{}, err
	}
	params := shim.BootstrapParams{Version: 2, Address: address, Protocol: "ttrpc"}
	socket, err := shim.NewSocket(address)
	if err != nil {
		// A pod's shim that is already running serves this container.
		if !shim.SocketEaddrinuse(err) {
			return shim.BootstrapParams{}, fmt.Errorf("create new shim socket: %w", err)
		}
		if shim.CanConnect(address) {
			if err := os.WriteFile("address", []byte(address), 0o644); err != nil {
				return shim.BootstrapParams{}, fmt.Errorf("write existing socket for shim: %w", err)
			}
			return params, nil
		}
		if err := shim.RemoveSocket(address); err != nil {
			return shim.BootstrapParams{}, fmt.Errorf("remove pre-existing socket: %w", err)
		}
		if socket, err = shim.NewSocket(address); err != nil {
			return shim.BootstrapParams{}, fmt.Errorf("try create new shim socket 2x: %w", err)
		}
	}
	cu := cleanup.Make(func() {
		socket.Close()
		_ = shim.RemoveSocket(address)
	})
	defer cu.Clean()
	if err := os.WriteFile("address", []byte(address), 0o644); err != nil {
		return shim.BootstrapParams{}, err
	}
	f, err := socket.File()
	if err != nil {
		return shim.BootstrapParams{}, err
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, f)
	if err := cmd.Start(); err != nil {
		f.Close()
		return shim.BootstrapParams{}, err
	}
	cu.Add(func() { cmd.Process.Kill() })
	go cmd.Wait()
	if err := shim.WritePidFile("shim.pid", cmd.Process.Pid); err != nil {
		return shim.BootstrapParams{}, err
	}
	cu.Release()
	return params, nil
}

// ownOOMScore is this process's oom_score_adj, as the kernel shows it.
func ownOOMScore() (int, error) {
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// podGroup returns the pod a container belongs to, from the bundle's
// config.json (containerd starts the shim in the bundle directory).
func podGroup(id string) (string, error) {
	data, err := os.ReadFile("config.json")
	if err != nil {
		return "", fmt.Errorf("failed to read config.json when starting shim: %w", err)
	}
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		return "", err
	}
	if g, ok := spec.Annotations["io.kubernetes.cri.sandbox-id"]; ok {
		return g, nil
	}
	if g, ok := spec.Annotations["io.kubernetes.cri-o.SandboxID"]; ok {
		return g, nil
	}
	return id, nil
}

// newCommand is the command that runs the shim daemon: this binary again,
// in its own process group.
func newCommand(ctx context.Context, id, containerdAddress string, debug bool) (*exec.Cmd, error) {
	ns, err := namespaces.NamespaceRequired(ctx)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	args := []string{"-namespace", ns, "-address", containerdAddress, "-id", id}
	if debug {
		args = append(args, "-debug")
	}
	cmd := exec.Command(self, args...)
	cmd.Dir = cwd
	cmd.Env = append(os.Environ(), "GOMAXPROCS=2")
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	return cmd, nil
}
