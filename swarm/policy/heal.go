package policy

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/athenaos/athena/swarm/restart"
)

// Heal is a policy's "heal:" section (docs/policy.md, "The heal
// section"): which of the container's processes are restarted inside the
// sandbox when they crash or fail (by athena init, runsc-athena/cmd/
// athena-init, the container's first process), how fast and how often,
// and the sandbox's checkpoints. The zero value says nothing: no restart,
// no service, no checkpoint, intrusions killed. Parse has checked every
// range.
type Heal struct {
	// Restart is the restart mode of the container's main process
	// (process.args): restart.No (the default), OnFailure or Always.
	Restart restart.Mode
	// Backoff is the delay before each restart of main or a service,
	// doubling from First to Max; the zero value is restart's default
	// (100ms..10s).
	Backoff restart.Backoff
	// Intensity is how many restarts of one process within a window are
	// allowed before it is given up; the zero value is restart's
	// default (5/60s).
	Intensity restart.Intensity
	// Services are the processes athena init starts beside main and
	// supervises, at most MaxHealServices.
	Services []HealService
	// Checkpoint is the periodic checkpoint of the sandbox.
	Checkpoint HealCheckpoint
	// OnIntrusion is what an intrusion (a kill decision of the security
	// agents) does to the container.
	OnIntrusion HealIntrusion
}

// HealService is a named process athena init starts beside main.
type HealService struct {
	// Name matches [a-z0-9_-]{1,32}, is unique in the section and is not
	// "main".
	Name string
	// Command is the argv; Command[0] is an absolute path.
	Command []string
	// Restart is the service's restart mode (the default:
	// restart.OnFailure).
	Restart restart.Mode
	// Line is the position of the service; ignored by Equal.
	Line int
}

// HealCheckpoint is the heal section's "checkpoint".
type HealCheckpoint struct {
	// Every is the period of the sandbox's checkpoints,
	// MinHealCheckpointEvery..MaxHealCheckpointEvery; 0: no checkpoints.
	Every time.Duration
	// Keep is how many checkpoints are kept on the host,
	// 1..MaxHealCheckpointKeep; 0: DefaultHealCheckpointKeep (see Kept).
	Keep int
}

// Kept returns Keep, or its default when Keep is 0.
func (c HealCheckpoint) Kept() int {
	if c.Keep == 0 {
		return DefaultHealCheckpointKeep
	}
	return c.Keep
}

// HealIntrusion is the heal section's "on_intrusion".
type HealIntrusion uint8

const (
	// IntrusionKill (the default) kills what the security agents decided
	// to kill, as without a heal section.
	IntrusionKill HealIntrusion = iota
	// IntrusionRollback restores the sandbox from the last checkpoint
	// taken before the first anomaly.
	IntrusionRollback
)

var intrusionNames = [...]string{IntrusionKill: "kill", IntrusionRollback: "rollback"}

func (i HealIntrusion) String() string {
	if int(i) < len(intrusionNames) {
		return intrusionNames[i]
	}
	return "intrusion(" + strconv.Itoa(int(i)) + ")"
}

// The ranges of the heal section's values (backoff and intensity:
// restart.MinBackoff and the others).
const (
	MaxHealServices           = 64
	MinHealCheckpointEvery    = time.Second
	MaxHealCheckpointEvery    = 24 * time.Hour
	DefaultHealCheckpointKeep = 3
	MaxHealCheckpointKeep     = 100
	// HealMain is main's name in athena init's messages; no service may
	// take it.
	HealMain = "main"
)

// The keys of the heal section and its parts, in the order Marshal writes
// them.
var (
	healKeys           = []string{"restart", "backoff", "intensity", "services", "checkpoint", "on_intrusion"}
	healServiceKeys    = []string{"name", "command", "restart"}
	healCheckpointKeys = []string{"every", "keep"}
)

var healServiceName = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)

// IsZero reports whether the section says nothing. Marshal leaves such a
// section out.
func (h *Heal) IsZero() bool {
	return h.Restart == restart.No && h.Backoff == (restart.Backoff{}) && h.Intensity == (restart.Intensity{}) &&
		len(h.Services) == 0 && h.Checkpoint == (HealCheckpoint{}) && h.OnIntrusion == IntrusionKill
}

// clone returns a deep copy of h without positions, nil and empty slices
// made equal (for Equal).
func (h *Heal) clone() Heal {
	c := *h
	c.Services = make([]HealService, 0, len(h.Services))
	for _, s := range h.Services {
		c.Services = append(c.Services, HealService{Name: s.Name, Command: nonNil(slices.Clone(s.Command)), Restart: s.Restart})
	}
	return c
}

// NeedsInit reports whether the container needs athena init as its first
// process: main is restarted, or there are services.
func (h Heal) NeedsInit() bool { return h.Restart != restart.No || len(h.Services) > 0 }

// RestartPolicy returns main's restart policy; a service's is the same
// with its own Mode. Zero fields are restart's defaults
// (restart.Policy.WithDefaults).
func (h Heal) RestartPolicy() restart.Policy {
	return restart.Policy{Mode: h.Restart, BackoffFirst: h.Backoff.First, BackoffMax: h.Backoff.Max,
		MaxRestarts: h.Intensity.Max, Window: h.Intensity.Window}
}

// InitArgs returns athena init's flags for the section, defaults written
// out: --restart, --backoff, --intensity, then one --service per service
// (NAME:RESTART:JSON-ARGV). The runtime builds the container's argv as
// ["/.athena/init"] + InitArgs() + ["--"] + process.args.
func (h Heal) InitArgs() []string {
	p := h.RestartPolicy().WithDefaults()
	args := []string{
		"--restart=" + h.Restart.String(),
		"--backoff=" + p.Backoff().String(),
		"--intensity=" + p.Intensity().String(),
	}
	for _, s := range h.Services {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s.Command) // a []string always encodes
		args = append(args, "--service="+s.Name+":"+s.Restart.String()+":"+strings.TrimSuffix(b.String(), "\n"))
	}
	return args
}

func (p *parser) heal(n *yaml.Node) (Heal, error) {
	const what = "heal"
	var h Heal
	var backoffLine, intensityLine, keepLine, intrusionLine int
	err := p.fields(n, what, healKeys, func(key string, k, v *yaml.Node) error {
		w := what + "." + key
		s, err := "", error(nil)
		if key != "services" && key != "checkpoint" {
			if s, err = p.scalar(v, w); err != nil {
				return err
			}
		}
		switch key {
		case "restart":
			if h.Restart, err = restart.ParseMode(s); err != nil {
				return p.errf(v, "%s: unknown %q (want no, on-failure or always)", w, s)
			}
		case "backoff":
			if h.Backoff, err = restart.ParseBackoff(s); err != nil {
				return p.errf(v, "%s: %v", w, err)
			}
			backoffLine = v.Line
		case "intensity":
			if h.Intensity, err = restart.ParseIntensity(s); err != nil {
				return p.errf(v, "%s: %v", w, err)
			}
			intensityLine = v.Line
		case "services":
			h.Services, err = p.healServices(v, w)
		case "checkpoint":
			err = p.fields(v, w, healCheckpointKeys, func(key string, k, v *yaml.Node) error {
				w := w + "." + key
				var err error
				switch key {
				case "every":
					h.Checkpoint.Every, err = p.checkpointEvery(v, w)
				case "keep":
					var u uint64
					u, err = p.uintIn(v, w, 1, MaxHealCheckpointKeep)
					h.Checkpoint.Keep, keepLine = int(u), v.Line
				}
				return err
			})
		case "on_intrusion":
			i := slices.Index(intrusionNames[:], s)
			if i < 0 {
				return p.errf(v, "%s: unknown %q (want kill or rollback)", w, s)
			}
			h.OnIntrusion, intrusionLine = HealIntrusion(i), v.Line
		}
		return err
	})
	if err != nil {
		return h, err
	}
	switch {
	case h.Checkpoint.Keep != 0 && h.Checkpoint.Every == 0:
		return h, Errorf(p.file, keepLine, "%s.checkpoint: keep %d without every: checkpoints are off; give every or remove keep", what, h.Checkpoint.Keep)
	case h.OnIntrusion == IntrusionRollback && h.Checkpoint.Every == 0:
		return h, Errorf(p.file, intrusionLine, "%s: on_intrusion rollback needs checkpoint.every (without checkpoints there is nothing to roll back to)", what)
	case !h.NeedsInit() && backoffLine != 0:
		return h, Errorf(p.file, backoffLine, "%s: backoff %s is never used: restart is no and there are no services; remove one of them", what, h.Backoff)
	case !h.NeedsInit() && intensityLine != 0:
		return h, Errorf(p.file, intensityLine, "%s: intensity %s is never used: restart is no and there are no services; remove one of them", what, h.Intensity)
	}
	return h, nil
}

// checkpointEvery decodes checkpoint.every: 0 (off) or a duration in
// MinHealCheckpointEvery..MaxHealCheckpointEvery.
func (p *parser) checkpointEvery(v *yaml.Node, what string) (time.Duration, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return 0, err
	}
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, p.errf(v, "%s: want a duration such as 30s or 5m (0: off), got %q", what, s)
	}
	if d != 0 && (d < MinHealCheckpointEvery || d > MaxHealCheckpointEvery) {
		return 0, p.errf(v, "%s: %s not in [%s, %s] (0: off)", what, s, formatDuration(MinHealCheckpointEvery), formatDuration(MaxHealCheckpointEvery))
	}
	return d, nil
}

func (p *parser) healServices(v *yaml.Node, what string) ([]HealService, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, p.errf(v, "%s must be a list of {name, command, restart}", what)
	}
	if len(v.Content) > MaxHealServices {
		return nil, p.errf(v.Content[MaxHealServices], "%s: more than %d services", what, MaxHealServices)
	}
	var out []HealService
	seen := map[string]int{}
	for _, n := range v.Content {
		s := HealService{Restart: restart.OnFailure, Line: n.Line}
		var nameNode *yaml.Node
		var haveCommand bool
		err := p.fields(n, what, healServiceKeys, func(key string, k, fv *yaml.Node) error {
			w := what + "." + key
			var err error
			switch key {
			case "name":
				s.Name, err = p.scalar(fv, w)
				nameNode = fv
			case "command":
				var lines []int
				if s.Command, lines, err = p.list(fv, w); err != nil {
					return err
				}
				haveCommand = true
				if len(s.Command) == 0 {
					return p.errf(fv, "%s: empty command", w)
				}
				if !strings.HasPrefix(s.Command[0], "/") {
					return Errorf(p.file, lines[0], "%s: %q is not an absolute path (athena init does not search PATH for services)", w, s.Command[0])
				}
			case "restart":
				var m string
				if m, err = p.scalar(fv, w); err != nil {
					return err
				}
				if s.Restart, err = restart.ParseMode(m); err != nil {
					return p.errf(fv, "%s: unknown %q (want no, on-failure or always)", w, m)
				}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		switch {
		case nameNode == nil:
			return nil, p.errf(n, "%s: missing name", what)
		case s.Name == HealMain:
			return nil, p.errf(nameNode, "%s.name: %q is reserved for the container's main process", what, s.Name)
		case !healServiceName.MatchString(s.Name):
			return nil, p.errf(nameNode, "%s.name: bad name %q (want 1 to 32 of a-z, 0-9, _ and -)", what, s.Name)
		case !haveCommand:
			return nil, p.errf(n, "%s: %s: missing command", what, s.Name)
		}
		if l, dup := seen[s.Name]; dup {
			return nil, p.errf(nameNode, "%s: service %q named twice (first at line %d)", what, s.Name, l)
		}
		seen[s.Name] = nameNode.Line
		out = append(out, s)
	}
	return out, nil
}

// marshalHeal writes the section's non-default values; nil when there are
// none.
func marshalHeal(h *Heal) *yaml.Node {
	if h.IsZero() {
		return nil
	}
	n := mapping(false)
	if h.Restart != restart.No {
		add(n, "restart", scalar(h.Restart.String()))
	}
	if h.Backoff != (restart.Backoff{}) {
		add(n, "backoff", scalar(h.Backoff.String()))
	}
	if h.Intensity != (restart.Intensity{}) {
		add(n, "intensity", scalar(h.Intensity.String()))
	}
	if len(h.Services) > 0 {
		list := &yaml.Node{Kind: yaml.SequenceNode}
		for _, s := range h.Services {
			m := mapping(false)
			add(m, "name", scalar(s.Name))
			cmd := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, a := range s.Command {
				cmd.Content = append(cmd.Content, scalar(a))
			}
			add(m, "command", cmd)
			if s.Restart != restart.OnFailure {
				add(m, "restart", scalar(s.Restart.String()))
			}
			list.Content = append(list.Content, m)
		}
		add(n, "services", list)
	}
	if h.Checkpoint != (HealCheckpoint{}) {
		c := mapping(false)
		addDuration(c, "every", h.Checkpoint.Every)
		addInt(c, "keep", int64(h.Checkpoint.Keep))
		add(n, "checkpoint", c)
	}
	if h.OnIntrusion != IntrusionKill {
		add(n, "on_intrusion", scalar(h.OnIntrusion.String()))
	}
	return n
}
