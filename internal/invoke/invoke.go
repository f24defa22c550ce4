// Package invoke is the path every provider API call takes: validate, wait
// for the rate limit, send one attempt through the SDK, map the error, retry,
// log. The providers supply the SDK call and the error mapping; everything
// else is the same for both clouds and lives here.
package invoke

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cloudsnap/rollback"
	"github.com/cloudsnap/rollback/internal/ratelimit"
	"github.com/cloudsnap/rollback/internal/retry"
	"github.com/cloudsnap/rollback/internal/sdkhttp"
)

// Invoker runs API calls for one provider client.
type Invoker struct {
	Provider string
	Options  rollback.Options
	// Limits paces the actions for which Limited reports true.
	Limits  *ratelimit.Set
	Limited func(op string) bool
	// MapError turns an SDK error of op into a (redacted) *rollback.Error.
	// It is not called for nil errors.
	MapError func(op string, err error) error
	// Recover, when set, turns a panic inside an attempt (the Alibaba SDK
	// panics on some malformed replies) into the SDK-style error it
	// returns, which then goes the way of any failed attempt: MapError,
	// logs, retries. The SDK client of that attempt is not reused. When
	// nil, panics go through.
	Recover func(op string, v any) error

	budgetOnce sync.Once
	budget     *retry.Budget // client-wide; see Options.RetryBudget
}

// retryBudget returns the client's retry budget, made on first use from
// Options.RetryBudget; nil when disabled.
func (in *Invoker) retryBudget() *retry.Budget {
	in.budgetOnce.Do(func() {
		if n := in.Options.RetryBudget; n > 0 {
			in.budget = retry.NewBudget(n)
		}
	})
	return in.budget
}

// Attempt sends one attempt of op with an SDK client leased for it. It
// returns the provider's request ID on success and the SDK's raw error on
// failure.
type Attempt[C any] func(ctx context.Context, attempt int, client C) (requestID string, err error)

// Call runs op with rate limiting, retries and error mapping, leasing a
// client of pool for each attempt, and returns the request ID of the
// successful attempt and the number of attempts sent. It calls fn directly
// (no callback layers in between): see sdkhttp.Pool.Lease for why depth
// matters.
func Call[C any](ctx context.Context, in *Invoker, pool *sdkhttp.Pool[C], op string, fn Attempt[C]) (requestID string, attempts int, err error) {
	log := in.Options.Logger
	clk := in.Options.Clock
	cfg := retry.Config{
		Policy:   in.Options.Retry,
		Clock:    clk,
		Provider: in.Provider,
		Op:       op,
		OnRetry:  retryHooks(in.Options.OnRetry, rollback.RetryHookFromContext(ctx)),
		Logger:   log,
		Budget:   in.retryBudget(),
	}
	sent := 0
	var queued time.Duration // waiting for rate-limit slots
	cfg.Queued = func() time.Duration { return queued }
	attempts, err = retry.Do(ctx, cfg, func(ctx context.Context, attempt int) (aerr error) {
		if in.Limits != nil && (in.Limited == nil || in.Limited(op)) {
			t0 := clk.Now()
			err := in.Limits.Wait(ctx, op)
			queued += clk.Now().Sub(t0)
			if err != nil {
				return err
			}
		}
		client, release, err := pool.Lease(ctx)
		if err != nil {
			return in.MapError(op, err)
		}
		start := clk.Now()
		sent++
		defer func() {
			if in.Recover == nil {
				return
			}
			if v := recover(); v != nil {
				aerr = in.MapError(op, in.Recover(op, v))
				log.LogAttrs(ctx, slog.LevelWarn, "call failed: the SDK panicked",
					slog.String("provider", in.Provider), slog.String("op", op),
					slog.Int("attempt", attempt), slog.String("error", aerr.Error()))
			}
		}()
		id, err := fn(ctx, attempt, client)
		release()
		if err == nil {
			requestID = id
			log.LogAttrs(ctx, slog.LevelDebug, "call",
				slog.String("provider", in.Provider), slog.String("op", op),
				slog.Int("attempt", attempt), slog.String("request_id", id),
				slog.Duration("elapsed", clk.Now().Sub(start)))
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		mapped := in.MapError(op, err)
		log.LogAttrs(ctx, slog.LevelDebug, "call failed",
			slog.String("provider", in.Provider), slog.String("op", op),
			slog.Int("attempt", attempt), slog.Duration("elapsed", clk.Now().Sub(start)),
			slog.String("error", mapped.Error()))
		return mapped
	})
	if err != nil && !isContext(err) {
		log.LogAttrs(ctx, slog.LevelWarn, "call gave up",
			slog.String("provider", in.Provider), slog.String("op", op),
			slog.Int("attempts", attempts), slog.String("error", err.Error()))
	}
	return requestID, sent, err
}

func isContext(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// retryHooks calls the client's hook and the context's, whichever are set.
func retryHooks(a, b func(rollback.RetryEvent)) func(rollback.RetryEvent) {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(ev rollback.RetryEvent) { a(ev); b(ev) }
}
