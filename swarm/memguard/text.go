package memguard

import (
	"strconv"
	"strings"

	"github.com/athenaos/athena/swarm/event"
)

// num formats an unsigned decimal.
func num(v uint64) string { return strconv.FormatUint(v, 10) }

// hex formats an address.
func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

// size formats a byte count for people: "612 MiB", "1.5 GiB", "900 B".
func size(n uint64) string {
	units := [...]string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	if n < 1024 {
		return num(n) + " B"
	}
	v, u := float64(n)/1024, 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	prec := 1
	if v >= 100 {
		prec = 0
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + units[u]
}

// flagName names one bit (or value) of a flag word.
type flagName struct {
	bit  uint64
	name string
}

// flagsText names the bits of v that names lists, joined with "|", and
// appends the rest in hex.
func flagsText(v uint64, names []flagName, buf []string) string {
	for _, f := range names {
		if f.bit != 0 && v&f.bit == f.bit {
			buf = append(buf, f.name)
			v &^= f.bit
		}
	}
	if v != 0 {
		buf = append(buf, hex(v))
	}
	return strings.Join(buf, "|")
}

// Memory protection bits (the same on amd64 and arm64, plus archProt).
var protNames = append([]flagName{
	{0x1, "PROT_READ"}, {0x2, "PROT_WRITE"}, {0x4, "PROT_EXEC"}, {0x8, "PROT_SEM"},
	{0x01000000, "PROT_GROWSDOWN"}, {0x02000000, "PROT_GROWSUP"},
}, archProt...)

// protText names prot's bits: "PROT_READ|PROT_WRITE|PROT_EXEC";
// "PROT_NONE" for 0.
func protText(prot uint64) string {
	if prot == 0 {
		return "PROT_NONE"
	}
	return flagsText(prot, protNames, nil)
}

// mmap flags (asm-generic, which amd64 and arm64 share, plus archMap).
const mapAnonymous = 0x20

var mapNames = append([]flagName{
	{0x10, "MAP_FIXED"}, {mapAnonymous, "MAP_ANONYMOUS"}, {0x100, "MAP_GROWSDOWN"},
	{0x800, "MAP_DENYWRITE"}, {0x1000, "MAP_EXECUTABLE"}, {0x2000, "MAP_LOCKED"},
	{0x4000, "MAP_NORESERVE"}, {0x8000, "MAP_POPULATE"}, {0x10000, "MAP_NONBLOCK"},
	{0x20000, "MAP_STACK"}, {0x40000, "MAP_HUGETLB"}, {0x80000, "MAP_SYNC"},
	{0x100000, "MAP_FIXED_NOREPLACE"},
}, archMap...)

var mapTypes = [4]string{"0", "MAP_SHARED", "MAP_PRIVATE", "MAP_SHARED_VALIDATE"}

// mmapFlagsText names mmap flags: the mapping type first
// ("MAP_PRIVATE|MAP_ANONYMOUS").
func mmapFlagsText(flags uint64) string {
	buf := make([]string, 1, 4)
	buf[0] = mapTypes[flags&3]
	return flagsText(flags&^3, mapNames, buf)
}

// accessText writes a fault's access bits as "rwx" letters ("--x").
func accessText(access uint64) string {
	b := []byte("---")
	for i, c := range []struct {
		bit    uint64
		letter byte
	}{{event.AccessRead, 'r'}, {event.AccessWrite, 'w'}, {event.AccessExec, 'x'}} {
		if access&c.bit != 0 {
			b[i] = c.letter
		}
	}
	return string(b)
}

var classNames = [...]string{
	event.MemUnknown: "unknown", event.MemAnon: "anon", event.MemFile: "file",
	event.MemOther: "other", event.MemUnmapped: "unmapped",
}

// className names a fault's memory class.
func className(c uint64) string {
	if c < uint64(len(classNames)) {
		return classNames[c]
	}
	return "class" + num(c)
}

// signalName names a fault's signal.
func signalName(sig uint32) string {
	switch sig {
	case sigSEGV:
		return "SIGSEGV"
	case sigBUS:
		return "SIGBUS"
	}
	return "signal " + num(uint64(sig))
}

// Fault signals (the same numbers on amd64 and arm64).
const (
	sigBUS  = 7
	sigSEGV = 11
)

// sysName names the mapping calls a W+X event can carry.
func sysName(nr uint32) string {
	switch nr {
	case sysMmap:
		return "mmap"
	case sysMprotect:
		return "mprotect"
	case sysPkeyMprotect:
		return "pkey_mprotect"
	}
	return "syscall " + num(uint64(nr))
}
