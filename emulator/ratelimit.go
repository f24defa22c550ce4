package emulator

import (
	"sync"
	"time"

	"github.com/cloudsnap/rollback/clock"
)

// RateWindow is a cloud-style quota: at most Limit calls in any window of Per.
// The zero value means no limit.
type RateWindow struct {
	Limit int
	Per   time.Duration
}

// RateLimiter enforces RateWindows per key (an action, or an account and an
// action) on the emulator's clock, with a sliding log like the clouds' own
// "N calls per minute" quotas. Safe for concurrent use.
type RateLimiter struct {
	Clock clock.Clock

	mu   sync.Mutex
	seen map[string][]time.Time
}

// Allow records a call under key and reports whether it fits in w. A refused
// call does not count against the window.
func (r *RateLimiter) Allow(key string, w RateWindow) bool {
	if w.Limit <= 0 || w.Per <= 0 {
		return true
	}
	now := clock.Or(r.Clock).Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = make(map[string][]time.Time)
	}
	cutoff := now.Add(-w.Per)
	log := r.seen[key]
	i := 0
	for i < len(log) && !log[i].After(cutoff) {
		i++
	}
	log = log[i:]
	if len(log) >= w.Limit {
		r.seen[key] = log
		return false
	}
	r.seen[key] = append(log, now)
	return true
}
