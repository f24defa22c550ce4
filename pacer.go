package rollback

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/cloudsnap/rollback/clock"
)

// Polling defaults (see WaitOptions).
const (
	DefaultWaitTimeout  = 30 * time.Minute
	DefaultPollMinDelay = time.Second
	DefaultPollMaxDelay = 10 * time.Second
)

// pacer decides when to poll next. Without any knowledge it backs off
// geometrically from MinDelay (x1.5, capped at MaxDelay). When it knows when
// the operation is likely to end (a duration learned from earlier waits, an
// Expected hint, or an ETA from the progress the cloud reports), it skips
// ahead to just before that moment, polls densely across the likely end,
// and backs off again if the operation runs late. A wrong expectation costs
// at most MaxDelay of lag, or a sixth of the expected duration when that is
// longer (see next). Every
// delay is jittered by up to +-10% and trimmed so that the last poll falls
// on the deadline.
type pacer struct {
	min, max time.Duration
	timeout  time.Duration
	jitter   func() float64 // in [-1, 1)

	// The window where the operation is likely to end, measured from the
	// start of the wait; both zero when unknown. raw is the learner's
	// estimate it was made from.
	lo, hi time.Duration
	raw    estimate

	// origin is the clock time the wait began; with align > 0 every poll
	// falls on a multiple of align on the clock, so that concurrent waits
	// poll at the same instants and their reads can be batched together.
	origin time.Time
	align  time.Duration

	polls   int           // polls made so far
	late    int           // polls made after the window closed
	unknown time.Duration // current geometric delay

	// prior is set while the window is the provider's prior (WaitPriors),
	// not something learned: such a window is wide, so the wait follows
	// priorDelay's schedule rather than stepping evenly across it.
	prior bool

	progress progressETA
	// learned re-reads the learner's estimate; set while the window comes
	// from it (not from Expected or progress), so that waits already under
	// way learn from operations that end meanwhile: in a fleet, every wait
	// starts before any operation has ended.
	learned func() estimate
}

func newPacer(o WaitOptions, kind string) *pacer {
	p := &pacer{
		min: o.MinDelay, max: o.MaxDelay, timeout: o.Timeout, align: o.Align,
		jitter: func() float64 { return rand.Float64()*2 - 1 },
	}
	var est estimate
	switch {
	case o.Expected > 0:
		est = estimate{lo: o.Expected * 9 / 10, hi: o.Expected * 11 / 10}
	case kind != "" && o.Learner != nil:
		p.learned = func() estimate { return o.Learner.estimate(kind) }
		est = p.learned()
		p.raw = est
		if est.hi <= 0 && o.prior.hi > 0 {
			// Until the learner knows better (see relearn): the prior is
			// taken as it is, not widened like a learned sample.
			p.lo, p.hi, p.prior = o.prior.lo, o.prior.hi, true
		}
	}
	if est.hi > 0 {
		p.setWindow(est.lo, est.hi)
	}
	p.unknown = p.min
	return p
}

// setWindow sets where the operation is likely to end, widened to at least
// a tenth of its end and to MinDelay, so that a tight history still leaves
// room for the next operation to vary.
func (p *pacer) setWindow(lo, hi time.Duration) {
	p.prior, p.late = false, 0
	width := max(hi-lo, hi/10, p.min)
	width += width / 4 // the history is a sample: the next one may fall outside it
	mid := (lo + hi) / 2
	p.lo, p.hi = max(mid-width/2, 0), mid+width/2
}

// observe feeds a progress percentage seen at elapsed time t.
func (p *pacer) observe(t time.Duration, percent int) {
	if eta, ok := p.progress.add(t, percent); ok {
		p.learned = nil // the cloud's own progress knows better
		spread := max(eta-t, 0) / 5
		p.setWindow(eta-spread, eta+spread)
	}
}

// relearn takes the learner's latest estimate, if the window comes from
// it, and reports whether it changed.
func (p *pacer) relearn() bool {
	if p.learned == nil {
		return false
	}
	est := p.learned()
	if est.hi <= 0 || est == p.raw {
		return false
	}
	p.raw = est
	p.setWindow(est.lo, est.hi)
	return true
}

// revise is called while sleeping towards a poll planned at elapsed time
// planned; at elapsed time t it returns a new, earlier plan when the
// learner has just learned something that makes the operation likely to be
// ending already: the window's start, or now if that has passed.
func (p *pacer) revise(t, planned time.Duration) time.Duration {
	if !p.relearn() {
		return planned
	}
	at := max(t, p.lo)
	if p.align > 0 {
		abs := p.origin.Add(at)
		if grid := abs.Truncate(p.align); grid.Before(abs) {
			abs = grid.Add(p.align)
		}
		at = abs.Sub(p.origin)
	}
	return min(planned, at)
}

// step is the pause inside the window: about ten polls cover it, and at
// least a 45th of the operation's length (a short window needs no more
// polls than a long one). Short and medium operations poll no closer than
// a twelfth of their length or a fifth of MaxDelay: their lag stays small
// either way, and their calls are few to begin with.
func (p *pacer) step() time.Duration {
	return max((p.hi-p.lo)/10, p.hi/45, min(p.hi/12, p.max/5))
}

// first returns the pause before the first poll: none, unless the wait knows
// the operation cannot have ended yet (its window starts later), and then
// the first jump towards the window. Waits begin right after the operation
// started, when an immediate read could only say "pending".
// It never passes the wait's deadline: a prior's late first poll must not
// make a short timeout overrun.
func (p *pacer) first() time.Duration {
	if p.prior {
		return min(p.priorFirst(), p.timeout)
	}
	if p.lo <= 2*p.min {
		return 0
	}
	return min(p.lo, max(p.max, p.lo/6), p.timeout)
}

// next returns the pause before the next poll, given the time elapsed since
// the wait began; ok is false when the deadline has been reached.
func (p *pacer) next(t time.Duration) (d time.Duration, ok bool) {
	if t >= p.timeout {
		return 0, false
	}
	p.relearn()
	p.polls++
	step := p.step()
	switch {
	case p.prior:
		d = p.priorDelay(t)
	case p.hi <= 0:
		d = p.unknown
		p.unknown = min(p.unknown*3/2, p.max)
	case t < p.lo:
		// Jump towards the window, never by less than a step (an ETA that
		// keeps moving must not make the pacer spin), and never by more than
		// MaxDelay or a sixth of the window's start, whichever is larger: a
		// wrong expectation costs at most that much lag, and a long
		// operation is not polled every MaxDelay for minutes on end.
		d = max(min(p.lo-t, max(p.max, p.lo/6)), step)
	case t <= p.hi+(p.hi-p.lo)/4:
		d = step
	default:
		p.late++
		d = backoff(step, p.late, p.max)
	}
	if p.align > 0 {
		// Round the poll instant up to the grid; no jitter, which would
		// scatter polls that should coincide.
		at := p.origin.Add(t + d)
		if grid := at.Truncate(p.align); grid.Before(at) {
			at = grid.Add(p.align)
		}
		d = at.Sub(p.origin) - t
	} else {
		d = time.Duration(float64(d) * (1 + 0.1*p.jitter()))
	}
	d = max(d, time.Millisecond)
	if t+d > p.timeout {
		d = p.timeout - t // the last poll lands on the deadline
	}
	return d, true
}

// progressETA estimates when an operation reporting a percentage will end,
// from the rate at which the percentage grows.
type progressETA struct {
	t0   time.Duration
	p0   int
	seen bool
}

func (e *progressETA) add(t time.Duration, percent int) (time.Duration, bool) {
	if percent <= 0 || percent >= 100 {
		return 0, false
	}
	if !e.seen {
		// The operation began before the wait did; assume it began at 0% at
		// the start of the wait until two readings give a rate.
		e.t0, e.p0, e.seen = t, percent, true
		if t <= 0 {
			return 0, false
		}
		return t * 100 / time.Duration(percent), true
	}
	if percent <= e.p0 || t <= e.t0 {
		return 0, false
	}
	rate := float64(percent-e.p0) / float64(t-e.t0) // percent per nanosecond
	return t + time.Duration(float64(100-percent)/rate), true
}

// Learner remembers how long operations took, by kind ("tencent/rollback"),
// so that later waits in the same process poll densely where similar
// operations ended before. A wait knows an operation's end only to within
// its last two polls, so the Learner keeps each as an interval: early,
// coarse waits teach a wide window, and precise ones narrow it. It keeps
// the most recent samples of each kind. The zero value is ready to use;
// safe for concurrent use.
type Learner struct {
	mu      sync.Mutex
	samples map[string][]span
	file    *persistence // nil unless opened with OpenLearner
	// ests caches each kind's estimate until its samples change: every
	// wait of a fleet re-reads it between polls and while it sleeps.
	ests map[string]estimate
}

// span is an interval in which an operation ended.
type span struct{ lo, hi time.Duration }

// learnerSamples is how many recent durations of each kind are kept.
const learnerSamples = 32

// DefaultLearner is used by waits whose WaitOptions.Learner is nil.
var DefaultLearner = &Learner{}

// Observe records that an operation of kind took d.
func (l *Learner) Observe(kind string, d time.Duration) { l.ObserveRange(kind, d, d) }

// ObserveRange records that an operation of kind ended between lo and hi
// after it started (the last poll that saw it running, and the first that
// saw it done).
func (l *Learner) ObserveRange(kind string, lo, hi time.Duration) {
	if l == nil || hi <= 0 || lo > hi {
		return
	}
	sp := span{lo: max(lo, 0), hi: hi}
	l.mu.Lock()
	if l.samples == nil {
		l.samples = make(map[string][]span)
	}
	l.samples[kind] = lastSpans(append(l.samples[kind], sp))
	delete(l.ests, kind)
	if l.file != nil {
		if l.file.unsaved == nil {
			l.file.unsaved = make(map[string][]span)
		}
		l.file.unsaved[kind] = lastSpans(append(l.file.unsaved[kind], sp))
		l.file.pending++
	}
	l.mu.Unlock()
	if l.file != nil {
		l.persist()
	}
}

// estimate is where recent operations of a kind ended: from lo to hi.
type estimate struct{ lo, hi time.Duration }

// estimate returns the 5th percentile of the samples' starts and the 95th
// of their ends.
func (l *Learner) estimate(kind string) estimate {
	if l == nil {
		return estimate{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.ests[kind]; ok {
		return e
	}
	s := l.samples[kind]
	if len(s) == 0 {
		return estimate{}
	}
	los := make([]time.Duration, len(s))
	his := make([]time.Duration, len(s))
	for i, sp := range s {
		los[i], his[i] = sp.lo, sp.hi
	}
	slices.Sort(los)
	slices.Sort(his)
	q := func(v []time.Duration, f float64) time.Duration { return v[int(f*float64(len(v)-1)+0.5)] }
	e := estimate{lo: q(los, 0.05), hi: q(his, 0.95)}
	if l.ests == nil {
		l.ests = make(map[string]estimate)
	}
	l.ests[kind] = e
	return e
}

// sleepSlice bounds each sleep of a wait, so that a wait planned far ahead
// notices what the learner learns meanwhile (see pacer.revise).
func (p *pacer) sleepSlice() time.Duration { return max(p.max/4, p.min) }

// sleep waits delay from elapsed time t (the wait began at start), in
// slices, revising the plan between them; it returns early only when the
// plan moves earlier, and ends with ctx.
func (p *pacer) sleep(ctx context.Context, clk clock.Clock, start time.Time, t, delay time.Duration) error {
	planned := t + delay
	for {
		now := clk.Now().Sub(start)
		if now >= planned {
			return nil
		}
		if err := clock.Sleep(ctx, clk, min(planned-now, p.sleepSlice())); err != nil {
			return err
		}
		if p.learned != nil {
			planned = p.revise(clk.Now().Sub(start), planned)
		}
	}
}
