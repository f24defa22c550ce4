// Package clock is the notion of time shared by the rollback library and its
// emulators.
//
// Rollbacks, stops and snapshots take minutes on a real cloud. Tests and demos
// cannot wait that long, so every wait in the library and every timed state
// change in the emulators asks a Clock instead of the time package. Three clocks
// are provided:
//
//   - Real: the wall clock; the default everywhere.
//   - Scaled: wall-clock time running faster by a factor, safe for any number of
//     goroutines; used by the demo and by concurrent tests and benchmarks.
//   - Virtual: time that only moves when told to (Advance) or, with auto-advance,
//     jumps forward whenever someone waits; fully deterministic for sequential
//     tests.
//
// Give the same Clock to the emulator and to the client under test so that both
// agree on what time it is.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	// Now returns the clock's current time.
	Now() time.Time
	// After returns a channel that receives the clock's time once d has
	// passed on this clock. A d <= 0 fires at once.
	After(d time.Duration) <-chan time.Time
}

// Real returns the wall clock.
func Real() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Or returns c, or the wall clock when c is nil, so that a nil Clock field is a
// useful zero value.
func Or(c Clock) Clock {
	if c == nil {
		return Real()
	}
	return c
}

// Since returns the time elapsed on c since t.
func Since(c Clock, t time.Time) time.Duration { return c.Now().Sub(t) }

// Sleep waits for d on c, or until ctx ends; it returns ctx.Err() in the latter
// case. A d <= 0 returns at once (still reporting an ended ctx).
func Sleep(ctx context.Context, c Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(d):
		return nil
	}
}
