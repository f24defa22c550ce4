package clock

import (
	"sort"
	"sync"
	"time"
)

// Virtual is a clock that moves only when told to. Advance moves it forward and
// fires the timers that fall due. With auto-advance on (NewAutoVirtual), every
// After call moves the clock forward to its own deadline at once, so code that
// polls and sleeps runs through minutes of clock time in microseconds and
// always the same way. Concurrent sleepers each push the clock forward by their
// own delay, so under concurrency auto-advanced time runs faster than any one
// goroutine's waits add up to; use Scaled where that matters.
//
// Virtual is safe for concurrent use.
type Virtual struct {
	mu     sync.Mutex
	now    time.Time
	auto   bool
	timers []vtimer
	added  chan struct{} // closed and replaced whenever a timer is added
}

type vtimer struct {
	at time.Time
	ch chan time.Time
}

// Epoch is the default start of virtual clocks: a fixed, recognisable instant,
// so that journals and logs of virtual-time runs are reproducible.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// NewVirtual returns a manual virtual clock starting at start (Epoch when zero).
func NewVirtual(start time.Time) *Virtual {
	if start.IsZero() {
		start = Epoch
	}
	return &Virtual{now: start, added: make(chan struct{})}
}

// NewAutoVirtual returns a virtual clock that advances by itself to the
// deadline of every wait.
func NewAutoVirtual(start time.Time) *Virtual {
	v := NewVirtual(start)
	v.auto = true
	return v
}

// Now returns the virtual time.
func (v *Virtual) Now() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.now
}

// After fires when the clock reaches Now()+d. With auto-advance the clock
// moves there at once.
func (v *Virtual) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	v.mu.Lock()
	at := v.now.Add(d)
	if d <= 0 {
		ch <- v.now
		v.mu.Unlock()
		return ch
	}
	v.timers = append(v.timers, vtimer{at: at, ch: ch})
	close(v.added)
	v.added = make(chan struct{})
	auto := v.auto
	v.mu.Unlock()
	if auto {
		v.AdvanceTo(at)
	}
	return ch
}

// Advance moves the clock forward by d and fires every timer that falls due.
func (v *Virtual) Advance(d time.Duration) {
	v.mu.Lock()
	target := v.now.Add(d)
	v.mu.Unlock()
	v.AdvanceTo(target)
}

// AdvanceTo moves the clock forward to t (never backwards) and fires every
// timer that falls due.
func (v *Virtual) AdvanceTo(t time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if t.After(v.now) {
		v.now = t
	}
	sort.Slice(v.timers, func(i, j int) bool { return v.timers[i].at.Before(v.timers[j].at) })
	kept := v.timers[:0]
	for _, tm := range v.timers {
		if tm.at.After(v.now) {
			kept = append(kept, tm)
			continue
		}
		tm.ch <- v.now
	}
	v.timers = kept
}

// Waiters returns how many After calls are still waiting.
func (v *Virtual) Waiters() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.timers)
}

// BlockUntil waits (in real time) until at least n After calls are waiting on
// the clock, so a test can Advance only once the code under test sleeps.
func (v *Virtual) BlockUntil(n int) {
	for {
		v.mu.Lock()
		count, added := len(v.timers), v.added
		v.mu.Unlock()
		if count >= n {
			return
		}
		<-added
	}
}
