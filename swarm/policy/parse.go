package policy

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ParseFile reads and parses the policy file at path.
func ParseFile(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates a policy. file names the source in errors.
// Every error is an *Error ("FILE:LINE: message") and matches ErrInvalid.
func Parse(file string, data []byte) (*Policy, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, yamlError(file, err)
	}
	// A second document would be silently ignored; refuse it instead.
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, Errorf(file, extra.Line, "more than one YAML document")
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, Errorf(file, doc.Line, "empty policy")
	}
	p := &parser{file: file}
	pol, err := p.policy(doc.Content[0])
	if err != nil {
		return nil, err
	}
	if err := pol.validate(); err != nil {
		return nil, err
	}
	return pol, nil
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// yamlError turns a yaml.v3 syntax error into an *Error with its line.
func yamlError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.TrimSpace(strings.Replace(msg, m[0]+":", "", 1))
	}
	if err.Error() == "EOF" {
		msg = "empty policy"
	}
	return Errorf(file, line, "%s", msg)
}

type parser struct{ file string }

func (p *parser) errf(n *yaml.Node, format string, args ...any) *Error {
	return Errorf(p.file, n.Line, format, args...)
}

// fields checks that n is a mapping with only the allowed keys, each at most
// once, and calls f for each key in file order.
func (p *parser) fields(n *yaml.Node, what string, allowed []string, f func(key string, k, v *yaml.Node) error) error {
	if n.Kind == yaml.AliasNode {
		return p.errf(n, "YAML aliases are not supported")
	}
	if n.Kind != yaml.MappingNode {
		return p.errf(n, "%s must be a mapping", what)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return p.errf(k, "%s: keys must be strings", what)
		}
		if l, dup := seen[k.Value]; dup {
			return p.errf(k, "%s: duplicate key %q (first at line %d)", what, k.Value, l)
		}
		seen[k.Value] = k.Line
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			return p.errf(k, "%s: unknown key %q (want one of %s)", what, k.Value, strings.Join(allowed, ", "))
		}
		if v.Kind == yaml.AliasNode {
			return p.errf(v, "YAML aliases are not supported")
		}
		if err := f(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) scalar(n *yaml.Node, what string) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", p.errf(n, "%s must be a single value", what)
	}
	return n.Value, nil
}

// list decodes a sequence of scalars; lines gets each item's line.
func (p *parser) list(n *yaml.Node, what string) (vals []string, lines []int, err error) {
	if n.Kind != yaml.SequenceNode {
		return nil, nil, p.errf(n, "%s must be a list, as in [a, b]", what)
	}
	for _, c := range n.Content {
		if c.Kind != yaml.ScalarNode {
			return nil, nil, p.errf(c, "%s: each item must be a single value", what)
		}
		vals = append(vals, c.Value)
		lines = append(lines, c.Line)
	}
	return vals, lines, nil
}

func (p *parser) policy(n *yaml.Node) (*Policy, error) {
	pol := &Policy{File: p.file}
	var haveVersion, haveDefault bool
	err := p.fields(n, "policy", []string{"version", "mode", "default", "swarm", "network", "memory", "cpu", "heal", "rules"}, func(key string, k, v *yaml.Node) error {
		switch key {
		case "version":
			s, err := p.scalar(v, "version")
			if err != nil {
				return err
			}
			if s != strconv.Itoa(Version) {
				return p.errf(v, "unsupported version %q (this build reads version %d)", s, Version)
			}
			pol.Version, haveVersion = Version, true
		case "mode":
			s, err := p.scalar(v, "mode")
			if err != nil {
				return err
			}
			m, ok := ParseMode(s)
			if !ok {
				return p.errf(v, "unknown mode %q (want learn, observe or enforce)", s)
			}
			pol.Mode, pol.Lines.Mode = m, v.Line
		case "default":
			a, err := p.action(v, "default")
			if err != nil {
				return err
			}
			pol.Default, pol.Lines.Default, haveDefault = a, v.Line, true
		case "swarm":
			s, err := p.swarm(v)
			if err != nil {
				return err
			}
			pol.Swarm, pol.Lines.Swarm = s, v.Line
		case "network":
			nw, err := p.network(v)
			if err != nil {
				return err
			}
			pol.Network, pol.Lines.Network = nw, v.Line
		case "memory":
			m, err := p.memory(v)
			if err != nil {
				return err
			}
			pol.Memory, pol.Lines.Memory = m, v.Line
		case "cpu":
			c, err := p.cpu(v)
			if err != nil {
				return err
			}
			pol.CPU, pol.Lines.CPU = c, v.Line
		case "heal":
			h, err := p.heal(v)
			if err != nil {
				return err
			}
			pol.Heal, pol.Lines.Heal = h, v.Line
		case "rules":
			if v.Kind != yaml.SequenceNode {
				return p.errf(v, "rules must be a list")
			}
			for _, rn := range v.Content {
				r, err := p.rule(rn)
				if err != nil {
					return err
				}
				pol.Rules = append(pol.Rules, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !haveVersion {
		return nil, p.errf(n, "missing \"version: %d\"", Version)
	}
	if !haveDefault {
		return nil, p.errf(n, "missing \"default:\" action")
	}
	return pol, nil
}

func (p *parser) action(v *yaml.Node, what string) (Action, error) {
	s, err := p.scalar(v, what)
	if err != nil {
		return Action{}, err
	}
	a, err := ParseAction(s)
	if err != nil {
		return Action{}, p.errf(v, "%s: %v", what, err)
	}
	return a, nil
}

var nameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

var ruleKeys = []string{"name", "action", "syscalls", "class", "args", "paths", "ops", "exec", "net"}

func (p *parser) rule(n *yaml.Node) (Rule, error) {
	r := Rule{Pos: RulePos{Line: n.Line}}
	var haveAction, haveSyscalls, haveOps bool
	err := p.fields(n, "rule", ruleKeys, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "name":
			r.Name, err = p.scalar(v, "name")
		case "action":
			r.Action, err = p.action(v, "action")
			r.Pos.Action, haveAction = v.Line, true
		case "syscalls":
			haveSyscalls = true
			r.Syscalls, r.Pos.Syscalls, err = p.list(v, "syscalls")
			if err != nil {
				return err
			}
			seen := map[string]bool{}
			for i, s := range r.Syscalls {
				if !nameRE.MatchString(s) {
					return Errorf(p.file, r.Pos.Syscalls[i], "bad syscall name %q", s)
				}
				if seen[s] {
					return Errorf(p.file, r.Pos.Syscalls[i], "syscall %q listed twice", s)
				}
				seen[s] = true
			}
		case "class":
			if r.Class, err = p.scalar(v, "class"); err != nil {
				return err
			}
			r.Pos.Class = v.Line
			if !slices.Contains(Classes, r.Class) {
				return p.errf(v, "unknown class %q (want one of %s)", r.Class, strings.Join(Classes, ", "))
			}
		case "args":
			r.Args, err = p.args(v)
		case "paths":
			r.Paths, err = p.globs(v, "paths")
			if err == nil && len(r.Paths) == 0 {
				err = p.errf(v, "paths: empty list matches nothing")
			}
		case "ops":
			haveOps = true
			r.Ops, err = p.words(v, "ops", PathOps)
			if err == nil && len(r.Ops) == 0 {
				err = p.errf(v, "ops: empty list matches nothing")
			}
		case "exec":
			r.Exec, err = p.globs(v, "exec")
			if err == nil && len(r.Exec) == 0 {
				err = p.errf(v, "exec: empty allowlist; to act on every exec use syscalls: [execve, execveat]")
			}
		case "net":
			r.Net, err = p.netRules(v)
		}
		return err
	})
	if err != nil {
		return r, err
	}
	if !haveAction {
		return r, p.errf(n, "rule has no action")
	}
	kinds := 0
	if len(r.Syscalls) > 0 || r.Class != "" {
		kinds++
	}
	for _, has := range []bool{len(r.Paths) > 0, len(r.Exec) > 0, len(r.Net) > 0} {
		if has {
			kinds++
		}
	}
	switch {
	case kinds == 0 && haveSyscalls:
		return r, p.errf(n, "empty rule: syscalls: [] matches nothing")
	case kinds == 0:
		return r, p.errf(n, "empty rule: give syscalls, class, paths, exec or net")
	case kinds > 1:
		return r, p.errf(n, "a rule matches by one of syscalls/class (with args), paths (with ops), exec or net; split it into several rules")
	}
	if len(r.Args) > 0 && len(r.Syscalls) == 0 && r.Class == "" {
		return r, p.errf(n, "args need syscalls")
	}
	if haveOps && len(r.Paths) == 0 {
		return r, p.errf(n, "ops need paths")
	}
	if len(r.Paths) > 0 && !haveOps {
		r.Ops = []string{"any"}
	}
	return r, nil
}

// words decodes a list of words from a fixed vocabulary, without repeats.
func (p *parser) words(v *yaml.Node, what string, vocab []string) ([]string, error) {
	vals, lines, err := p.list(v, what)
	if err != nil {
		return nil, err
	}
	for i, w := range vals {
		if !slices.Contains(vocab, w) {
			return nil, Errorf(p.file, lines[i], "%s: unknown %q (want one of %s)", what, w, strings.Join(vocab, ", "))
		}
		if slices.Contains(vals[:i], w) {
			return nil, Errorf(p.file, lines[i], "%s: %q listed twice", what, w)
		}
	}
	return vals, nil
}

func (p *parser) globs(v *yaml.Node, what string) ([]string, error) {
	vals, lines, err := p.list(v, what)
	if err != nil {
		return nil, err
	}
	for i, g := range vals {
		if err := CheckGlob(g); err != nil {
			return nil, Errorf(p.file, lines[i], "%s: %v", what, err)
		}
		if slices.Contains(vals[:i], g) {
			return nil, Errorf(p.file, lines[i], "%s: %q listed twice", what, g)
		}
	}
	return vals, nil
}

var argTestKeys = []string{"any_of", "all_of", "none_of", "in", "not_in"}

func (p *parser) args(v *yaml.Node) ([]ArgPred, error) {
	var preds []ArgPred
	err := p.fields(v, "args", nil, func(name string, k, tv *yaml.Node) error {
		if !nameRE.MatchString(name) {
			return p.errf(k, "args: bad argument name %q", name)
		}
		pred := ArgPred{Arg: name, Line: k.Line}
		err := p.fields(tv, "args."+name, argTestKeys, func(op string, ok, lv *yaml.Node) error {
			vals, lines, err := p.list(lv, "args."+name+"."+op)
			if err != nil {
				return err
			}
			if len(vals) == 0 {
				return p.errf(lv, "args.%s.%s: empty list", name, op)
			}
			for i, tok := range vals {
				if _, err := ParseValue(tok); err != nil {
					return Errorf(p.file, lines[i], "args.%s.%s: %v", name, op, err)
				}
			}
			o := ArgOp(slices.Index(argTestKeys, op))
			pred.Tests = append(pred.Tests, ArgTest{Op: o, Values: vals, Line: ok.Line})
			return nil
		})
		if err != nil {
			return err
		}
		if len(pred.Tests) == 0 {
			return p.errf(tv, "args.%s: no test (want %s)", name, strings.Join(argTestKeys, ", "))
		}
		preds = append(preds, pred)
		return nil
	})
	if err == nil && len(preds) == 0 {
		err = p.errf(v, "args: empty")
	}
	return preds, err
}

func (p *parser) netRules(v *yaml.Node) ([]NetRule, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, p.errf(v, "net must be a list of {op, to, protocol}")
	}
	if len(v.Content) == 0 {
		return nil, p.errf(v, "net: empty list matches nothing")
	}
	var out []NetRule
	for _, n := range v.Content {
		nr := NetRule{Line: n.Line, Protocol: "any"}
		err := p.fields(n, "net", []string{"op", "to", "protocol"}, func(key string, k, fv *yaml.Node) error {
			var err error
			switch key {
			case "op":
				if nr.Op, err = p.scalar(fv, "net.op"); err == nil && !slices.Contains(NetOps, nr.Op) {
					err = p.errf(fv, "net.op: unknown %q (want one of %s)", nr.Op, strings.Join(NetOps, ", "))
				}
			case "protocol":
				if nr.Protocol, err = p.scalar(fv, "net.protocol"); err == nil && !slices.Contains(NetProtocols, nr.Protocol) {
					err = p.errf(fv, "net.protocol: unknown %q (want one of %s)", nr.Protocol, strings.Join(NetProtocols, ", "))
				}
			case "to":
				var lines []int
				if nr.To, lines, err = p.list(fv, "net.to"); err != nil {
					return err
				}
				if len(nr.To) == 0 {
					return p.errf(fv, "net.to: empty list matches nothing")
				}
				for i, ep := range nr.To {
					if err := CheckEndpoint(ep); err != nil {
						return Errorf(p.file, lines[i], "net.to: %v", err)
					}
				}
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if nr.Op == "" {
			return nil, p.errf(n, "net: missing op")
		}
		if len(nr.To) == 0 {
			return nil, p.errf(n, "net: missing to")
		}
		out = append(out, nr)
	}
	return out, nil
}

// validate checks what needs the whole policy: contradicting and duplicate
// rules. A rule whose match is identical to an earlier rule's can never fire
// (first match wins), so it is either a contradiction (different action) or
// dead weight (same action); both are errors.
func (pol *Policy) validate() error {
	seen := map[string]int{} // match key -> rule index
	for i := range pol.Rules {
		r := &pol.Rules[i]
		key := r.matchKey()
		if j, ok := seen[key]; ok {
			prev := &pol.Rules[j]
			if prev.Action != r.Action {
				return Errorf(pol.File, r.Pos.Line, "rule contradicts the rule at line %d: same match, action %s there, %s here", prev.Pos.Line, prev.Action, r.Action)
			}
			return Errorf(pol.File, r.Pos.Line, "rule is unreachable: the rule at line %d has the same match", prev.Pos.Line)
		}
		seen[key] = i
	}
	return nil
}

// matchKey is a canonical text of what a rule matches (not what it does):
// order-insensitive where order does not change the meaning.
func (r *Rule) matchKey() string {
	var b strings.Builder
	sorted := func(s []string) string {
		c := slices.Clone(s)
		sort.Strings(c)
		return strings.Join(c, ",")
	}
	fmt.Fprintf(&b, "s=%s;c=%s;", sorted(r.Syscalls), r.Class)
	args := make([]string, 0, len(r.Args))
	for _, a := range r.Args {
		tests := make([]string, 0, len(a.Tests))
		for _, t := range a.Tests {
			vals := t.Resolve()
			slices.Sort(vals)
			tests = append(tests, fmt.Sprintf("%s%v", t.Op, vals))
		}
		sort.Strings(tests)
		args = append(args, a.Arg+":"+strings.Join(tests, "&"))
	}
	sort.Strings(args)
	fmt.Fprintf(&b, "a=%s;p=%s;o=%s;e=%s;", strings.Join(args, "/"), sorted(r.Paths), sorted(r.Ops), sorted(r.Exec))
	nets := make([]string, 0, len(r.Net))
	for _, n := range r.Net {
		nets = append(nets, n.Op+"/"+n.Protocol+"/"+sorted(n.To))
	}
	fmt.Fprintf(&b, "n=%s", sorted(nets))
	return b.String()
}
