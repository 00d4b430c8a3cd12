package netguard

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// counter is a fixed-size hash table from 64-bit keys to counts: linear
// probing, a count of 0 marking an empty slot, deletion by backward shift
// (so no tombstones). Unlike a Go map, whose deleted slots can make it
// grow under churn, its memory is fixed when it is made: the scan
// detector's tables hold at most the probe ring's room of keys, however
// many distinct remotes pass through.
type counter struct {
	keys  []uint64
	vals  []uint16
	shift uint8 // 64 - log2(len(keys))
}

// newCounter returns a table for up to room keys, at most half full.
func newCounter(room int) counter {
	n := 1 << bits.Len(uint(2*room-1)) // the power of two at or above 2*room
	return counter{keys: make([]uint64, n), vals: make([]uint16, n), shift: uint8(64 - bits.TrailingZeros(uint(n)))}
}

// home is the slot a key's probe starts at (Fibonacci hashing, so that
// small keys such as ports spread too).
func (c *counter) home(k uint64) int { return int((k * 0x9e3779b97f4a7c15) >> c.shift) }

// find returns the slot of k, or the empty slot where it would go.
func (c *counter) find(k uint64) int {
	mask := len(c.keys) - 1
	i := c.home(k)
	for c.vals[i] != 0 && c.keys[i] != k {
		i = (i + 1) & mask
	}
	return i
}

// inc adds one to k's count and returns it. The caller keeps the table
// less than full (the probe ring's room bounds its keys).
func (c *counter) inc(k uint64) uint16 {
	i := c.find(k)
	c.keys[i] = k
	c.vals[i]++
	return c.vals[i]
}

// dec takes one from k's count (k is in the table) and returns it,
// removing k at 0.
func (c *counter) dec(k uint64) uint16 {
	i := c.find(k)
	if c.vals[i] == 0 {
		return 0
	}
	if c.vals[i]--; c.vals[i] > 0 {
		return c.vals[i]
	}
	// Backward shift: move later entries of the cluster whose probe
	// passes through the freed slot back into it.
	mask := len(c.keys) - 1
	for j := i; ; {
		j = (j + 1) & mask
		if c.vals[j] == 0 {
			return 0
		}
		h := c.home(c.keys[j])
		// The entry at j may move to i unless its home lies cyclically
		// in (i, j].
		if (i <= j && (h <= i || h > j)) || (i > j && h <= i && h > j) {
			c.keys[i], c.vals[i] = c.keys[j], c.vals[j]
			c.vals[j] = 0
			i = j
		}
	}
}

// get returns k's count.
func (c *counter) get(k uint64) uint16 { return c.vals[c.find(k)] }

func (c *counter) clone() counter {
	return counter{keys: slices.Clone(c.keys), vals: slices.Clone(c.vals), shift: c.shift}
}

// mix is splitmix64's finalizer: a fixed (so deterministic) 64-bit mix.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// hash is a host's 64-bit key. Two hosts with the same key would count
// as one (an under-count of a scan, never a false one); with 64 bits and
// at most a few thousand hosts in a ring, that does not happen in
// practice.
func (h hostKey) hash() uint64 {
	a, b := binary.LittleEndian.Uint64(h.ip[:8]), binary.LittleEndian.Uint64(h.ip[8:])
	return mix(a ^ mix(b^uint64(h.fam)))
}

// pairHash is a host and port's key.
func pairHash(host uint64, svc svcKey) uint64 { return mix(host ^ uint64(svc)<<13) }
