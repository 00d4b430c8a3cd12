package policy

import (
	"bytes"
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Marshal writes p as policy YAML that Parse reads back to an equal Policy
// (Equal). Learned profiles are written with it, so a learned profile is
// itself a valid policy.
func Marshal(p *Policy) ([]byte, error) {
	root := mapping(false)
	add(root, "version", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(Version)})
	add(root, "mode", scalar(p.Mode.String()))
	add(root, "default", scalar(p.Default.String()))
	if sw := marshalSwarm(&p.Swarm); sw != nil {
		add(root, "swarm", sw)
	}
	if nw := marshalNetwork(&p.Network); nw != nil {
		add(root, "network", nw)
	}
	if m := marshalMemory(&p.Memory); m != nil {
		add(root, "memory", m)
	}
	if c := marshalCPU(&p.CPU); c != nil {
		add(root, "cpu", c)
	}
	if h := marshalHeal(&p.Heal); h != nil {
		add(root, "heal", h)
	}
	if len(p.Rules) > 0 {
		rules := &yaml.Node{Kind: yaml.SequenceNode}
		for i := range p.Rules {
			rules.Content = append(rules.Content, marshalRule(&p.Rules[i]))
		}
		add(root, "rules", rules)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, fmt.Errorf("marshal policy: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("marshal policy: %w", err)
	}
	return buf.Bytes(), nil
}

func marshalRule(r *Rule) *yaml.Node {
	n := mapping(false)
	if r.Name != "" {
		add(n, "name", scalar(r.Name))
	}
	add(n, "action", scalar(r.Action.String()))
	if len(r.Syscalls) > 0 {
		add(n, "syscalls", flowList(r.Syscalls))
	}
	if r.Class != "" {
		add(n, "class", scalar(r.Class))
	}
	if len(r.Args) > 0 {
		args := mapping(false)
		for _, a := range r.Args {
			tests := mapping(true)
			for _, t := range a.Tests {
				add(tests, t.Op.String(), flowList(t.Values))
			}
			add(args, a.Arg, tests)
		}
		add(n, "args", args)
	}
	if len(r.Paths) > 0 {
		add(n, "paths", flowList(r.Paths))
		add(n, "ops", flowList(r.Ops))
	}
	if len(r.Exec) > 0 {
		add(n, "exec", flowList(r.Exec))
	}
	if len(r.Net) > 0 {
		nets := &yaml.Node{Kind: yaml.SequenceNode}
		for _, nr := range r.Net {
			m := mapping(true)
			add(m, "op", scalar(nr.Op))
			add(m, "to", flowList(nr.To))
			add(m, "protocol", scalar(nr.Protocol))
			nets.Content = append(nets.Content, m)
		}
		add(n, "net", nets)
	}
	return n
}

func mapping(flow bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	if flow {
		n.Style = yaml.FlowStyle
	}
	return n
}

// scalar is a string node; the encoder quotes it when a plain scalar would
// read back as something else (e.g. "*" or "[::1]:80").
func scalar(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func add(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, scalar(key), v)
}

func flowList(vals []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, v := range vals {
		s := scalar(v)
		// Numbers stay unquoted so that a marshalled policy reads like a
		// hand-written one; Parse keeps the token text either way.
		if _, err := strconv.ParseInt(v, 0, 64); err == nil {
			s.Tag = "!!int"
		} else if _, err := strconv.ParseUint(v, 0, 64); err == nil {
			s.Tag = "!!int"
		}
		n.Content = append(n.Content, s)
	}
	return n
}
