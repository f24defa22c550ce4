// Package invoke is the path every provider API call takes: validate, wait
// for the rate limit, send one attempt through the SDK, map the error, retry,
// log. The providers supply the SDK call and the error mapping; everything
// else is the same for every provider and lives here.
package invoke

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cloudsnap/rollback/internal/retry"
	"github.com/cloudsnap/rollback/provider"
	"github.com/cloudsnap/rollback/provider/ratelimit"
	"github.com/cloudsnap/rollback/provider/sdkhttp"
)

// Invoker runs API calls for one provider client.
type Invoker struct {
	Provider string
	Options  provider.Options
	// Limits paces the actions for which Limited reports true.
	Limits  *ratelimit.Set
	Limited func(op string) bool
	// MapError turns an SDK error of op into a (redacted) *provider.Error.
	// It is not called for nil errors.
	MapError func(op string, err error) error
	// Recover, when set, turns a panic inside an attempt (the Alibaba SDK
	// panics on some malformed replies) into the SDK-style error it
	// returns, which then goes the way of any failed attempt: MapError,
	// logs, retries. The SDK client of that attempt is not reused. When
	// nil, panics go through.
	Recover func(op string, v any) error
	// Reauth, when set, refreshes credentials that the cloud rejected as
	// expired: an attempt that failed that way is sent once more with new
	// credentials, within the same attempt (not counted as a retry, and
	// under the rate-limit slot of the refused send, which the cloud
	// refused before counting it). Expiry mid-run is not the caller's
	// fault.
	Reauth Reauther

	budgetOnce sync.Once
	budget     *retry.Budget // client-wide; see Options.RetryBudget
}

// Reauther is a client's credential cache as the Invoker sees it.
type Reauther interface {
	// Generation identifies the credentials in use now.
	Generation() uint64
	// Reauth reports whether raw (an attempt's SDK error) says the
	// credentials of generation gen expired, and if so drops them so the
	// next lease fetches new ones.
	Reauth(raw error, gen uint64) bool
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

// Target is what a call acts on, for the hooks (provider.CallInfo): the
// region and the resource IDs the call names.
type Target struct {
	Region, InstanceID, DiskID, SnapshotID string
}

// One returns the ID of a call on one resource, for a Target: ids[0] when
// there is exactly one, else "".
func One(ids []string) string {
	if len(ids) == 1 {
		return ids[0]
	}
	return ""
}

// Call is CallOn without a target.
func Call[C any](ctx context.Context, in *Invoker, pool *sdkhttp.Pool[C], op string, fn Attempt[C]) (requestID string, attempts int, err error) {
	return CallOn(ctx, in, pool, Target{}, op, fn)
}

// CallOn runs op on t with rate limiting, retries and error mapping,
// leasing a client of pool for each attempt, and returns the request ID of
// the successful attempt and the number of attempts sent. It calls fn
// directly (no callback layers in between): see sdkhttp.Pool.Lease for why
// depth matters. The client's provider.CallHooks (Options.Hooks) see the call and each attempt
// (hooks.go); without hooks that costs one check per call.
func CallOn[C any](ctx context.Context, in *Invoker, pool *sdkhttp.Pool[C], t Target, op string, fn Attempt[C]) (requestID string, attempts int, err error) {
	log := in.Options.Logger
	clk := in.Options.Clock
	cfg := retry.Config{
		Policy:   in.Options.Retry,
		Clock:    clk,
		Provider: in.Provider,
		Op:       op,
		OnRetry:  retryHooks(in.Options.OnRetry, provider.RetryHookFromContext(ctx)),
		Logger:   log,
		Budget:   in.retryBudget(),
	}
	var ob *observer // nil unless the client has hooks
	if in.Options.Hooks.CallHooked() {
		ob = observe(ctx, in, t, op, &cfg)
		ctx = ob.ctx
	}
	sent := 0
	var queued time.Duration // waiting for rate-limit slots
	cfg.Queued = func() time.Duration { return queued }
	attempts, err = retry.Do(ctx, cfg, func(ctx context.Context, attempt int) (aerr error) {
		var waited time.Duration
		if in.Limits != nil && (in.Limited == nil || in.Limited(op)) {
			t0 := clk.Now()
			err := in.wait(ctx, op)
			waited = clk.Now().Sub(t0)
			queued += waited
			if err != nil {
				return err
			}
		}
		if ob != nil { // before the lease, so that the SDK's requests carry its context
			ctx = ob.attemptStart(attempt, waited)
			defer func() { ob.attemptDone(aerr, requestID) }()
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
		var gen uint64
		if in.Reauth != nil {
			gen = in.Reauth.Generation()
		}
		id, err := fn(ctx, attempt, client)
		release()
		if err != nil && in.Reauth != nil && ctx.Err() == nil && in.Reauth.Reauth(err, gen) {
			log.LogAttrs(ctx, slog.LevelInfo, "credentials expired: sending again with new ones",
				slog.String("provider", in.Provider), slog.String("op", op), slog.Int("attempt", attempt))
			var lerr error
			if client, release, lerr = pool.Lease(ctx); lerr != nil { // the lease fetches them
				return in.MapError(op, lerr)
			}
			sent++
			id, err = fn(ctx, attempt, client)
			release()
		}
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
	if ob != nil {
		ob.end(requestID, sent, queued, err)
	}
	return requestID, sent, err
}

// wait waits for op's rate limit: the shared Limiter when the client has
// one (the quota holds for the whole deployment), else the client's own.
func (in *Invoker) wait(ctx context.Context, op string) error {
	if l := in.Options.Limiter; l != nil {
		calls, per := in.Limits.Quota()
		if calls <= 0 || per <= 0 {
			return ctx.Err()
		}
		return l.Wait(ctx, provider.LimitedCall{Provider: in.Provider, Op: op, Calls: calls, Per: per})
	}
	return in.Limits.Wait(ctx, op)
}

func isContext(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// retryHooks calls the client's hook and the context's, whichever are set.
func retryHooks(a, b func(provider.RetryEvent)) func(provider.RetryEvent) {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return func(ev provider.RetryEvent) { a(ev); b(ev) }
}
