// Package ratelimit paces calls on the library's clock, so that a client
// never sends more than a cloud's quota allows.
//
// The clouds count calls in sliding windows ("10 per minute"). A token bucket
// with a burst of N lets 2N calls into one window, so the limiters here pace
// evenly (burst 1, one call per Per/Calls) and can never trip the cloud's
// window.
package ratelimit

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/cloudsnap/rollback/clock"
)

// Limiter paces calls. A nil *Limiter never waits.
type Limiter struct {
	lim *rate.Limiter
	clk clock.Clock
}

// New returns a limiter allowing calls per per, evenly spaced, on clk; nil
// when calls <= 0 or per <= 0 (no limit).
func New(calls int, per time.Duration, clk clock.Clock) *Limiter {
	if calls <= 0 || per <= 0 {
		return nil
	}
	return &Limiter{lim: rate.NewLimiter(rate.Every(per/time.Duration(calls)), 1), clk: clock.Or(clk)}
}

// Wait blocks until a call may go, or ctx ends. A call that gives up waiting
// returns its slot.
func (l *Limiter) Wait(ctx context.Context) error {
	if l == nil {
		return ctx.Err()
	}
	now := l.clk.Now()
	r := l.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		if err := clock.Sleep(ctx, l.clk, d); err != nil {
			r.CancelAt(l.clk.Now())
			return err
		}
	}
	return ctx.Err()
}

// Set holds one limiter per key (per API action), all with the same rate.
// The zero value has no limit. Safe for concurrent use.
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
