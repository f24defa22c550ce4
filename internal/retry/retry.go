// Package retry is the library's one retry layer: exponential backoff with
// full jitter, bounded by attempts, elapsed time and the context. The timing
// comes from github.com/cenkalti/backoff/v4, which stays out of the public
// API; the policy is provider.RetryPolicy.
package retry

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/cloudsnap/rollback/clock"
	"github.com/cloudsnap/rollback/provider"
)

// Config says how to retry one call.
type Config struct {
	Policy   provider.RetryPolicy // zero fields take their defaults
	Clock    clock.Clock          // nil: the wall clock
	Provider string               // for events and logs
	Op       string               // the API action, for events and logs
	OnRetry  func(provider.RetryEvent)
	Logger   *slog.Logger
	// Retryable decides which errors are retried; nil means
	// provider.IsRetryable.
	Retryable func(error) bool
	// Jitter draws a delay in [0, bound); nil means uniform random. Tests
	// pass a fixed function to make delays exact.
	Jitter func(bound time.Duration) time.Duration
	// Queued reports how long the attempts so far waited for a rate-limit
	// slot; that time is not spent failing, so MaxElapsed leaves it out.
	// nil means none.
	Queued func() time.Duration
	// Budget, when set, is the client-wide retry quota that retries of
	// outage-kind failures spend (see Budget); nil means none.
	Budget *Budget
}

// Do calls fn until it succeeds, returns an error that is not worth retrying,
// or the policy is spent. fn gets the 1-based attempt number. Do returns the
// number of attempts made and the last error.
//
// Throttling errors back off from ThrottleBaseDelay and never sleep less
// than half their bound; other retryable errors back off from BaseDelay with
// full jitter. When the context ends during a sleep, or fn fails because it
// ended, the error is an *provider.InterruptedError carrying both the
// context's error and the last provider error. When attempts run out, the
// last error is returned with its Attempts field set.
func Do(ctx context.Context, cfg Config, fn func(ctx context.Context, attempt int) error) (int, error) {
	p := cfg.Policy.WithDefaults()
	clk := clock.Or(cfg.Clock)
	retryable := cfg.Retryable
	if retryable == nil {
		retryable = provider.IsRetryable
	}
	jitter := cfg.Jitter
	if jitter == nil {
		jitter = fullJitter
	}
	// The back-off sequences start with the first attempt (MaxElapsed
	// counts from there) but are only built once an attempt fails: most
	// calls succeed at once.
	// MaxElapsed is measured on a clock that stands still while attempts
	// queue for a rate-limit slot.
	budget := clock.Clock(clk)
	if cfg.Queued != nil {
		budget = lessQueued{Clock: clk, queued: cfg.Queued}
	}
	start := budget.Now()
	var transient, throttle *backoff.ExponentialBackOff

	var (
		last  error
		spent int // tokens the retry under way took from the budget
	)
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return attempt - 1, interrupted(err, last)
		}
		err := fn(ctx, attempt)
		if err == nil {
			if cfg.Budget != nil {
				cfg.Budget.refill(max(spent, SuccessIncrease))
			}
			return attempt, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			// The call failed because the context ended (or as it ended):
			// report the context first, keeping what the provider said.
			if isContextErr(err) {
				return attempt, interrupted(ctxErr, last)
			}
			return attempt, interrupted(ctxErr, err)
		}
		last = err
		if !retryable(err) {
			return attempt, err
		}
		if attempt >= p.MaxAttempts {
			return attempt, giveUp(err, attempt)
		}
		if transient == nil {
			transient = newBackOff(p.BaseDelay, p, budget, start)
			throttle = newBackOff(p.ThrottleBaseDelay, p, budget, start)
		}
		// Both sequences advance on every failure so that a throttle after
		// three faults waits like a fourth failure would.
		tb, hb := transient.NextBackOff(), throttle.NextBackOff()
		bound, minFrac := tb, 0.0
		if errors.Is(err, provider.ErrThrottled) {
			bound, minFrac = hb, 0.5
		}
		if bound == backoff.Stop {
			return attempt, giveUp(err, attempt)
		}
		spent = 0
		if c := cost(err); cfg.Budget != nil && c > 0 {
			if !cfg.Budget.spend(c) {
				if cfg.Logger != nil {
					cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "not retrying: the client's retry budget is spent (the cloud is failing most calls)",
						slog.String("provider", cfg.Provider), slog.String("op", cfg.Op),
						slog.Int("attempt", attempt), slog.String("error", err.Error()))
				}
				return attempt, giveUp(err, attempt)
			}
			spent = c
		}
		delay := time.Duration(float64(bound) * minFrac)
		delay += jitter(bound - delay)
		if cfg.OnRetry != nil {
			cfg.OnRetry(provider.RetryEvent{Provider: cfg.Provider, Op: cfg.Op, Attempt: attempt, Delay: delay, Err: err})
		}
		if cfg.Logger != nil {
			cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "retrying",
				slog.String("provider", cfg.Provider), slog.String("op", cfg.Op),
				slog.Int("attempt", attempt), slog.Duration("delay", delay),
				slog.String("error", err.Error()))
		}
		if err := clock.Sleep(ctx, clk, delay); err != nil {
			return attempt, interrupted(err, last)
		}
	}
}

// newBackOff returns the exponential sequence of delay bounds: base, 2*base,
// ... capped at p.MaxDelay, and Stop once p.MaxElapsed has passed on clk.
func newBackOff(base time.Duration, p provider.RetryPolicy, clk clock.Clock, start time.Time) *backoff.ExponentialBackOff {
	// Built after the first failure: only the rest of the budget is left.
	p.MaxElapsed -= clk.Now().Sub(start)
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = time.Nanosecond
	}
	b := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(base),
		backoff.WithMultiplier(2),
		backoff.WithRandomizationFactor(0), // jitter is ours: full jitter, not +-50%
		backoff.WithMaxInterval(p.MaxDelay),
		backoff.WithMaxElapsedTime(p.MaxElapsed),
		backoff.WithClockProvider(clk),
	)
	b.Reset()
	return b
}

func fullJitter(bound time.Duration) time.Duration {
	if bound <= 0 {
		return 0
	}
	return rand.N(bound)
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func interrupted(ctxErr, last error) error {
	if last == nil {
		return ctxErr
	}
	return &provider.InterruptedError{Ctx: ctxErr, Last: last}
}

func giveUp(err error, attempts int) error {
	var e *provider.Error
	if attempts > 1 && errors.As(err, &e) {
		e.Attempts = attempts
	}
	return err
}

// lessQueued is a clock that leaves out the time spent queueing.
type lessQueued struct {
	clock.Clock
	queued func() time.Duration
}

func (c lessQueued) Now() time.Time { return c.Clock.Now().Add(-c.queued()) }
