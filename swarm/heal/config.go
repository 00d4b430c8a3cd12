package heal

import (
	"errors"
	"fmt"
	"strings"

	"github.com/athenaos/athena/swarm/policy"
	"github.com/athenaos/athena/swarm/restart"
)

// Name is the agent's name in status, metrics and evidence.
const Name = "healer"

// Sizes.
const (
	// MaxServices is the most services a container may have beside its
	// main process (policy.MaxHealServices).
	MaxServices = policy.MaxHealServices
	// MaxContainers is the most containers one agent follows.
	MaxContainers = 256
	// CommLen is the most bytes of a command name (the kernel's
	// TASK_COMM_LEN less its NUL).
	CommLen = 15
	// MainName is main's Name in status and decisions.
	MainName = policy.HealMain
)

var (
	// ErrConfig is matched (errors.Is) by AddContainer's errors about
	// the configuration.
	ErrConfig = errors.New("heal: bad container configuration")
	// ErrContainer is matched by AddContainer's errors about the slot
	// (already added, too many containers).
	ErrContainer = errors.New("heal: bad container")
	// ErrSnapshot is matched by Restore's errors.
	ErrSnapshot = errors.New("heal: not a heal snapshot")
)

// ContainerConfig is what athena init supervises in one container.
type ContainerConfig struct {
	// Main is main's command name: the base name of its argv[0], cut to
	// CommLen bytes as the kernel's comm. "" matches no process.
	Main string
	// MainPolicy is how athena init restarts main.
	MainPolicy restart.Policy
	// Services are the named processes init starts beside main, at most
	// MaxServices.
	Services []Service
}

// Service is one named process athena init starts beside main.
type Service struct {
	// Name is the service's name in the policy (not MainName).
	Name string
	// Comm is its command name: the base name of its Command[0], cut to
	// CommLen bytes. "" matches no process.
	Comm string
	// Policy is how athena init restarts it.
	Policy restart.Policy
}

// ConfigFromPolicy returns what athena init supervises in a container
// whose policy has heal section h and whose process.args (main's argv,
// what follows "--" on init's command line) are mainArgv. It returns false
// when h asks for nothing (!h.NeedsInit(): the container runs without
// init, and this agent has nothing to follow).
func ConfigFromPolicy(h policy.Heal, mainArgv []string) (ContainerConfig, bool) {
	if !h.NeedsInit() {
		return ContainerConfig{}, false
	}
	cfg := ContainerConfig{MainPolicy: h.RestartPolicy()}
	if len(mainArgv) > 0 {
		cfg.Main = Comm(mainArgv[0])
	}
	for _, s := range h.Services {
		p := h.RestartPolicy()
		p.Mode = s.Restart
		sv := Service{Name: s.Name, Policy: p}
		if len(s.Command) > 0 {
			sv.Comm = Comm(s.Command[0])
		}
		cfg.Services = append(cfg.Services, sv)
	}
	return cfg, true
}

// Comm returns the command name the kernel gives a process that executed
// path: what follows its last "/", cut to CommLen bytes.
func Comm(path string) string {
	c := path[strings.LastIndexByte(path, '/')+1:]
	if len(c) > CommLen {
		c = c[:CommLen]
	}
	return c
}

// check validates cfg: the sizes, names and policies.
func (cfg *ContainerConfig) check() error {
	if len(cfg.Services) > MaxServices {
		return fmt.Errorf("%w: %d services, at most %d", ErrConfig, len(cfg.Services), MaxServices)
	}
	if len(cfg.Main) > CommLen {
		return fmt.Errorf("%w: main's command name %q is longer than %d bytes", ErrConfig, cfg.Main, CommLen)
	}
	if err := cfg.MainPolicy.Validate(); err != nil {
		return fmt.Errorf("%w: main: %w", ErrConfig, err)
	}
	for i, s := range cfg.Services {
		switch {
		case s.Name == "" || s.Name == MainName:
			return fmt.Errorf("%w: service %d: bad name %q", ErrConfig, i, s.Name)
		case len(s.Comm) > CommLen:
			return fmt.Errorf("%w: service %s: command name %q is longer than %d bytes", ErrConfig, s.Name, s.Comm, CommLen)
		}
		for _, o := range cfg.Services[:i] {
			if o.Name == s.Name {
				return fmt.Errorf("%w: service %q named twice", ErrConfig, s.Name)
			}
		}
		if err := s.Policy.Validate(); err != nil {
			return fmt.Errorf("%w: service %s: %w", ErrConfig, s.Name, err)
		}
	}
	return nil
}

// PolicyString writes a policy for people, defaults filled in:
// "on-failure, backoff 100ms..10s, intensity 5/1m".
func PolicyString(p restart.Policy) string {
	p = p.WithDefaults()
	return p.Mode.String() + ", backoff " + p.Backoff().String() + ", intensity " + p.Intensity().String()
}
