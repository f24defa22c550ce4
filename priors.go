package rollback

import (
	"math"
	"time"

	"github.com/cloudsnap/rollback/provider"
)

// priorOf returns p's prior for op, if it has one that makes sense.
func priorOf(p any, op string) estimate {
	wp := provider.CapabilitiesOf(p).Priors
	if wp == nil {
		return estimate{}
	}
	lo, hi, ok := wp.WaitPrior(op)
	if !ok || lo < 0 || hi <= 0 || lo > hi || hi > learnerMaxSpan {
		return estimate{}
	}
	return estimate{lo: lo, hi: hi}
}

// How a wait paces itself on a prior (a window that covers most operations
// of a kind on any disk, so much wider than a learned one). It polls once
// at half the window's start (an operation far shorter than the prior is
// caught with at most that lag), walks to the start in jumps of at most
// MaxDelay or a sixth of the start (a prior that is too high costs no more
// than that), then polls densest at the window's geometric middle, where
// the operation most likely ends, with gaps that grow with the square of
// the distance from it in the window's own scale, and backs off to
// MaxDelay past the window's end (a prior that is too low costs what
// knowing nothing costs).
//
// The gap at the middle is sqrt(width * priorUnit): for a window of width
// W polled with gaps g, calls grow as W/g and lag as g, and the gap that
// minimises calls plus lag (weighted by a constant) grows with the square
// root of the width: short operations get dense polls, long ones few. priorUnit is tuned on the waiter
// benchmark (internal/bench, TestWaiterTargets and TestProviderPriors):
// 70 ms gives gaps of 0.6 s, 1.4 s and 2.8 s at the middle of windows 2.5x
// wide around 5, 30 and 120 s.
const priorUnit = 0.07 // seconds

// priorFirst is the pause before the first poll of a wait paced by a
// prior.
func (p *pacer) priorFirst() time.Duration { return p.lo / 2 }

// priorDelay is the pause after a poll at elapsed time t of a wait paced by
// a prior.
func (p *pacer) priorDelay(t time.Duration) time.Duration {
	if t < p.lo {
		return min(p.lo-t, max(p.max, p.lo/6))
	}
	lo, hi := max(p.lo.Seconds(), 0.001), p.hi.Seconds()
	mid := math.Sqrt(lo * hi)
	// The window taken as a log-normal's 5th to 95th percentile.
	sigma := max(math.Log(hi/lo)/3.29, 0.01)
	g0 := math.Sqrt((hi - lo) * priorUnit)
	gap := func(t time.Duration) time.Duration {
		z := math.Log(t.Seconds()/mid) / sigma
		return min(time.Duration(g0*(1+z*z)*float64(time.Second)), p.max)
	}
	if t <= p.hi {
		return gap(t)
	}
	p.late++
	return backoff(gap(p.hi), p.late, p.max)
}

// backoff is d grown by half n times, capped at limit.
func backoff(d time.Duration, n int, limit time.Duration) time.Duration {
	for range n {
		if d >= limit {
			break // and do not overflow
		}
		d = d * 3 / 2
	}
	return min(d, limit)
}
