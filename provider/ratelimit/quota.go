package ratelimit

import "time"

// Quota returns the Set's limit: calls per per; calls <= 0 (or a nil Set)
// means no limit.
func (s *Set) Quota() (calls int, per time.Duration) {
	if s == nil {
		return 0, 0
	}
	return s.calls, s.per
}
