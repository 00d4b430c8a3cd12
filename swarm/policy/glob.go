package policy

import (
	"fmt"
	"path"
	"strings"
)

// CheckGlob validates a path glob: absolute, clean, with "*" (any run of
// characters within one component) and "**" (any number of whole
// components, as its own component) as the only wildcards.
func CheckGlob(g string) error {
	if !strings.HasPrefix(g, "/") {
		return fmt.Errorf("%q: a path glob must be absolute", g)
	}
	if g == "/" {
		return nil
	}
	for _, c := range strings.Split(g[1:], "/") {
		switch {
		case c == "":
			return fmt.Errorf("%q: empty path component", g)
		case c == "." || c == "..":
			return fmt.Errorf("%q: %q components are not allowed", g, c)
		case strings.Contains(c, "**") && c != "**":
			return fmt.Errorf("%q: ** must be a whole component, as in /a/**/b", g)
		case strings.ContainsAny(c, "?[]{}\\"):
			return fmt.Errorf("%q: only * and ** are wildcards", g)
		}
	}
	return nil
}

// MatchGlob reports whether the clean absolute path name matches the glob g
// (checked by CheckGlob). It is pure and allocation-light; fs/ will call it
// on resolved paths.
func MatchGlob(g, name string) bool {
	if !strings.HasPrefix(name, "/") {
		return false
	}
	return matchComps(strings.Split(g, "/")[1:], strings.Split(path.Clean(name), "/")[1:])
}

func matchComps(g, n []string) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			for i := 0; i <= len(n); i++ {
				if matchComps(g[1:], n[i:]) {
					return true
				}
			}
			return false
		}
		if len(n) == 0 {
			return g[0] == ""
		}
		if ok, _ := path.Match(g[0], n[0]); !ok {
			return false
		}
		g, n = g[1:], n[1:]
	}
	return len(n) == 0 || (len(n) == 1 && n[0] == "")
}

// CheckEndpoint validates a net rule endpoint (see NetRule and
// ParseEndpoint).
func CheckEndpoint(s string) error {
	_, err := ParseEndpoint(s)
	return err
}
