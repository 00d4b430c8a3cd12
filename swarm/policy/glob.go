package policy

import (
	"fmt"
	"net/netip"
	"path"
	"strconv"
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

// CheckEndpoint validates a net rule endpoint (see NetRule).
func CheckEndpoint(s string) error {
	if s == "*" {
		return nil
	}
	if rest, ok := strings.CutPrefix(s, "unix:"); ok {
		switch {
		case strings.HasPrefix(rest, "@") && len(rest) > 1:
			return nil // abstract socket name
		case strings.HasPrefix(rest, "/"):
			return CheckGlob(rest)
		}
		return fmt.Errorf("%q: a unix endpoint is unix:/path or unix:@abstract", s)
	}
	var host, ports string
	if strings.HasPrefix(s, "[") {
		i := strings.Index(s, "]:")
		if i < 0 {
			return fmt.Errorf("%q: want [IPv6]:PORT", s)
		}
		host, ports = s[1:i], s[i+2:]
		if !strings.Contains(host, ":") {
			return fmt.Errorf("%q: brackets are for IPv6 addresses", s)
		}
	} else {
		i := strings.LastIndex(s, ":")
		if i < 0 {
			return fmt.Errorf("%q: missing :PORT (use :* for any port)", s)
		}
		host, ports = s[:i], s[i+1:]
		if strings.Contains(host, ":") {
			return fmt.Errorf("%q: write IPv6 addresses in brackets, as in [::1]:80", s)
		}
	}
	if host != "*" {
		if strings.Contains(host, "/") {
			pfx, err := netip.ParsePrefix(host)
			if err != nil {
				return fmt.Errorf("%q: bad address prefix %q", s, host)
			}
			if pfx.Masked() != pfx {
				return fmt.Errorf("%q: prefix %s has host bits set (did you mean %s?)", s, host, pfx.Masked())
			}
		} else if a, err := netip.ParseAddr(host); err != nil || a.Zone() != "" {
			return fmt.Errorf("%q: bad address %q", s, host)
		}
	}
	if ports == "*" {
		return nil
	}
	lo, hi, isRange := strings.Cut(ports, "-")
	l, err1 := strconv.ParseUint(lo, 10, 16)
	h := l
	var err2 error
	if isRange {
		h, err2 = strconv.ParseUint(hi, 10, 16)
	}
	if err1 != nil || err2 != nil || h < l {
		return fmt.Errorf("%q: bad port %q (want *, N or N-M with N <= M <= 65535)", s, ports)
	}
	return nil
}
