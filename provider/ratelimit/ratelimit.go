// Package ratelimit keeps a client under a cloud's quota, on the library's
// clock.
//
// The clouds count calls in sliding windows ("10 per minute"), so the
// limiter is one too: a log of recent call times allowing at most Calls in
// any window of Per. Pacing calls evenly at exactly the quota is not enough:
// the cloud counts arrivals, and network jitter moves an arrival by a few
// milliseconds, enough for an eleventh call to land inside someone's minute.
// So the limiter's window is Per plus a margin of 5%, and at least 50ms:
// that costs almost no throughput over a run (the first Calls go at once)
// and absorbs 3 seconds of jitter on a one-minute window, 50ms on a
// one-second one. What must stay under 50ms is not the latency but how
// much it differs between two calls a second apart to the same regional
// endpoint; a call the cloud throttles anyway is retried. The margin was
// 100ms, 10% on Lighthouse's one-second window: 10,000 rollbacks at 20 a
// second then took 1.09 times the quota's bound before anything else was
// counted (BENCHMARKS.md, section 3).
package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/cloudsnap/rollback/clock"
)

// The window is wider than the cloud's by Per/marginFraction, at least
// minMargin.
const (
	marginFraction = 20 // 5%
	minMargin      = 50 * time.Millisecond
)

// Limiter allows at most Calls calls in any window of Per (plus the margin).
// A nil *Limiter never waits. Safe for concurrent use.
type Limiter struct {
	calls  int
	window time.Duration
	clk    clock.Clock

	mu   sync.Mutex
	sent []time.Time // slots still in the window (some maybe in the future), oldest first

	// Tests observe reservations here, under mu, so that they can check
	// the slots themselves rather than when goroutines happened to run.
	onReserve, onRelease func(time.Time)
}

// New returns a limiter allowing calls per per on clk; nil when calls <= 0
// or per <= 0 (no limit).
func New(calls int, per time.Duration, clk clock.Clock) *Limiter {
	if calls <= 0 || per <= 0 {
		return nil
	}
	return &Limiter{calls: calls, window: per + max(per/marginFraction, minMargin), clk: clock.Or(clk)}
}

// Wait blocks until a call may go, or ctx ends. Callers are served in the
// order they arrive: each reserves the next free slot at once and sleeps
// until it, so no caller starves behind later ones. A caller whose context
// ends gives its slot back if nobody queued behind it; otherwise the slot
// stays used, which errs on the safe side. Either way every call that went
// stays counted until it leaves the window: a slot given back never lets a
// later call jump it.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	now := l.clk.Now()
	// Forget only calls that have left the window: they no longer bound
	// any slot. (Keeping just the last `calls` entries was not enough: once
	// a cancelled caller handed its slot back, the oldest call still in the
	// window had been forgotten, and the next caller went at once.)
	drop := 0
	for drop < len(l.sent) && !l.sent[drop].Add(l.window).After(now) {
		drop++
	}
	l.sent = append(l.sent[:0], l.sent[drop:]...)
	at := now
	if n := len(l.sent); n >= l.calls {
		// The slot frees when the call `calls` places back leaves the window.
		if free := l.sent[n-l.calls].Add(l.window); free.After(at) {
			at = free
		}
	}
	l.sent = append(l.sent, at)
	if l.onReserve != nil {
		l.onReserve(at)
	}
	l.mu.Unlock()
	err := clock.Sleep(ctx, l.clk, at.Sub(now))
	if err != nil {
		l.mu.Lock()
		if n := len(l.sent); n > 0 && l.sent[n-1].Equal(at) {
			l.sent = l.sent[:n-1]
			if l.onRelease != nil {
				l.onRelease(at)
			}
		}
		l.mu.Unlock()
	}
	return err
}

// Set holds one limiter per key (per API action), all with the same quota.
// A nil *Set has no limit. Safe for concurrent use.
type Set struct {
	calls int
	per   time.Duration
	clk   clock.Clock

	mu sync.Mutex
	m  map[string]*Limiter
}

// NewSet returns a Set limiting each key to calls per per.
func NewSet(calls int, per time.Duration, clk clock.Clock) *Set {
	return &Set{calls: calls, per: per, clk: clk, m: make(map[string]*Limiter)}
}

// Wait waits for the limiter of key.
func (s *Set) Wait(ctx context.Context, key string) error {
	if s == nil || s.calls <= 0 {
		return ctx.Err()
	}
	s.mu.Lock()
	l, ok := s.m[key]
	if !ok {
		l = New(s.calls, s.per, s.clk)
		s.m[key] = l
	}
	s.mu.Unlock()
	return l.Wait(ctx)
}
