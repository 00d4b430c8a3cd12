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
}

// split shares capacity (ns of CPU) among the claimants s[i] for i in
// idx, setting each alloc.
//
// When the demands fit, each gets its demand. Otherwise each claimant's
// fair share is capacity × weight / Σweight, the excess is Σdemand −
// capacity, and it is cut from the claimants over their fair share,
// in proportion to their overrun (demand − fair), non-interactive ones
// first: interactive claimants are cut only for what the others' whole
// overrun cannot absorb. A claimant under its fair share is never cut,
// and none is cut below its fair share (the overruns add up to at least
// the excess).
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
	// interactive claimants lose.
	var fh, fi float64
	if excess <= hogOver {
		fh = excess / hogOver
	} else {
		fh = 1
		if interOver > 0 {
			fi = min(1, (excess-hogOver)/interOver)
		}
	}
	for _, i := range idx {
		s[i].alloc = s[i].demand
		o := s[i].demand - capacity*s[i].weight/weight
		if o <= 0 {
			continue
		}
		f := fh
		if s[i].interactive {
			f = fi
		}
		s[i].alloc -= o * f
	}
}

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
