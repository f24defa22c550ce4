package acme

import (
	"context"
	"sync"
	"time"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
)

// limits paces the mutating actions: through the shared provider.Limiter
// when the options name one (WithLimiter), else with a sliding window per
// action on the client's clock: at most Calls in any window of Per, plus a
// 5% margin for network jitter (the cloud counts arrivals).
//
// It is here, not in provider/invoke, because invoke.Invoker.Limits has a
// type internal to the root module: a provider outside it cannot set it.
type limits struct {
	quota  provider.RateLimit
	window time.Duration
	clk    clock.Clock
	shared provider.Limiter

	mu   sync.Mutex
	sent map[string][]time.Time // per action: reserved slots, oldest first
}

func newLimits(q provider.RateLimit, clk clock.Clock, shared provider.Limiter) *limits {
	return &limits{quota: q, window: q.Per + max(q.Per/20, 100*time.Millisecond), clk: clock.Or(clk), shared: shared, sent: map[string][]time.Time{}}
}

// wait blocks until op may be sent, or ctx ends. Callers are served in
// the order they arrive: each reserves the next free slot at once.
func (l *limits) wait(ctx context.Context, op string) error {
	if l.quota.Calls <= 0 || l.quota.Per <= 0 {
		return ctx.Err()
	}
	if l.shared != nil {
		return l.shared.Wait(ctx, provider.LimitedCall{Provider: Name, Op: op, Calls: l.quota.Calls, Per: l.quota.Per})
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	now := l.clk.Now()
	s := l.sent[op]
	drop := 0
	for drop < len(s) && !s[drop].Add(l.window).After(now) {
		drop++
	}
	s = append(s[:0], s[drop:]...)
	at := now
	if n := len(s); n >= l.quota.Calls {
		if free := s[n-l.quota.Calls].Add(l.window); free.After(at) {
			at = free
		}
	}
	l.sent[op] = append(s, at)
	l.mu.Unlock()
	// A slot reserved by a caller that gives up stays used: that errs on
	// the safe side of the cloud's quota.
	return clock.Sleep(ctx, l.clk, at.Sub(now))
}
