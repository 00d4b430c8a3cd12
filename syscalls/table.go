package syscalls

import (
	"github.com/athenaos/athena/swarm/policy"
)

// argTest is one compiled argument test.
type argTest struct {
	mask   uint64 // for mask ops: the bits; unused for sets
	argMsk uint64 // ArgSpec.Mask
	vfirst uint32 // value set: values[vfirst : vfirst+vn]
	vn     uint16
	idx    uint8 // argument register
	op     policy.ArgOp
}

// prog is one rule with predicates, compiled for one syscall: all tests
// must hold for verdict to apply.
type prog struct {
	verdict Verdict
	tfirst  uint32
	tn      uint16
}

// entry is the compiled decision for one syscall number.
type entry struct {
	base   Verdict // when no program matches (or there is none)
	pfirst uint32  // programs: progs[pfirst : pfirst+pn], in rule order
	pn     uint16
}

// Table is a compiled, immutable verdict table for one container. It is
// built by Compile and never modified; publish a new one with Gate.Store.
type Table struct {
	entries [MaxSyscall + 1]entry
	unknown Verdict // numbers above MaxSyscall or unassigned
	progs   []prog
	tests   []argTest
	values  []uint64
	policy  *policy.Policy
	// The slow path's rules (slowpath.go), each kind in rule order, with
	// globs and endpoints compiled.
	pathRules []pathRule
	execRules []execRule
	netRules  []netRule
}

// Policy returns the policy the table was compiled from (do not modify it).
func (t *Table) Policy() *policy.Policy { return t.policy }

// Decide returns the verdict for syscall sysno with arguments args.
//
// This is the hot path: no allocation, no lock, no map access, no logging,
// no interface call (TestDecideAllocs, BenchmarkDecide). The mode is already
// folded into the verdicts, so there is no branch on it here.
func (t *Table) Decide(sysno uintptr, args *[6]uint64) Verdict {
	if sysno > MaxSyscall {
		return t.unknown
	}
	e := &t.entries[sysno]
	if e.pn == 0 {
		return e.base
	}
	for _, p := range t.progs[e.pfirst : e.pfirst+uint32(e.pn)] {
		if t.match(p, args) {
			return p.verdict
		}
	}
	return e.base
}

// match evaluates one program's tests (all must hold).
func (t *Table) match(p prog, args *[6]uint64) bool {
	for _, ts := range t.tests[p.tfirst : p.tfirst+uint32(p.tn)] {
		v := args[ts.idx%6] & ts.argMsk
		var ok bool
		switch ts.op {
		case policy.AnyOf:
			ok = v&ts.mask != 0
		case policy.AllOf:
			ok = v&ts.mask == ts.mask
		case policy.NoneOf:
			ok = v&ts.mask == 0
		case policy.In, policy.NotIn:
			found := false
			for _, x := range t.values[ts.vfirst : ts.vfirst+uint32(ts.vn)] {
				if x == v {
					found = true
					break
				}
			}
			ok = found == (ts.op == policy.In)
		}
		if !ok {
			return false
		}
	}
	return true
}
