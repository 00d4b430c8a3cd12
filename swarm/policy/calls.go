package policy

import "net/netip"

// OpSet is a set of path operations (PathOps), one bit per op. It is how
// fs/ (which resolves a call's paths) tells syscalls/ (which matches rules)
// what a call does to a file, without either importing the other.
type OpSet uint16

// The path operations as bits, in PathOps order.
const (
	OpRead OpSet = 1 << iota
	OpWrite
	OpCreate
	OpDelete
	OpExec
	OpChmod
	OpChown
	OpLink
	OpRename
	OpMount
)

// OpAny is every operation ("any" in a rule's ops).
const OpAny = OpRead | OpWrite | OpCreate | OpDelete | OpExec | OpChmod | OpChown | OpLink | OpRename | OpMount

// ParseOp returns the bit(s) of a PathOps name ("any" gives OpAny).
func ParseOp(name string) (OpSet, bool) {
	if name == "any" {
		return OpAny, true
	}
	for i, n := range PathOps {
		if n == name && n != "any" {
			return 1 << i, true
		}
	}
	return 0, false
}

// Names returns the ops in s as PathOps names, in PathOps order.
func (s OpSet) Names() []string {
	var out []string
	for i, n := range PathOps {
		if n != "any" && s&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// Addr is a socket address a connect, bind or sendto names, decoded from
// the sockaddr in the caller's memory. Family is AF_INET, AF_INET6 or
// AF_UNIX (other families have Family set and nothing else).
type Addr struct {
	Family uint16
	// IP and Port for AF_INET and AF_INET6 (IPv4-mapped IPv6 addresses
	// are unmapped to IPv4).
	IP   netip.Addr
	Port uint16
	// Unix is the path of an AF_UNIX address, or its name after "@" for
	// an abstract one (Abstract set). Unnamed addresses leave it empty.
	Unix     string
	Abstract bool
}
