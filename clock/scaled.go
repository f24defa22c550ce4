package clock

import (
	"time"
)

// Scaled is wall-clock time running Factor times faster: with Factor 100, one
// real second is 100 clock seconds, so a 2-minute rollback on the emulator
// finishes in 1.2 real seconds. It is safe for concurrent use and needs no
// stopping.
type Scaled struct {
	factor float64
	start  time.Time // wall time when the clock was made
	origin time.Time // clock time at start
}

// NewScaled returns a clock that starts at the current wall time and runs
// factor times faster. A factor <= 0 is treated as 1.
func NewScaled(factor float64) *Scaled {
	return NewScaledAt(time.Now(), factor)
}

// NewScaledAt is NewScaled with a chosen starting time.
func NewScaledAt(origin time.Time, factor float64) *Scaled {
	if factor <= 0 {
		factor = 1
	}
	return &Scaled{factor: factor, start: time.Now(), origin: origin}
}

// Factor returns how many clock seconds pass per real second.
func (s *Scaled) Factor() float64 { return s.factor }

// Now returns the scaled time.
func (s *Scaled) Now() time.Time {
	return s.origin.Add(time.Duration(float64(time.Since(s.start)) * s.factor))
}

// After fires once d has passed on the scaled clock, that is after d/Factor of
// real time.
func (s *Scaled) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- s.Now()
		return ch
	}
	time.AfterFunc(s.Real(d), func() { ch <- s.Now() })
	return ch
}

// Real converts a duration on this clock to real time.
func (s *Scaled) Real(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.factor)
}
