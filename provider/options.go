package provider

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/cloudsnap/rollback/clock"
)

// Option configures a provider client (aliyun.New, tencent.New).
type Option func(*Options)

// Options is the resolved form of a client's Options. Provider packages read
// it through ResolveOptions; callers set it through the With... functions.
type Options struct {
	// Retry bounds and paces retries of every API call.
	Retry RetryPolicy
	// Logger receives structured logs of calls, retries and errors. Never
	// nil after ResolveOptions (a discarding logger by default). No log
	// line carries credentials or signatures.
	Logger *slog.Logger
	// Clock paces retries, rate limits and waits. Never nil after
	// ResolveOptions (the wall clock by default).
	Clock clock.Clock
	// RateLimit overrides the provider's client-side rate limit of mutating
	// calls; nil keeps the provider default (SWAS 10 per minute per account;
	// Lighthouse 20 per second per API).
	RateLimit *RateLimit
	// Transport is the HTTP transport under the SDK; nil means a tuned
	// default *http.Transport of the client's own.
	Transport http.RoundTripper
	// CallTimeout limits each HTTP attempt (0: 30s).
	CallTimeout time.Duration
	// AllowInsecureHTTP permits an http:// endpoint on a non-loopback host.
	AllowInsecureHTTP bool
	// OnRetry is called before each retry sleep.
	OnRetry func(RetryEvent)
	// ReadGrace is how long after an attempt that may have landed the
	// client waits before trusting a reading that shows nothing (0:
	// DefaultReadGrace; see rollback.WithReadGrace).
	ReadGrace time.Duration
	// Hooks observe every API call (rollback.WithHooks; the zero value: none).
	Hooks CallHooks
	// Limiter, when set, paces the rate-limited calls instead of the
	// client's own limiter (rollback.WithLimiter).
	Limiter Limiter
	// RetryBudget is the capacity of the client-wide retry budget: retries
	// after 5xx replies spend 5 tokens, after timeouts and connection
	// failures 10, and successes put tokens back. Once it is spent, calls
	// make one attempt each until the cloud answers again, so that an
	// outage does not turn a fleet into a retry storm. 0 means
	// DefaultRetryBudget; negative means no budget (every call retries per
	// its RetryPolicy).
	RetryBudget int
}

// RateLimit is a client-side limit: at most Calls calls per Per, with bursts
// up to Calls. A RateLimit with Calls <= 0 disables the limit.
type RateLimit struct {
	Calls int
	Per   time.Duration
}

// RetryPolicy bounds and paces retries. Delays grow exponentially from
// BaseDelay (ThrottleBaseDelay after a throttling error) up to MaxDelay, with
// full jitter: each delay is drawn uniformly between zero and its bound. The
// zero value means the defaults.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts, the first included
	// (0: 5). 1 disables retries.
	MaxAttempts int
	// MaxElapsed bounds the time from the first attempt to the start of the
	// last (0: 2 minutes).
	MaxElapsed time.Duration
	// BaseDelay is the first delay bound after a transient fault (0: 250ms).
	BaseDelay time.Duration
	// ThrottleBaseDelay is the first delay bound after a throttling error
	// (0: 2s).
	ThrottleBaseDelay time.Duration
	// MaxDelay caps every delay (0: 20s).
	MaxDelay time.Duration
}

// Defaults of RetryPolicy and Options.
const (
	DefaultMaxAttempts       = 5
	DefaultMaxElapsed        = 2 * time.Minute
	DefaultBaseDelay         = 250 * time.Millisecond
	DefaultThrottleBaseDelay = 2 * time.Second
	DefaultMaxDelay          = 20 * time.Second
	DefaultCallTimeout       = 30 * time.Second
	// DefaultRetryBudget is the AWS SDK's default retry quota: 100 retries
	// after 5xx replies (50 after timeouts) beyond what successes refill.
	DefaultRetryBudget = 500
)

// WithDefaults returns p with every zero field set to its default.
func (p RetryPolicy) WithDefaults() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.MaxElapsed <= 0 {
		p.MaxElapsed = DefaultMaxElapsed
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.ThrottleBaseDelay <= 0 {
		p.ThrottleBaseDelay = DefaultThrottleBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	if p.ThrottleBaseDelay > p.MaxDelay {
		p.ThrottleBaseDelay = p.MaxDelay
	}
	if p.BaseDelay > p.MaxDelay {
		p.BaseDelay = p.MaxDelay
	}
	return p
}

// RetryEvent describes one retry, given to Options.OnRetry before the sleep.
type RetryEvent struct {
	Provider string
	Op       string        // API action
	Attempt  int           // the attempt that failed, 1-based
	Delay    time.Duration // the sleep before the next attempt
	Err      error         // why it failed
}

// ResolveOptions applies opts over the defaults.
func ResolveOptions(opts ...Option) Options {
	var o Options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	o.Retry = o.Retry.WithDefaults()
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Clock = clock.Or(o.Clock)
	if o.CallTimeout <= 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.ReadGrace <= 0 {
		o.ReadGrace = DefaultReadGrace
	}
	if o.RetryBudget == 0 {
		o.RetryBudget = DefaultRetryBudget
	}
	return o
}
