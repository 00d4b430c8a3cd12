package policy

import (
	"path"
	"strings"
)

// Glob is a path glob compiled once (CompileGlob) for repeated matching, as
// the slow path does for every checked call. It matches exactly what
// MatchGlob matches, without splitting the glob again or allocating for a
// clean name. The zero Glob matches nothing.
type Glob struct {
	text   string
	comps  []string // the components after the leading "/"
	prefix string   // see LiteralPrefix
}

// CompileGlob checks g (CheckGlob) and compiles it.
func CompileGlob(g string) (Glob, error) {
	if err := CheckGlob(g); err != nil {
		return Glob{}, err
	}
	c := Glob{text: g, comps: strings.Split(g, "/")[1:]}
	lit := []string{}
	for _, comp := range c.comps {
		if strings.Contains(comp, "*") {
			break
		}
		lit = append(lit, comp)
	}
	c.prefix = path.Clean("/" + strings.Join(lit, "/"))
	return c, nil
}

// String returns the glob as written.
func (g Glob) String() string { return g.text }

// LiteralPrefix returns the glob up to its first component with a
// wildcard: /etc/shadow for /etc/shadow, /etc/ssh for /etc/ssh/**, /home
// for /home/*/.ssh/**, / for /**. Every path the glob matches is at or
// below it.
func (g Glob) LiteralPrefix() string { return g.prefix }

// Match reports whether the absolute path name matches the glob (the same
// answer as MatchGlob(g.String(), name)).
func (g Glob) Match(name string) bool {
	if g.text == "" || !strings.HasPrefix(name, "/") {
		return false
	}
	return matchRest(g.comps, path.Clean(name)[1:], false)
}

// MatchClean is Match for a name that is already absolute and clean (as
// path.Clean leaves it): it skips cleaning, for callers that match one
// name against many globs.
func (g Glob) MatchClean(name string) bool {
	if g.text == "" || !strings.HasPrefix(name, "/") {
		return false
	}
	return matchRest(g.comps, name[1:], false)
}

// matchRest matches glob components against the components of s, a clean
// path without its leading "/". While end is false s holds at least one
// component (the root "/" is one empty component, as in MatchGlob); end
// means no component is left.
func matchRest(g []string, s string, end bool) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			for {
				if matchRest(g[1:], s, end) {
					return true
				}
				if end {
					return false
				}
				if i := strings.IndexByte(s, '/'); i >= 0 {
					s = s[i+1:]
				} else {
					s, end = "", true
				}
			}
		}
		if end {
			return g[0] == ""
		}
		c, rest, more := strings.Cut(s, "/")
		if strings.IndexByte(g[0], '*') < 0 {
			if g[0] != c {
				return false
			}
		} else if ok, _ := path.Match(g[0], c); !ok {
			return false
		}
		g = g[1:]
		if more {
			s = rest
		} else {
			s, end = "", true
		}
	}
	return end || s == ""
}

// IsAncestorOrSelf reports whether dir is p or a directory above it (both
// absolute and clean): "/" is above everything, /etc is above /etc/ssh but
// not above /etcd.
func IsAncestorOrSelf(dir, p string) bool {
	if dir == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == dir || (len(p) > len(dir) && p[len(dir)] == '/' && strings.HasPrefix(p, dir))
}
