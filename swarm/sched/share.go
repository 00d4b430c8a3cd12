package sched

// share is one claimant in a split: a container, a thread group or a
// task.
type share struct {
	demand float64 // CPU it would use next period, unheld (ns)
	weight float64
	alloc  float64 // CPU it is allowed (ns), set by split
	// interactive claimants keep their overrun while the others can
	// absorb the cut.
	interactive bool
	// rate is, for a task, the fraction of its unheld time it ran in
	// the latest period (1 for a hog with a CPU to itself, less when the
	// host gives it less): its holds are computed from it.
	rate float64
	// fresh tasks (first measured this period) are not held.
	fresh bool
}

// split shares capacity (ns of CPU) among the claimants s[i] for i in
// idx, setting each alloc.
//
// When the demands fit, each gets its demand. Otherwise each claimant's
// fair share is capacity × weight / Σweight, the excess is Σdemand −
// capacity, and it is cut from the claimants over their fair share,
// in proportion to their overrun (demand − fair), non-interactive ones
// first. When interactive claimants are there and the others' overrun
// cannot absorb the excess, the others are cut below their fair share,
// down to half of it, before an interactive claimant loses any of its
// overrun (latency protection: hogs take the holds). Without interactive
// claimants none is cut below its fair share (the overruns add up to at
// least the excess), and an interactive claimant under its fair share is
// never cut.
func split(s []share, idx []int32, capacity float64) {
	var demand, weight float64
	for _, i := range idx {
		demand += s[i].demand
		weight += s[i].weight
	}
	capacity = max(capacity, 0)
	if demand <= capacity || weight <= 0 {
		for _, i := range idx {
			s[i].alloc = s[i].demand
		}
		return
	}
	excess := demand - capacity
	var hogOver, interOver float64
	for _, i := range idx {
		o := s[i].demand - capacity*s[i].weight/weight
		switch {
		case o <= 0:
		case s[i].interactive:
			interOver += o
		default:
			hogOver += o
		}
	}
	// fh and fi are the fractions of their overrun that hogs and
	// interactive claimants lose; fr the fraction of what hogs keep
	// after that (their fair share, or their demand under it) that
	// they lose before an interactive claimant loses anything.
	var fh, fi, fr float64
	if excess <= hogOver {
		fh = excess / hogOver
	} else {
		fh = 1
		var hogRest float64
		for _, i := range idx {
			if !s[i].interactive {
				hogRest += min(s[i].demand, capacity*s[i].weight/weight) * hogFloorCut
			}
		}
		rest := excess - hogOver
		if rest <= hogRest {
			fr = rest / hogRest
		} else {
			fr = 1
			if interOver > 0 {
				fi = min(1, (rest-hogRest)/interOver)
			}
		}
	}
	for _, i := range idx {
		s[i].alloc = s[i].demand
		fair := capacity * s[i].weight / weight
		o := s[i].demand - fair
		if s[i].interactive {
			if o > 0 {
				s[i].alloc -= o * fi
			}
			continue
		}
		if o > 0 {
			s[i].alloc -= o * fh
		}
		s[i].alloc -= min(s[i].demand, fair) * hogFloorCut * fr
	}
}

// hogFloorCut is how much of its fair share a non-interactive claimant
// may lose for interactive ones: it keeps at least half.
const hogFloorCut = 0.5

// bucket orders the items 0..len(owner)-1 by owner (0..n-1), keeping
// their order within an owner (a counting sort): the items of owner o are
// order[starts[o]:starts[o+1]]. It reuses the buffers given.
func bucket(owner []int32, n int, order, starts []int32) ([]int32, []int32) {
	starts = append(starts[:0], make([]int32, n+1)...)
	for _, o := range owner {
		starts[o+1]++
	}
	for o := 1; o <= n; o++ {
		starts[o] += starts[o-1]
	}
	order = append(order[:0], make([]int32, len(owner))...)
	next := append([]int32(nil), starts[:n]...)
	for i, o := range owner {
		order[next[o]] = int32(i)
		next[o]++
	}
	return order, starts
}
